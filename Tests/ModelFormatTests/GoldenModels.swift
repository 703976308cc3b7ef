import ModelFormat

/// The models behind the golden files in Fixtures/mkf/v1/, with hand-chosen values so that the tests can state
/// them literally. They were written once, with `MKFFile.write(model, path:)`, when
/// version 1.0 was released; the files are never regenerated.
enum GoldenModels {
    static let denseF32 = Model(
        architecture: Architecture(inputShape: [3], layers: [
            Layer(name: "dense", kind: .dense(DenseConfig(units: 2, activation: .relu))),
            Layer(name: "dense_1", kind: .dense(DenseConfig(units: 1, activation: .sigmoid))),
        ]),
        weights: [
            "dense/kernel": Tensor([0.5, -1.0, 0.25, 2.0, -0.125, 1.5] as [Float], shape: [3, 2]),
            "dense/bias": Tensor([0.1, -0.2] as [Float], shape: [2]),
            "dense_1/kernel": Tensor([1.0, -0.5] as [Float], shape: [2, 1]),
            "dense_1/bias": Tensor([0.0] as [Float], shape: [1]),
        ])

    static let checkpointF64: Model = {
        let architecture = Architecture(inputShape: [2], layers: [
            Layer(name: "dense", kind: .dense(DenseConfig(units: 2, activation: .tanh))),
            Layer(name: "batch_normalization", kind: .batchNormalization(BatchNormalizationConfig(momentum: 0.9, epsilon: 0.001))),
            Layer(name: "dropout", kind: .dropout(rate: 0.5)),
            Layer(name: "dense_1", kind: .dense(DenseConfig(units: 1, activation: .leakyRelu(negativeSlope: 0.2), useBias: false))),
        ])
        let weights: [String: Tensor] = [
            "dense/kernel": Tensor([1.5, -2.25, 0.0, -0.0] as [Double], shape: [2, 2]),
            "dense/bias": Tensor([0.001, 1e-300] as [Double], shape: [2]),
            "batch_normalization/gamma": Tensor([1.0, 0.75] as [Double], shape: [2]),
            "batch_normalization/beta": Tensor([0.0, 0.5] as [Double], shape: [2]),
            "batch_normalization/moving_mean": Tensor([0.125, -0.125] as [Double], shape: [2]),
            "batch_normalization/moving_variance": Tensor([1.0, 4.0] as [Double], shape: [2]),
            "dense_1/kernel": Tensor([3.0, -4.0] as [Double], shape: [2, 1]),
        ]
        func slot(_ v: [Double], _ shape: [Int]) -> Tensor { Tensor(v, shape: shape) }
        let optimizer = OptimizerState(
            config: .adam(AdamConfig(learningRate: 0.0010000000474974513, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: true)),
            iteration: 3,
            slots: [
                "dense/kernel": ["momentum": slot([0.1, 0.2, 0.3, 0.4], [2, 2]), "velocity": slot([0.01, 0.02, 0.03, 0.04], [2, 2]),
                                 "velocity_hat": slot([0.02, 0.02, 0.03, 0.05], [2, 2])],
                "dense_1/kernel": ["momentum": slot([-0.5, 0.5], [2, 1]), "velocity": slot([0.25, 0.25], [2, 1]),
                                   "velocity_hat": slot([0.25, 0.5], [2, 1])],
            ])
        let training = TrainingState(loss: Loss(kind: .mse), epoch: 1, step: 3, batchSize: 2, shuffle: true,
                                     rng: RNGState(algorithm: "splitmix64", state: [42, UInt64.max]), positionInEpoch: 2,
                                     lossHistory: [0.5, 0.25])
        let metadata: Metadata = [
            "name": .string("golden ✓"), "epochs_planned": .integer(-7), "score": .float(-0.0), "missing": .float(.nan),
            "ok": .bool(true), "tags": .array([.string("a"), .integer(1), .float(.infinity)]),
            "nested": .map(["inner": .map(["depth": .integer(2)])]),
        ]
        return Model(architecture: architecture, weights: weights, optimizer: optimizer, training: training, metadata: metadata)
    }()

    /// f16 kernel and bf16 bias; bit patterns chosen to include a subnormal, -0, the largest finite and infinity.
    static let halfPrecision: Model = {
        let kernelBits: [UInt16] = [0x3C00, 0xBC00, 0x0001, 0x8000, 0x7BFF, 0x7C00]  // 1, -1, 2^-24, -0, 65504, +inf
        let biasBits: [UInt16] = [0x3F80, 0xC040]  // bf16 1.0, -3.0
        return Model(
            architecture: Architecture(inputShape: [3], layers: [Layer(name: "dense", kind: .dense(DenseConfig(units: 2)))]),
            weights: [
                "dense/kernel": try! Tensor(dtype: .f16, shape: [3, 2], bytes: kernelBits.withUnsafeBytes { Array($0) }),
                "dense/bias": try! Tensor(dtype: .bf16, shape: [2], bytes: biasBits.withUnsafeBytes { Array($0) }),
            ])
    }()

    static let all: [(String, Model)] = [("dense-f32", denseF32), ("checkpoint-f64", checkpointF64), ("half-precision", halfPrecision)]
}
