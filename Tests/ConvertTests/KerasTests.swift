import Foundation
import Testing
@testable import Convert
import ModelFormat
import ReferenceEngine

enum KerasFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    static let cases = ["adam-classifier", "sgd-regressor", "rmsprop-batchnorm"]

    /// A CSV of numbers (no header) as rows.
    static func csv(_ relative: String) throws -> [[Double]] {
        try String(contentsOfFile: path(relative), encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces))! }
        }
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("modelkit-keras-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Predicts `inputs.csv` in float32 and returns the largest absolute difference from `outputs.csv`
    /// (Keras's own predictions).
    static func predictionError(_ model: Model, case name: String) throws -> Float {
        let inputs = try csv("keras/\(name)/inputs.csv")
        let expected = try csv("keras/\(name)/outputs.csv").flatMap { $0 }.map { Float($0) }
        let outputs = try Inference.predict(model, inputs: inputs.flatMap { $0 }.map { Float($0) }, rows: inputs.count, as: Float.self)
        #expect(outputs.count == expected.count)
        return zip(outputs, expected).map { abs($0 - $1) }.max() ?? .infinity
    }
}

@Suite struct KerasReadTests {
    @Test(arguments: KerasFixtures.cases)
    func legacyH5PredictsWhatKerasPredicted(name: String) throws {
        let model = try KerasH5.read(path: KerasFixtures.path("keras/\(name)/model.h5"))
        #expect(try KerasFixtures.predictionError(model, case: name) <= 1e-5)
    }

    @Test(arguments: KerasFixtures.cases)
    func kerasZipPredictsWhatKerasPredicted(name: String) throws {
        let model = try KerasZip.read(path: KerasFixtures.path("keras/\(name)/model.keras"))
        #expect(try KerasFixtures.predictionError(model, case: name) <= 1e-5)
    }

    /// The `.h5` names every optimizer variable; the `.keras` stores them by position only. Mapping both to our
    /// parameter names must give the same tensors (they hold the same trained model).
    @Test(arguments: KerasFixtures.cases)
    func optimizerStateAgreesBetweenH5AndZip(name: String) throws {
        let h5 = try KerasH5.read(path: KerasFixtures.path("keras/\(name)/model.h5"))
        var options = ReadOptions()
        // The .keras config does not record the optimizer's settings; give them as a user would.
        options.optimizer = OptimizerSetting(try #require(h5.optimizer).config)
        let zip = try ModelFiles.loadInProcess(path: KerasFixtures.path("keras/\(name)/model.keras"), format: .keras, options: options)
        #expect(zip.weights == h5.weights)
        let a = try #require(h5.optimizer), b = try #require(zip.optimizer)
        #expect(a.iteration == b.iteration)
        #expect(a.iteration > 0)
        #expect(a.config == b.config)
        #expect(a.slots == b.slots)
        let trainable = h5.architecture.parameters.filter(\.trainable).map(\.fullName)
        #expect(Set(a.slots.keys) == Set(trainable))
        for parameter in trainable { #expect(Set(a.slots[parameter]!.keys) == Set(a.config.slotNames)) }
        #expect(h5.training?.loss == zip.training?.loss)
    }

    /// tools/interop/make_tf2_fixture.py lays the adam-classifier out as tf.keras 2.x did (fixed-length strings,
    /// split layer_names, `dense/kernel:0`, `Adam/iter:0`, `Adam/<layer>/<param>/m:0`): it must load to the same model.
    @Test func tfKeras2NamingLoadsTheSameModel() throws {
        let tf2 = try KerasH5.read(path: KerasFixtures.path("keras/tf2-style/model.h5"))
        let keras3 = try KerasH5.read(path: KerasFixtures.path("keras/adam-classifier/model.h5"))
        #expect(tf2.architecture == keras3.architecture)
        #expect(tf2.weights == keras3.weights)
        #expect(tf2.optimizer == keras3.optimizer)
        #expect(tf2.training?.loss == keras3.training?.loss)
        #expect(try KerasFixtures.predictionError(tf2, case: "adam-classifier") <= 1e-5)
    }

    @Test func hyperparametersComeFromTheTrainingConfig() throws {
        let sgd = try KerasH5.read(path: KerasFixtures.path("keras/sgd-regressor/model.h5"))
        let caseJSON = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: KerasFixtures.path("keras/sgd-regressor/case.json")))))
        guard case .number(let lr)? = caseJSON["optimizer"]?["learning_rate"], case .number(let momentum)? = caseJSON["optimizer"]?["momentum"] else {
            Issue.record("case.json has no optimizer settings"); return
        }
        #expect(sgd.optimizer?.config == .sgd(SGDConfig(learningRate: lr, momentum: momentum, nesterov: true, formulation: .keras)))
        #expect(sgd.training?.loss == Loss(kind: .mse))
    }
}

@Suite struct FormatDetectionTests {
    @Test func contentConfirmsTheExtension() throws {
        #expect(try ModelFiles.detect(path: KerasFixtures.path("keras/adam-classifier/model.h5")) == .kerasH5)
        #expect(try ModelFiles.detect(path: KerasFixtures.path("keras/adam-classifier/model.keras")) == .keras)
        #expect(try ModelFiles.detect(path: KerasFixtures.path("mkf/v1/dense-f32.mkf")) == .mkf)
        let directory = try KerasFixtures.temporaryDirectory()
        let ours = directory.appendingPathComponent("ours.h5").path
        try HDF5Layout.write(try MKFFile.read(path: KerasFixtures.path("mkf/v1/dense-f32.mkf")), path: ours)
        #expect(try ModelFiles.detect(path: ours) == .h5)
        // Content decides when the name says nothing.
        let renamed = directory.appendingPathComponent("model.bin").path
        try FileManager.default.copyItem(atPath: ours, toPath: renamed)
        #expect(try ModelFiles.detect(path: renamed) == .h5)
        let json = directory.appendingPathComponent("dump").path
        try Data("  {\"a\": 1}".utf8).write(to: URL(fileURLWithPath: json))
        #expect(try ModelFiles.detect(path: json) == .json)
        var safetensors = [UInt8](repeating: 0, count: 8)
        let header = Array("{\"__metadata__\":{}}".utf8)
        safetensors[0] = UInt8(header.count)
        let st = directory.appendingPathComponent("weights").path
        try Data(safetensors + header).write(to: URL(fileURLWithPath: st))
        #expect(try ModelFiles.detect(path: st) == .safetensors)
    }

    @Test func contentContradictingTheExtensionIsAnError() throws {
        let directory = try KerasFixtures.temporaryDirectory()
        let fake = directory.appendingPathComponent("model.mkf").path
        try FileManager.default.copyItem(atPath: KerasFixtures.path("keras/adam-classifier/model.keras"), toPath: fake)
        #expect(throws: ModelError.self) { try ModelFiles.detect(path: fake) }
        let text = directory.appendingPathComponent("model.h5").path
        try Data("not hdf5 at all".utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: ModelError.badMagic(format: "h5", found: "6e 6f 74 20 68 64 66 35")) { try ModelFiles.detect(path: text) }
    }
}

/// Keras trained each model on `continue_x/continue_y` with `train_on_batch` (one step per batch, in order) and
/// recorded the predictions after: resuming from either file with the stored optimizer state must reach them.
@Suite struct KerasResumeTests {
    static func resumeError(_ model: Model, case name: String) throws -> Float {
        let caseJSON = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: KerasFixtures.path("keras/\(name)/case.json")))))
        guard case .integer(let batchSize)? = caseJSON["batch_size"], case .integer(let steps)? = caseJSON["continue_steps"] else {
            throw ModelError.format("case.json lacks batch_size or continue_steps")
        }
        let x = try KerasFixtures.csv("keras/\(name)/continue_x.csv"), y = try KerasFixtures.csv("keras/\(name)/continue_y.csv")
        var options = TrainingOptions()
        options.batchSize = Int(batchSize)
        options.shuffle = false
        options.stop = .steps(steps)
        let trained = try Training.run(model, data: TrainingSet(inputs: x.flatMap { $0 }, targets: y.flatMap { $0 }, rows: x.count,
                                                                targetColumns: y.first?.count ?? 0), options: options)
        #expect(trained.optimizer?.iteration == (model.optimizer?.iteration ?? 0) + steps)
        let inputs = try KerasFixtures.csv("keras/\(name)/inputs.csv")
        let expected = try KerasFixtures.csv("keras/\(name)/after_outputs.csv").flatMap { $0 }.map { Float($0) }
        let outputs = try Inference.predict(trained, inputs: inputs.flatMap { $0 }.map { Float($0) }, rows: inputs.count, as: Float.self)
        return zip(outputs, expected).map { abs($0 - $1) }.max() ?? .infinity
    }

    @Test(arguments: KerasFixtures.cases)
    func resumingFromLegacyH5ReachesKerasAfterOutputs(name: String) throws {
        let model = try KerasH5.read(path: KerasFixtures.path("keras/\(name)/model.h5"))
        #expect(try Self.resumeError(model, case: name) <= 1e-5)
    }

    @Test(arguments: KerasFixtures.cases)
    func resumingFromKerasZipReachesKerasAfterOutputs(name: String) throws {
        var options = ReadOptions()
        // config.json does not record the optimizer's settings; give what case.json says, as a user would with --optimizer.
        options.optimizer = try OptimizerSetting(parsing: [
            "sgd-regressor": "sgd:lr=0.05,momentum=0.9,nesterov=true",
            "adam-classifier": "adam:beta1=0.9,beta2=0.999,epsilon=1e-7",
            "rmsprop-batchnorm": "rmsprop:rho=0.9,epsilon=1e-7"][name]!)
        let model = try ModelFiles.loadInProcess(path: KerasFixtures.path("keras/\(name)/model.keras"), format: .keras, options: options)
        #expect(try Self.resumeError(model, case: name) <= 1e-5)
    }
}

@Suite struct KerasWriteTests {
    /// What Keras has no place for (training progress, metadata, the exact learning rate) travels in extra
    /// attributes, so `.mkf → keras-h5 → .mkf` gives the same bytes.
    @Test(arguments: ["dense-f32", "checkpoint-f64"])
    func mkfThroughKerasH5IsLossless(name: String) throws {
        let directory = try KerasFixtures.temporaryDirectory()
        let golden = KerasFixtures.path("mkf/v1/\(name).mkf")
        let h5 = directory.appendingPathComponent("k.h5").path, back = directory.appendingPathComponent("back.mkf").path
        try KerasH5.write(try MKFFile.read(path: golden), path: h5, options: WriteOptions())
        #expect(try ModelFiles.detect(path: h5) == .kerasH5)
        try MKFFile.write(try KerasH5.read(path: h5), path: back)
        #expect(try Data(contentsOf: URL(fileURLWithPath: back)) == Data(contentsOf: URL(fileURLWithPath: golden)))
    }

    @Test func outputIsDeterministic() throws {
        let directory = try KerasFixtures.temporaryDirectory()
        let model = try KerasH5.read(path: KerasFixtures.path("keras/rmsprop-batchnorm/model.h5"))
        let a = directory.appendingPathComponent("a.h5").path, b = directory.appendingPathComponent("b.h5").path
        try KerasH5.write(model, path: a, options: WriteOptions())
        try KerasH5.write(model, path: b, options: WriteOptions())
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
    }

    @Test func whatKerasCannotHoldIsRefusedOrWarnedAbout() throws {
        let directory = try KerasFixtures.temporaryDirectory()
        let half = try MKFFile.read(path: KerasFixtures.path("mkf/v1/half-precision.mkf"))
        let path = directory.appendingPathComponent("k.h5").path
        #expect(throws: ModelError.self) { try KerasH5.write(half, path: path, options: WriteOptions()) }
        #expect(!FileManager.default.fileExists(atPath: path))

        final class Lines: @unchecked Sendable { var items: [String] = [] }
        let lines = Lines()
        var options = WriteOptions()
        options.allowLossy = true
        options.warn = { lines.items.append($0) }
        try KerasH5.write(half, path: path, options: options)
        #expect(lines.items.count == 1 && lines.items[0].contains("dense/bias"))
        let back = try KerasH5.read(path: path)
        #expect(back.weights["dense/bias"]?.dtype == .f32)
        #expect(back.weights["dense/bias"]?.doubles() == half.weights["dense/bias"]?.doubles())

        var leaky = try MKFFile.read(path: KerasFixtures.path("mkf/v1/dense-f32.mkf"))
        leaky.architecture.layers[0].kind = .dense(DenseConfig(units: 2, activation: .leakyRelu(negativeSlope: 0.1)))
        #expect(throws: ModelError.unsupported("layer 'dense': Keras's Dense has no {\"name\":\"leaky_relu\",\"negative_slope\":0.1} activation (only its defaults)")) {
            try KerasH5.write(leaky, path: path, options: WriteOptions())
        }
    }
}
