/// ModelKit's random numbers are counter-based: every draw is a pure function of the run's seed and of counters
/// the training state already holds (the epoch for the shuffle order, the step and layer for a dropout mask). The
/// stored RNG state is therefore just the seed, never advanced, and a run resumed from any checkpoint draws exactly
/// what an uninterrupted run draws. Algorithm name in files: `modelkit-counter-v1` (spec/engine.md, "Random numbers").
public struct CounterRNG: Sendable, Hashable {
    public static let algorithm = "modelkit-counter-v1"
    public var seed: UInt64
    public init(seed: UInt64) { self.seed = seed }

    /// What purpose a stream serves; part of its key so that streams never overlap.
    enum Purpose: UInt64 { case shuffle = 1, dropout = 2, verifyInputs = 3 }

    /// The key of one stream: SplitMix64's finaliser folded over (seed, purpose, counters...).
    static func key(seed: UInt64, purpose: Purpose, _ counters: UInt64...) -> UInt64 {
        var h = mix(seed ^ 0x6a09_e667_f3bc_c908)
        h = mix(h ^ purpose.rawValue)
        for c in counters { h = mix(h ^ c) }
        return h
    }

    /// SplitMix64's output function (Steele, Lea, Flood 2014; Vigna's `splitmix64.c`).
    @inline(__always) static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    static let golden: UInt64 = 0x9e37_79b9_7f4a_7c15

    /// The order of the samples in epoch `epoch` (0-based): Fisher–Yates driven by SplitMix64 seeded with the
    /// stream key; `j` is the high word of `next·(i+1)` (Lemire's multiply-shift, bias below 2⁻⁴⁰ for any n < 2²⁴).
    public func permutation(count: Int, epoch: Int64) -> [Int] {
        var order = Array(0..<count)
        var state = CounterRNG.key(seed: seed, purpose: .shuffle, UInt64(bitPattern: epoch))
        var i = count - 1
        while i > 0 {
            state &+= CounterRNG.golden
            let word = CounterRNG.mix(state)
            let j = Int(word.multipliedFullWidth(by: UInt64(i + 1)).high)
            order.swapAt(i, j)
            i -= 1
        }
        return order
    }

    /// Keep-mask of `count` elements for the Dropout layer at `layerIndex` in optimizer step `step` (0-based):
    /// element `i` draws `u = SplitMix64 output i` of that stream as a uniform in [0, 1) (24 bits for f32, 53 for
    /// f64) and is kept when `u < 1 − rate`.
    func dropoutKeep<T: EngineScalar>(count: Int, step: Int64, layerIndex: Int, keepProbability: T) -> [Bool] {
        let stream = CounterRNG.key(seed: seed, purpose: .dropout, UInt64(bitPattern: step), UInt64(layerIndex))
        var keep = [Bool](repeating: false, count: count)
        for i in 0..<count {
            let word = CounterRNG.mix(stream &+ CounterRNG.golden &* UInt64(i + 1))
            keep[i] = CounterRNG.uniform(word, as: T.self) < keepProbability
        }
        return keep
    }

    /// `count` uniforms in [lower, upper) from stream `counter` of purpose `purpose` (for seeded test inputs).
    public func uniforms(count: Int, counter: UInt64, lower: Double, upper: Double) -> [Double] {
        let stream = CounterRNG.key(seed: seed, purpose: .verifyInputs, counter)
        return (0..<count).map { i in
            let u: Double = CounterRNG.uniform(CounterRNG.mix(stream &+ CounterRNG.golden &* UInt64(i + 1)), as: Double.self)
            return lower + (upper - lower) * u
        }
    }

    @inline(__always) static func uniform<T: EngineScalar>(_ word: UInt64, as: T.Type) -> T {
        if T.significandBitCount <= 23 { return T(word >> 40) * T(1.0 / 16_777_216.0) }
        return T(word >> 11) * T(1.0 / 9_007_199_254_740_992.0)
    }
}
