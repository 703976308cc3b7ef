import ModelFormat

/// A model's parameters in one precision, in canonical order (`architecture.parameters`), each with the gradient of
/// the last backward pass. Layers address their parameters by index.
final class ParameterSet<T: EngineScalar> {
    let specs: [ParameterSpec]
    var values: [[T]]
    var gradients: [[T]]
    let index: [String: Int]

    init(model: Model, architecture: Architecture) throws {
        specs = architecture.parameters
        var values: [[T]] = []
        for spec in specs {
            guard let tensor = model.weights[spec.fullName] else { throw ModelError.missingTensor(spec.fullName) }
            guard tensor.shape == spec.shape else {
                throw ModelError.shapeMismatch(name: spec.fullName, expected: spec.shape, detail: "found \(tensor.shape)")
            }
            guard tensor.dtype.isFloatingPoint else {
                throw ModelError.unknownDType(tensor.dtype.rawValue, location: "tensor '\(spec.fullName)' (weights must be floating point)")
            }
            values.append(T.values(of: tensor))
        }
        self.values = values
        gradients = values.map { [T](repeating: 0, count: $0.count) }
        index = Dictionary(uniqueKeysWithValues: specs.enumerated().map { ($1.fullName, $0) })
    }

    func position(_ layer: String, _ name: String) -> Int? { index["\(layer)/\(name)"] }

    /// The weights as tensors of this precision's dtype, keyed by full name.
    func tensors() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (i, spec) in specs.enumerated() { out[spec.fullName] = T.tensor(values[i], shape: spec.shape) }
        return out
    }
}

/// How a forward pass runs: at inference (Dropout is the identity, BatchNormalization uses its moving statistics),
/// or in training step `step` (0-based), which keys the Dropout masks.
enum ForwardMode {
    case inference
    case training(step: Int64, rng: CounterRNG)
}

/// One layer of the network. `forward` keeps what `backward` needs; `backward` takes dL/d(output), adds
/// dL/d(parameter) into the parameter set's gradients, and returns dL/d(input).
protocol NetworkLayer<T>: AnyObject {
    associatedtype T: EngineScalar
    func forward(_ x: Matrix<T>, parameters: ParameterSet<T>, mode: ForwardMode) -> Matrix<T>
    func backward(_ dy: Matrix<T>, parameters: ParameterSet<T>) -> Matrix<T>
}
