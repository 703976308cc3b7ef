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

    /// A Keras graph the engine cannot run (Conv2D, MaxPooling2D, Flatten, Dense), from Fixtures/keras-graph/cnn/model.h5:
    /// the model config verbatim, the layers with their Keras class names and weights, Adam's state and the loss.
    @Test func kerasCNNGraph() throws {
        let path = Fixtures.path("mkf/v2/keras-cnn.mkf")
        let m = try MKFFile.read(path: path)
        #expect(MKFFile.version(for: m) == (2, 0))
        #expect(m.engineArchitecture == nil)
        let graph = try #require(m.graph)
        #expect(graph.origin == "keras")
        #expect(graph.config["class_name"] == .string("Sequential"))
        #expect(graph.layers.map(\.name) == ["input_layer", "conv2d", "max_pooling2d", "flatten", "dense"])
        #expect(graph.layers.map(\.type) == ["InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dense"])
        #expect(graph.layers[1].config["filters"] == .integer(4))
        #expect(graph.layers[1].tensors == ["conv2d/kernel", "conv2d/bias"])
        #expect(graph.layers.allSatisfy { $0.inbound.isEmpty })
        #expect(m.weightNames == ["conv2d/kernel", "conv2d/bias", "dense/kernel", "dense/bias"])
        #expect(m.weights["conv2d/kernel"]?.shape == [3, 3, 1, 4])
        #expect(m.weights["dense/kernel"]?.shape == [36, 3])
        #expect(m.weights["conv2d/bias"]?.floats() == [-0.036269158124923706, -0.0067779868841171265, 0.005290034227073193, -0.022969242185354233])
        #expect(m.weights["dense/bias"]?.floats() == [-0.022496845573186874, -0.004310599993914366, 0.03711539879441261])
        let optimizer = try #require(m.optimizer)
        #expect(optimizer.iteration == 4)
        #expect(optimizer.config.kindName == "adam")
        #expect(Float(optimizer.config.learningRate) == 0.01)
        #expect(optimizer.slots.keys.sorted() == ["conv2d/bias", "conv2d/kernel", "dense/bias", "dense/kernel"])
        #expect(optimizer.slots["dense/bias"]?["velocity"]?.floats() == [0.00020742051128763705, 0.000295966281555593, 0.0002910429029725492])
        #expect(m.training?.step == 4)
        #expect(m.metadata["keras_version"] == .string("3.15.1"))
        // Deterministic: encoding what was read gives the file's bytes.
        #expect(try MKFFile.encode(m) == [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }
}
