import ModelFormat

/// Models for the format tests: every layer kind, optimizer state, training state and metadata, with tensor values
/// drawn from random bit patterns plus the values that break naive printing and parsing (signed zeros, subnormals,
/// the largest finite values, infinities and NaN).
enum TestModels {
    static let architecture = Architecture(inputShape: [5], layers: [
        Layer(name: "dense", kind: .dense(DenseConfig(units: 4, activation: .relu))),
        Layer(name: "batch_normalization", kind: .batchNormalization(BatchNormalizationConfig(momentum: 0.9, epsilon: 0.001))),
        Layer(name: "dropout", kind: .dropout(rate: 0.25)),
        Layer(name: "dense_1", kind: .dense(DenseConfig(units: 3, activation: .gelu(approximate: false)))),
        Layer(name: "layer_normalization", kind: .layerNormalization(LayerNormalizationConfig(epsilon: 1e-5))),
        Layer(name: "dense_2", kind: .dense(DenseConfig(units: 2, activation: .softmax, useBias: false))),
    ])

    /// Bit patterns of `dtype` (one element per pattern), special values first, then pseudo-random ones.
    /// NaNs are the canonical quiet NaN of the dtype: text formats write every NaN as "NaN".
    static func tensor(_ dtype: DType, shape: [Int], seed: UInt64) -> Tensor {
        let count = shape.reduce(1, *)
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        var bytes: [UInt8] = []
        switch dtype {
        case .f32:
            let special: [Float] = [-0.0, .leastNonzeroMagnitude, -.greatestFiniteMagnitude, .infinity, .nan, 0.1, Float("1e-40")!]
            var v = Array(special.prefix(count))
            while v.count < count { let f = Float(bitPattern: UInt32(truncatingIfNeeded: next())); v.append(f.isNaN ? 1.5 : f) }
            bytes = v.withUnsafeBytes { Array($0) }
        case .f64:
            let special: [Double] = [-0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.infinity, .nan, 0.1, Double("1e-310")!]
            var v = Array(special.prefix(count))
            while v.count < count { let d = Double(bitPattern: next()); v.append(d.isNaN ? 2.5 : d) }
            bytes = v.withUnsafeBytes { Array($0) }
        case .f16, .bf16:
            let special: [UInt16] = dtype == .f16 ? [0x8000, 0x0001, 0x7BFF, 0xFC00, 0x7E00, 0x03FF, 0x3555]
                                                  : [0x8000, 0x0001, 0x7F7F, 0xFF80, 0x7FC0, 0x007F, 0x3DCD]
            var v = Array(special.prefix(count))
            while v.count < count {
                let b = UInt16(truncatingIfNeeded: next())
                let isNaN = dtype == .f16 ? (b & 0x7C00 == 0x7C00 && b & 0x3FF != 0) : (b & 0x7F80 == 0x7F80 && b & 0x7F != 0)
                v.append(isNaN ? 0x3C00 : b)
            }
            bytes = v.withUnsafeBytes { Array($0) }
        default:
            bytes = (0..<(count * dtype.byteSize)).map { _ in UInt8(truncatingIfNeeded: next()) }
            if dtype == .bool { bytes = bytes.map { $0 & 1 } }
        }
        return try! Tensor(dtype: dtype, shape: shape, bytes: bytes)
    }

    static func weights(_ dtype: DType, seed: UInt64 = 1) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (i, p) in architecture.parameters.enumerated() { out[p.fullName] = tensor(dtype, shape: p.shape, seed: seed + UInt64(i)) }
        return out
    }

    /// Weights only.
    static func plain(_ dtype: DType) -> Model { Model(architecture: architecture, weights: weights(dtype)) }

    /// Weights, Adam (AMSGrad) slots for every trainable parameter, training state and typed metadata.
    static func checkpoint(_ dtype: DType) -> Model {
        var slots: [String: [String: Tensor]] = [:]
        for (i, p) in architecture.parameters.enumerated() where p.trainable {
            for (j, slot) in ["momentum", "velocity", "velocity_hat"].enumerated() {
                slots[p.fullName, default: [:]][slot] = tensor(dtype, shape: p.shape, seed: 100 + UInt64(i * 3 + j))
            }
        }
        let optimizer = OptimizerState(config: .adam(AdamConfig(learningRate: 0.0010000000474974513, amsgrad: true)), iteration: 17,
                                       slots: slots)
        let training = TrainingState(loss: Loss(kind: .categoricalCrossentropy), epoch: 2, step: 17, batchSize: 8, shuffle: true,
                                     rng: RNGState(algorithm: "splitmix64", state: [UInt64.max, 7]), positionInEpoch: 3,
                                     lossHistory: [0.75, 1e-300, 0.3333333333333333])
        let metadata: Metadata = ["name": .string("test \"model\" ✓"), "n": .integer(-3), "x": .float(-0.0),
                                  "list": .array([.bool(true), .float(.infinity)]), "m": .map(["k": .string("v")])]
        return Model(architecture: architecture, weights: weights(dtype), optimizer: optimizer, training: training, metadata: metadata)
    }
}
