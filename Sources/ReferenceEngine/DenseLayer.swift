import ModelFormat

/// `y = f(z)`, `z = x·W + b`, with `W` of shape `[inputWidth, units]` and `b` of shape `[units]`.
/// Keras adds the bias after the product (not as GEMM's starting value), which is what this does too.
final class DenseLayer<T: EngineScalar>: NetworkLayer {
    let config: DenseConfig
    let kernel: Int
    let bias: Int?
    private var input = Matrix<T>(zeros: 0, 0)
    private var preActivation = Matrix<T>(zeros: 0, 0)
    private var output = Matrix<T>(zeros: 0, 0)

    init(config: DenseConfig, kernel: Int, bias: Int?) {
        self.config = config; self.kernel = kernel; self.bias = bias
    }

    func forward(_ x: Matrix<T>, parameters: ParameterSet<T>, mode: ForwardMode) -> Matrix<T> {
        let w = Matrix(rows: x.cols, cols: config.units, data: parameters.values[kernel])
        var z = matmul(x, w)
        if let bias {
            let columns = z.cols
            parameters.values[bias].withUnsafeBufferPointer { b in
                z.data.withUnsafeMutableBufferPointer { zp in
                    for r in 0..<(zp.count / max(columns, 1)) { for c in 0..<columns { zp[r * columns + c] += b[c] } }
                }
            }
        }
        let y = ActivationFunction.forward(config.activation, z)
        if case .training = mode { input = x; preActivation = z; output = y }
        return y
    }

    func backward(_ dy: Matrix<T>, parameters: ParameterSet<T>) -> Matrix<T> {
        backward(dy, parameters: parameters, needsInputGradient: true)
    }

    func backward(_ dy: Matrix<T>, parameters: ParameterSet<T>, needsInputGradient: Bool) -> Matrix<T> {
        // Through the activation: dL/dz = f'(z) ⊙ dL/dy.
        let dz = ActivationFunction.backward(config.activation, x: preActivation, y: output, dy: dy)
        // dL/dW = xᵀ·dz (each weight's gradient summed over the batch).
        parameters.gradients[kernel] = matmul(input, dz, transA: true).data
        // dL/db = Σ over the batch of dz.
        if let bias {
            var db = [T](repeating: 0, count: config.units)
            db.withUnsafeMutableBufferPointer { db in
                dz.data.withUnsafeBufferPointer { dz in
                    for r in 0..<(dz.count / db.count) { for c in 0..<db.count { db[c] += dz[r * db.count + c] } }
                }
            }
            parameters.gradients[bias] = db
        }
        // dL/dx = dz·Wᵀ.
        guard needsInputGradient else { return Matrix(zeros: 0, 0) }
        let w = Matrix(rows: input.cols, cols: config.units, data: parameters.values[kernel])
        return matmul(dz, w, transB: true)
    }
}

/// A standalone activation, `y = f(x)`.
final class ActivationLayer<T: EngineScalar>: NetworkLayer {
    let activation: Activation
    private var input = Matrix<T>(zeros: 0, 0)
    private var output = Matrix<T>(zeros: 0, 0)

    init(activation: Activation) { self.activation = activation }

    func forward(_ x: Matrix<T>, parameters: ParameterSet<T>, mode: ForwardMode) -> Matrix<T> {
        let y = ActivationFunction.forward(activation, x)
        if case .training = mode { input = x; output = y }
        return y
    }

    func backward(_ dy: Matrix<T>, parameters: ParameterSet<T>) -> Matrix<T> {
        ActivationFunction.backward(activation, x: input, y: output, dy: dy)
    }
}

/// Inverted dropout: in training each element is kept with probability `p = 1 − rate` and scaled by `1/p`
/// (`y = x/p` where kept, 0 elsewhere, as JAX's dropout computes it); at inference, and at rate 0, the identity.
/// The mask comes from the counter-based RNG keyed by (seed, step, layer index).
final class DropoutLayer<T: EngineScalar>: NetworkLayer {
    let rate: Double
    let layerIndex: Int
    private var keep: [Bool] = []
    private var active = false

    init(rate: Double, layerIndex: Int) { self.rate = rate; self.layerIndex = layerIndex }

    func forward(_ x: Matrix<T>, parameters: ParameterSet<T>, mode: ForwardMode) -> Matrix<T> {
        // Inference writes nothing, so that several threads may run one network forward at once.
        guard case .training(let step, let rng) = mode else { return x }
        guard rate > 0 else { active = false; return x }
        let keepProbability = T(1 - rate)
        keep = rng.dropoutKeep(count: x.data.count, step: step, layerIndex: layerIndex, keepProbability: keepProbability)
        active = true
        var y = x
        for i in 0..<y.data.count { y.data[i] = keep[i] ? x.data[i] / keepProbability : 0 }
        return y
    }

    func backward(_ dy: Matrix<T>, parameters: ParameterSet<T>) -> Matrix<T> {
        guard active else { return dy }
        // y = x/p where kept, so dL/dx = dL/dy / p there and 0 elsewhere.
        let keepProbability = T(1 - rate)
        var dx = dy
        for i in 0..<dx.data.count { dx.data[i] = keep[i] ? dy.data[i] / keepProbability : 0 }
        return dx
    }
}
