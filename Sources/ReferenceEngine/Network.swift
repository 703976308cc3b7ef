import ModelFormat

/// A model's layers and parameters in one precision, ready to run forward and backward.
final class Network<T: EngineScalar> {
    let architecture: Architecture
    let parameters: ParameterSet<T>
    let layers: [any NetworkLayer<T>]

    init(model: Model) throws {
        architecture = model.architecture
        let parameters = try ParameterSet<T>(model: model)
        self.parameters = parameters
        var layers: [any NetworkLayer<T>] = []
        let rank = model.architecture.inputShape.count
        for (i, layer) in model.architecture.layers.enumerated() {
            func position(_ name: String) throws -> Int {
                guard let p = parameters.position(layer.name, name) else { throw ModelError.missingTensor("\(layer.name)/\(name)") }
                return p
            }
            switch layer.kind {
            case .dense(let c):
                layers.append(DenseLayer<T>(config: c, kernel: try position("kernel"), bias: c.useBias ? try position("bias") : nil))
            case .activation(let a):
                layers.append(ActivationLayer<T>(activation: a))
            case .dropout(let rate):
                guard rate >= 0, rate < 1 else { throw ModelError.invalidValue(field: "\(layer.name).rate", message: "must be in [0, 1), got \(rate)") }
                layers.append(DropoutLayer<T>(rate: rate, layerIndex: i))
            case .batchNormalization(let c):
                guard c.axis == -1 || c.axis == rank else {
                    throw ModelError.unsupported("batch normalization over axis \(c.axis) in layer '\(layer.name)' (only the last axis)")
                }
                layers.append(BatchNormLayer<T>(config: c, gamma: c.scale ? try position("gamma") : nil,
                                                beta: c.center ? try position("beta") : nil,
                                                movingMean: try position("moving_mean"), movingVariance: try position("moving_variance")))
            case .layerNormalization(let c):
                layers.append(LayerNormLayer<T>(config: c, gamma: c.scale ? try position("gamma") : nil,
                                                beta: c.center ? try position("beta") : nil))
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
    /// leaving dL/d(its parameters) in `parameters.gradients`. Call after a training-mode `forward`.
    func backward(_ dOutput: Matrix<T>) {
        for i in parameters.gradients.indices { parameters.gradients[i] = [T](repeating: 0, count: parameters.values[i].count) }
        var d = dOutput
        for layer in layers.reversed() { d = layer.backward(d, parameters: parameters) }
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
