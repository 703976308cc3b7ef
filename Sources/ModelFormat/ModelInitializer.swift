/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, well-mixed 64-bit generator whose whole state is one word,
/// so it can be stored and resumed exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

/// New models with Keras's default initialisation: Glorot-uniform kernels, zero biases, γ = 1, β = 0, moving mean 0
/// and moving variance 1. The same seed always gives the same bytes.
public enum ModelInitializer {
    public static func initialize(architecture: Architecture, seed: UInt64, dtype: DType = .f32) -> Model {
        var rng = SplitMix64(seed: seed)
        var weights: [String: Tensor] = [:]
        for p in architecture.parameters {
            let count = p.shape.reduce(1, *)
            var values = [Double](repeating: 0, count: count)
            switch p.shortName {
            case "kernel":
                // Glorot uniform: U(−l, l) with l = sqrt(6 / (fan_in + fan_out)).
                let limit = (6.0 / Double(p.shape[0] + p.shape[1])).squareRoot()
                for i in 0..<count { values[i] = (rng.nextUnit() * 2 - 1) * limit }
            case "gamma", "moving_variance":
                values = [Double](repeating: 1, count: count)
            default:
                break
            }
            weights[p.fullName] = Tensor.fromDoubles(values, dtype: dtype, shape: p.shape)
        }
        return Model(architecture: architecture, weights: weights)
    }
}
