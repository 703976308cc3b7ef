import Foundation
import Testing
import ModelFormat

/// Golden files of format version 2.0 (made by `modelkit convert` from the safetensors files named in
/// Fixtures/mkf/v2/README.md). These tests must never change: every later reader loads these files.
@Suite struct MKFGoldenV2Tests {
    @Test func weightsOnlyTorchMLP() throws {
        let m = try MKFFile.read(path: Fixtures.path("mkf/v2/weights-only-torch-mlp.mkf"))
        #expect(MKFFile.version(for: m) == (2, 0))
        #expect(m.engineArchitecture == nil)
        #expect(m.graph == nil)
        #expect(m.weightNames == ["0.bias", "0.weight", "2.bias", "2.weight"])
        #expect(m.weights["0.weight"]?.shape == [16, 4])
        #expect(m.weights["2.bias"]?.dtype == .f32)
        #expect(m.metadata == ["format": .string("pt")])
        #expect(m.optimizer == nil && m.training == nil)
    }

    @Test func weightsOnlyMixedDTypes() throws {
        let m = try MKFFile.read(path: Fixtures.path("mkf/v2/weights-only-mixed.mkf"))
        #expect(m.weightNames == ["bn.num_batches_tracked", "bn.running_mean", "bn.weight", "conv.weight", "ids", "mask"])
        #expect(m.weights["bn.num_batches_tracked"]?.dtype == .i64)
        #expect(m.weights["bn.num_batches_tracked"]?.shape == [])
        #expect(m.weights["bn.num_batches_tracked"]?.doubles() == [7])
        #expect(m.weights["conv.weight"]?.dtype == .f16)
        #expect(m.weights["conv.weight"]?.doubles() == [0, 0.25, 0.5, 0.75, 1, 1.25])
        #expect(m.weights["mask"]?.dtype == .bool)
        #expect(m.weights["mask"]?.doubles() == [1, 0, 1])
        #expect(m.weights["ids"]?.doubles() == [3, 255, 0])
        #expect(m.weights["bn.running_mean"]?.floats() == [0.25, -0.75])
        #expect(m.metadata == ["format": .string("pt"), "note": .string("made by safetensors.numpy")])
    }

    /// A 1.0 reader refuses 2.0 files; this reader still writes 1.0 for every model that fits it.
    @Test func modelsThatFitVersionOneAreWrittenAsOne() throws {
        let v1 = try MKFFile.read(path: Fixtures.path("mkf/v1/dense-f32.mkf"))
        let bytes = try MKFFile.encode(v1)
        #expect(bytes[8] == 1 && bytes[10] == 0)
        #expect(bytes == [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("mkf/v1/dense-f32.mkf")))))
    }
}
