import ModelFormat

/// A model's layers and parameters in one precision, ready to run forward and backward.
final class Network<T: EngineScalar> {
    let architecture: Architecture
    let parameters: ParameterSet<T>
    let layers: [LayerBox<T>]

    init(model: Model) throws {
        architecture = try model.runnableArchitecture()
        let parameters = try ParameterSet<T>(model: model, architecture: architecture)
        self.parameters = parameters
        var layers: [LayerBox<T>] = []
        let rank = architecture.inputShape.count
        for (i, layer) in architecture.layers.enumerated() {
            func position(_ name: String) throws -> Int {
                guard let p = parameters.position(layer.name, name) else { throw ModelError.missingTensor("\(layer.name)/\(name)") }
                return p
            }
            switch layer.kind {
            case .dense(let c):
                layers.append(.dense(DenseLayer<T>(config: c, kernel: try position("kernel"), bias: c.useBias ? try position("bias") : nil)))
            case .activation(let a):
                layers.append(.activation(ActivationLayer<T>(activation: a)))
            case .dropout(let rate):
                guard rate >= 0, rate < 1 else { throw ModelError.invalidValue(field: "\(layer.name).rate", message: "must be in [0, 1), got \(rate)") }
                layers.append(.dropout(DropoutLayer<T>(rate: rate, layerIndex: i)))
            case .batchNormalization(let c):
                guard c.axis == -1 || c.axis == rank else {
                    throw ModelError.unsupported("batch normalization over axis \(c.axis) in layer '\(layer.name)' (only the last axis)")
                }
                layers.append(.batchNormalization(BatchNormLayer<T>(config: c, gamma: c.scale ? try position("gamma") : nil,
                                                                     beta: c.center ? try position("beta") : nil,
                                                                     movingMean: try position("moving_mean"),
                                                                     movingVariance: try position("moving_variance"))))
            case .layerNormalization(let c):
                layers.append(.layerNormalization(LayerNormLayer<T>(config: c, gamma: c.scale ? try position("gamma") : nil,
                                                                     beta: c.center ? try position("beta") : nil)))
            }
        }
        self.layers = layers
    }

    /// Rows of the flattened matrix per sample (the product of the input shape's leading axes).
    var rowsPerSample: Int { architecture.inputShape.dropLast().reduce(1, *) }

    func forward(_ x: Matrix<T>, mode: ForwardMode) -> Matrix<T> {
        var h = x
        for layer in layers { h = layer.forward(h, parameters: parameters, mode: mode) }
        return h
    }

    /// Backpropagation: the layers in reverse order, each turning dL/d(its output) into dL/d(its input) and
    /// storing dL/d(its trainable parameters) in `parameters.gradients` (every layer with trainable parameters
    /// overwrites all of its gradients). Call after a training-mode `forward`.
    func backward(_ dOutput: Matrix<T>) {
        var d = dOutput
        for (i, layer) in layers.enumerated().reversed() {
            // Nothing needs dL/d(input) of the first layer: a Dense layer skips that product (a third of its work).
            d = layer.backward(d, parameters: parameters, needsInputGradient: i > 0)
        }
    }

    /// The samples in `values` (row-major, `rows` samples of `inputShape`) as a matrix, checking the size.
    func inputMatrix(_ values: [T], rows: Int) throws -> Matrix<T> {
        let width = architecture.inputWidth
        let perSample = architecture.inputShape.reduce(1, *)
        guard rows >= 0, values.count == rows * perSample else {
            throw ModelError.shapeMismatch(name: "input", expected: [rows] + architecture.inputShape,
                                           detail: "got \(values.count) values, expected \(rows) × \(perSample)")
        }
        return Matrix(rows: rows * rowsPerSample, cols: width, data: values)
    }
}

/// The layers of a network, one case per kind. An enum rather than `any NetworkLayer<T>`: calls through an
/// existential reach the unspecialised generic code (measured: 7× slower), a switch calls the specialised one.
enum LayerBox<T: EngineScalar> {
    case dense(DenseLayer<T>)
    case activation(ActivationLayer<T>)
    case dropout(DropoutLayer<T>)
    case batchNormalization(BatchNormLayer<T>)
    case layerNormalization(LayerNormLayer<T>)

    func forward(_ x: Matrix<T>, parameters: ParameterSet<T>, mode: ForwardMode) -> Matrix<T> {
        switch self {
        case .dense(let l): return l.forward(x, parameters: parameters, mode: mode)
        case .activation(let l): return l.forward(x, parameters: parameters, mode: mode)
        case .dropout(let l): return l.forward(x, parameters: parameters, mode: mode)
        case .batchNormalization(let l): return l.forward(x, parameters: parameters, mode: mode)
        case .layerNormalization(let l): return l.forward(x, parameters: parameters, mode: mode)
        }
    }

    func backward(_ dy: Matrix<T>, parameters: ParameterSet<T>, needsInputGradient: Bool) -> Matrix<T> {
        switch self {
        case .dense(let l): return l.backward(dy, parameters: parameters, needsInputGradient: needsInputGradient)
        case .activation(let l): return l.backward(dy, parameters: parameters)
        case .dropout(let l): return l.backward(dy, parameters: parameters)
        case .batchNormalization(let l): return l.backward(dy, parameters: parameters)
        case .layerNormalization(let l): return l.backward(dy, parameters: parameters)
        }
    }
}
