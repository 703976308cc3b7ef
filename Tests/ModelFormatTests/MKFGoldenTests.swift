import Foundation
import Testing
import ModelFormat

/// Golden files of format version 1.0. These tests must never change: every later reader loads these files.
@Suite struct MKFGoldenV1Tests {
    @Test func denseF32() throws {
        let m = try MKFFile.read(path: Fixtures.path("mkf/v1/dense-f32.mkf"))
        #expect(m.architecture.inputShape == [3])
        #expect(m.architecture.layers.map(\.name) == ["dense", "dense_1"])
        #expect(m.architecture.layers[0].kind == .dense(DenseConfig(units: 2, activation: .relu, useBias: true)))
        #expect(m.architecture.layers[1].kind == .dense(DenseConfig(units: 1, activation: .sigmoid, useBias: true)))
        #expect(m.weights["dense/kernel"]?.dtype == .f32)
        #expect(m.weights["dense/kernel"]?.shape == [3, 2])
        #expect(m.weights["dense/kernel"]?.floats() == [0.5, -1.0, 0.25, 2.0, -0.125, 1.5])
        #expect(m.weights["dense/bias"]?.floats() == [0.1, -0.2])
        #expect(m.weights["dense_1/kernel"]?.floats() == [1.0, -0.5])
        #expect(m.weights["dense_1/bias"]?.floats() == [0.0])
        #expect(m.optimizer == nil)
        #expect(m.training == nil)
        #expect(m.metadata.isEmpty)
    }

    @Test func checkpointF64() throws {
        let m = try MKFFile.read(path: Fixtures.path("mkf/v1/checkpoint-f64.mkf"))
        #expect(m.architecture.layers.map(\.kind.typeName) == ["dense", "batch_normalization", "dropout", "dense"])
        #expect(m.architecture.layers[1].kind == .batchNormalization(BatchNormalizationConfig(axis: -1, momentum: 0.9, epsilon: 0.001, center: true, scale: true)))
        #expect(m.architecture.layers[2].kind == .dropout(rate: 0.5))
        #expect(m.architecture.layers[3].kind == .dense(DenseConfig(units: 1, activation: .leakyRelu(negativeSlope: 0.2), useBias: false)))
        let kernel = m.weights["dense/kernel"]!.doubles()
        #expect(kernel.map(\.bitPattern) == [1.5, -2.25, 0.0, -0.0].map(\.bitPattern))
        #expect(m.weights["dense/bias"]?.doubles() == [0.001, 1e-300])
        #expect(m.weights["batch_normalization/moving_variance"]?.doubles() == [1.0, 4.0])
        #expect(m.weights["dense_1/kernel"]?.doubles() == [3.0, -4.0])
        #expect(m.weights["dense_1/bias"] == nil)
        let o = try #require(m.optimizer)
        #expect(o.config == .adam(AdamConfig(learningRate: 0.0010000000474974513, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: true, formulation: .keras)))
        #expect(o.iteration == 3)
        #expect(o.slots["dense/kernel"]?["velocity_hat"]?.doubles() == [0.02, 0.02, 0.03, 0.05])
        #expect(o.slots["dense_1/kernel"]?["momentum"]?.doubles() == [-0.5, 0.5])
        let t = try #require(m.training)
        #expect(t.loss == Loss(kind: .mse, fromLogits: false))
        #expect((t.epoch, t.step, t.batchSize, t.shuffle, t.positionInEpoch) == (1, 3, 2, true, 2))
        #expect(t.rng == RNGState(algorithm: "splitmix64", state: [42, 18446744073709551615]))
        #expect(t.lossHistory == [0.5, 0.25])
        #expect(m.metadata["name"] == .string("golden ✓"))
        #expect(m.metadata["epochs_planned"] == .integer(-7))
        if case .float(let score) = m.metadata["score"] { #expect(score.bitPattern == (-0.0).bitPattern) } else { Issue.record("score") }
        if case .float(let missing) = m.metadata["missing"] { #expect(missing.isNaN) } else { Issue.record("missing") }
        #expect(m.metadata["ok"] == .bool(true))
        #expect(m.metadata["tags"] == .array([.string("a"), .integer(1), .float(.infinity)]))
        #expect(m.metadata["nested"] == .map(["inner": .map(["depth": .integer(2)])]))
    }

    @Test func halfPrecision() throws {
        let m = try MKFFile.read(path: Fixtures.path("mkf/v1/half-precision.mkf"))
        let kernel = try #require(m.weights["dense/kernel"])
        #expect(kernel.dtype == .f16)
        #expect(Array(kernel.bytes) == [0x00, 0x3C, 0x00, 0xBC, 0x01, 0x00, 0x00, 0x80, 0xFF, 0x7B, 0x00, 0x7C])
        #expect(kernel.doubles() == [1, -1, 0x1p-24, -0.0, 65504, .infinity])
        let bias = try #require(m.weights["dense/bias"])
        #expect(bias.dtype == .bf16)
        #expect(bias.doubles() == [1.0, -3.0])
    }
}
