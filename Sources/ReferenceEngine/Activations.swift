import ModelFormat

/// The activation functions, forward and backward, in the arithmetic Keras 3 uses on the JAX backend
/// (see spec/engine.md, "Activations"). Every function acts elementwise except softmax, which acts on each row.
enum ActivationFunction {
    /// `y = f(x)`.
    static func forward<T: EngineScalar>(_ activation: Activation, _ x: Matrix<T>) -> Matrix<T> {
        var y = x
        switch activation {
        case .linear:
            break
        case .relu:
            y.data = x.data.map { $0 > 0 ? $0 : 0 }
        case .sigmoid:
            y.data = x.data.map(sigmoid)
        case .tanh:
            y.data = x.data.map { T.tanh($0) }
        case .softmax:
            softmaxRows(&y)
        case .leakyRelu(let slope):
            let s = T(slope)
            y.data = x.data.map { $0 >= 0 ? $0 : s * $0 }
        case .elu(let alpha):
            let a = T(alpha)
            y.data = x.data.map { $0 > 0 ? $0 : a * T.expm1($0) }
        case .selu:
            let a = T(seluAlpha), s = T(seluScale)
            y.data = x.data.map { s * ($0 > 0 ? $0 : a * T.expm1($0)) }
        case .gelu(let approximate):
            y.data = approximate ? x.data.map(geluTanh) : x.data.map(geluExact)
        case .softplus:
            y.data = x.data.map(softplus)
        case .silu:
            y.data = x.data.map { $0 * sigmoid($0) }
        }
        return y
    }

    /// `dL/dx` from `dL/dy`, given the input `x` and output `y` of the forward pass.
    static func backward<T: EngineScalar>(_ activation: Activation, x: Matrix<T>, y: Matrix<T>, dy: Matrix<T>) -> Matrix<T> {
        var dx = dy
        let n = dy.data.count
        switch activation {
        case .linear:
            break
        case .relu:
            // f'(0) = 0, as JAX's relu defines it. (Through pointers: this loop runs on every training step.)
            x.data.withUnsafeBufferPointer { xs in
                dx.data.withUnsafeMutableBufferPointer { d in
                    for i in 0..<n where !(xs[i] > 0) { d[i] = 0 }
                }
            }
        case .sigmoid:
            for i in 0..<n { dx.data[i] = dy.data[i] * y.data[i] * (1 - y.data[i]) }
        case .tanh:
            for i in 0..<n { dx.data[i] = dy.data[i] * (1 - y.data[i] * y.data[i]) }
        case .softmax:
            // Jacobian of a row: diag(y) − y·yᵀ, so dx = y ⊙ (dy − ⟨dy, y⟩).
            for r in 0..<dy.rows {
                let base = r * dy.cols
                var dot: T = 0
                for c in 0..<dy.cols { dot += dy.data[base + c] * y.data[base + c] }
                for c in 0..<dy.cols { dx.data[base + c] = y.data[base + c] * (dy.data[base + c] - dot) }
            }
        case .leakyRelu(let slope):
            // f'(0) = 1: JAX's leaky_relu is where(x >= 0, x, slope·x).
            let s = T(slope)
            for i in 0..<n { dx.data[i] = x.data[i] >= 0 ? dy.data[i] : s * dy.data[i] }
        case .elu(let alpha):
            // For x ≤ 0: d/dx α·(eˣ − 1) = α·eˣ.
            let a = T(alpha)
            for i in 0..<n { dx.data[i] = x.data[i] > 0 ? dy.data[i] : dy.data[i] * a * T.exp(x.data[i]) }
        case .selu:
            let a = T(seluAlpha), s = T(seluScale)
            for i in 0..<n { dx.data[i] = x.data[i] > 0 ? s * dy.data[i] : dy.data[i] * s * a * T.exp(x.data[i]) }
        case .gelu(let approximate):
            for i in 0..<n { dx.data[i] = dy.data[i] * (approximate ? geluTanhDerivative(x.data[i]) : geluExactDerivative(x.data[i])) }
        case .softplus:
            // d/dx log(1 + eˣ) = sigmoid(x).
            for i in 0..<n { dx.data[i] = dy.data[i] * sigmoid(x.data[i]) }
        case .silu:
            // d/dx x·s(x) = s + x·s·(1 − s).
            for i in 0..<n {
                let s = sigmoid(x.data[i])
                dx.data[i] = dy.data[i] * (s + x.data[i] * s * (1 - s))
            }
        }
        return dx
    }

    /// SELU's constants at full precision (Klambauer et al. 2017; the values JAX and Keras use).
    static let seluAlpha = 1.6732632423543772848170429916717
    static let seluScale = 1.0507009873554804934193349852946

    @inline(__always) static func sigmoid<T: EngineScalar>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }

    /// `logaddexp(x, 0) = max(x, 0) + log1p(exp(−|x|))`, which never overflows.
    @inline(__always) static func softplus<T: EngineScalar>(_ x: T) -> T { max(x, 0) + T.log1p(T.exp(-abs(x))) }

    /// Exact GELU, `x·Φ(x) = ½·x·erfc(−x/√2)` (JAX's `approximate=False`).
    @inline(__always) static func geluExact<T: EngineScalar>(_ x: T) -> T {
        T(0.5) * x * T.erfc(-x * T(0.5.squareRoot()))
    }

    /// `Φ(x) + x·φ(x)`, with `φ(x) = e^(−x²/2)/√(2π)`.
    @inline(__always) static func geluExactDerivative<T: EngineScalar>(_ x: T) -> T {
        let cdf = T(0.5) * T.erfc(-x * T(0.5.squareRoot()))
        let pdf = T.exp(-x * x / 2) * T(1 / (2 * Double.pi).squareRoot())
        return cdf + x * pdf
    }

    /// Tanh-approximated GELU, `½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    @inline(__always) static func geluTanh<T: EngineScalar>(_ x: T) -> T {
        let inner = T((2 / Double.pi).squareRoot()) * (x + T(0.044715) * (x * x * x))
        return x * (T(0.5) * (1 + T.tanh(inner)))
    }

    @inline(__always) static func geluTanhDerivative<T: EngineScalar>(_ x: T) -> T {
        let c = T((2 / Double.pi).squareRoot())
        let inner = c * (x + T(0.044715) * (x * x * x))
        let t = T.tanh(inner)
        let dInner = c * (1 + 3 * T(0.044715) * x * x)
        return T(0.5) * (1 + t) + x * T(0.5) * (1 - t * t) * dInner
    }

    /// `exp(x − max) / Σ exp(x − max)` per row, as jax.nn.softmax computes it.
    static func softmaxRows<T: EngineScalar>(_ m: inout Matrix<T>) {
        for r in 0..<m.rows {
            let base = r * m.cols
            var largest = -T.infinity
            for c in 0..<m.cols { largest = max(largest, m.data[base + c]) }
            var sum: T = 0
            for c in 0..<m.cols {
                let e = T.exp(m.data[base + c] - largest)
                m.data[base + c] = e
                sum += e
            }
            for c in 0..<m.cols { m.data[base + c] = m.data[base + c] / sum }
        }
    }
}
