import ModelFormat
@testable import ReferenceEngine

/// A small deterministic generator for test data (not the engine's RNG, so tests do not lean on what they test).
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &+ 0x1234_5678 }
    mutating func next() -> Double {
        // xorshift64*
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return Double((state &* 2_685_821_657_736_338_717) >> 11) / 9_007_199_254_740_992.0
    }
    mutating func uniform(_ lower: Double, _ upper: Double) -> Double { lower + (upper - lower) * next() }
    mutating func values(_ count: Int, _ lower: Double = -1, _ upper: Double = 1) -> [Double] {
        (0..<count).map { _ in uniform(lower, upper) }
    }
}

/// A model of `architecture` with weights drawn uniformly in [-0.8, 0.8] (moving variances in [0.5, 1.5]).
func randomModel(_ architecture: Architecture, dtype: DType, seed: UInt64) -> Model {
    var random = TestRandom(seed)
    var weights: [String: Tensor] = [:]
    for spec in architecture.parameters {
        let n = spec.shape.reduce(1, *)
        let values = spec.shortName == "moving_variance" || spec.shortName == "gamma" ? random.values(n, 0.5, 1.5) : random.values(n, -0.8, 0.8)
        weights[spec.fullName] = Tensor.fromDoubles(values, dtype: dtype, shape: spec.shape)
    }
    return Model(architecture: architecture, weights: weights)
}

func dense(_ name: String, _ units: Int, _ activation: Activation = .linear, bias: Bool = true) -> Layer {
    Layer(name: name, kind: .dense(DenseConfig(units: units, activation: activation, useBias: bias)))
}
