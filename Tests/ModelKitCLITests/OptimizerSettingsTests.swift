import Foundation
import Testing

/// Issue 9.1: a checkpoint's optimizer state is continued only with the settings it was made with. The bundled
/// `.keras` files (Keras 3.15) keep slot tensors but config.json records no optimizer settings.
@Suite struct OptimizerSettingsTests {
    static func fixture(_ name: String, _ file: String) -> String {
        CLI.repoRoot.appendingPathComponent("Fixtures/keras/\(name)/\(file)").path
    }

    static func train(_ name: String, _ extra: [String], in dir: URL, file: String = "model.keras") throws -> CLI.Result {
        let caseJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture(name, "case.json")))) as! [String: Any]
        let model = file.hasPrefix("/") ? file : fixture(name, file)
        return try CLI.run(["train", model, "--x", fixture(name, "continue_x.csv"), "--y", fixture(name, "continue_y.csv"),
                            "--steps", "\(caseJSON["continue_steps"] as! Int)", "--batch-size", "\(caseJSON["batch_size"] as! Int)",
                            "-o", "after.mkf"] + extra, in: dir)
    }

    @Test func sgdMomentumNotRecordedRefusesNamingTheFlag() throws {
        let dir = try CLI.temporaryDirectory()
        let r = try Self.train("sgd-regressor", [], in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("does not record SGD's momentum or nesterov"), "\(r.stderr)")
        #expect(r.stderr.contains("if the run used momentum=0.9"), "\(r.stderr)")
        #expect(r.stderr.contains("--optimizer sgd:lr=0.05000000074505806,momentum=0.9,nesterov=false"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("after.mkf").path))
    }

    @Test(arguments: [("adam-classifier", "Adam's beta1, beta2 or epsilon"), ("rmsprop-batchnorm", "RMSprop's rho or epsilon")])
    func unrecordedBetasAndRhoRefuse(name: String, named: String) throws {
        let dir = try CLI.temporaryDirectory()
        let r = try Self.train(name, [], in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("does not record \(named)"), "\(r.stderr)")
        #expect(r.stderr.contains("(Keras's defaults)"), "\(r.stderr)")
    }

    /// The completed run lands where Keras landed, and nothing says the flag was ignored.
    @Test func optimizerCompletesTheFileAndContinuesExactly() throws {
        let dir = try CLI.temporaryDirectory()
        let r = try Self.train("sgd-regressor", ["--optimizer", "sgd:lr=0.05,momentum=0.9,nesterov=true"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("ignored") && !r.stderr.contains("warning"), "\(r.stderr)")
        _ = try CLI.run(["predict", "after.mkf", "--input", Self.fixture("sgd-regressor", "inputs.csv"), "-o", "y.csv"], in: dir)
        let worst = EngineCommandTests.maxDifference(try EngineCommandTests.readCSV(dir.appendingPathComponent("y.csv")),
                                                     try EngineCommandTests.readCSV(URL(fileURLWithPath: Self.fixture("sgd-regressor", "after_outputs.csv"))))
        #expect(worst <= 1e-5)
    }

    @Test func partialOptimizerNamesWhatIsStillMissing() throws {
        let r = try Self.train("sgd-regressor", ["--optimizer", "sgd:momentum=0.9"], in: try CLI.temporaryDirectory())
        #expect(r.status == 1)
        #expect(r.stderr.contains("does not record SGD's nesterov,"), "\(r.stderr)")
    }

    @Test func contradictingOptimizerRefusesNamingBoth() throws {
        let dir = try CLI.temporaryDirectory()
        let rate = try Self.train("sgd-regressor", ["--optimizer", "sgd:lr=0.06,momentum=0.9,nesterov=true"], in: dir)
        #expect(rate.status == 1)
        #expect(rate.stderr.contains("records the optimizer's lr as 0.05000000074505806; --optimizer gives lr=0.06"), "\(rate.stderr)")
        let kind = try Self.train("sgd-regressor", ["--optimizer", "adam"], in: dir)
        #expect(kind.status == 1)
        #expect(kind.stderr.contains("holds sgd optimizer state; --optimizer gives adam"), "\(kind.stderr)")
        // A file that records its settings: agreeing is fine and silent, contradicting is refused.
        let agree = try Self.train("adam-classifier", ["--optimizer", "adam:lr=0.01"], in: dir, file: "model.h5")
        #expect(agree.status == 0, "\(agree.stderr)")
        #expect(agree.stderr.isEmpty, "\(agree.stderr)")
        let beta = try Self.train("adam-classifier", ["--optimizer", "adam:beta1=0.8"], in: dir, file: "model.h5")
        #expect(beta.status == 1)
        #expect(beta.stderr.contains("records the optimizer's beta1 as 0.9; --optimizer gives beta1=0.8"), "\(beta.stderr)")
    }

    @Test func resetOptimizerStartsFreshStateSayingSo() throws {
        let dir = try CLI.temporaryDirectory()
        let r = try Self.train("sgd-regressor", ["--optimizer", "adam:lr=0.01", "--reset-optimizer"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("note: --reset-optimizer: training starts fresh adam:lr=0.01"), "\(r.stderr)")
        #expect(r.stderr.contains("iteration 16 and 4 slot tensors are not used"), "\(r.stderr)")
        let summary = try CLI.run(["inspect", "after.mkf", "--json"], in: dir)
        let json = try JSONSerialization.jsonObject(with: Data(summary.stdout.utf8)) as! [String: Any]
        let optimizer = json["optimizer"] as! [String: Any]
        #expect(optimizer["type"] as? String == "adam")
        let caseJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixture("sgd-regressor", "case.json")))) as! [String: Any]
        #expect(optimizer["iteration"] as? Int == caseJSON["continue_steps"] as? Int, "counted from 0, not from the file's 16")
    }

    @Test func convertNeedsTheSettingsOrAllowLossy() throws {
        let dir = try CLI.temporaryDirectory()
        let source = Self.fixture("adam-classifier", "model.keras")
        let refused = try CLI.run(["convert", source, "out.mkf"], in: dir)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("convert with --optimizer adam:lr=0.009999999776482582,beta1=0.9,beta2=0.999,epsilon=1e-07,amsgrad=false, or drop the optimizer state with --allow-lossy"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.mkf").path))

        let lossy = try CLI.run(["convert", source, "lossy.mkf", "--allow-lossy"], in: dir)
        #expect(lossy.status == 0, "\(lossy.stderr)")
        #expect(lossy.stderr.contains("warning: dropped the optimizer state (adam, iteration 18, 12 slot tensors): its beta1, beta2, epsilon are not recorded"), "\(lossy.stderr)")
        #expect(try CLI.run(["inspect", "lossy.mkf"], in: dir).stdout.contains("Optimizer: none"))

        let completed = try CLI.run(["convert", source, "full.mkf", "--optimizer", "adam:beta1=0.9,beta2=0.999,epsilon=1e-7"], in: dir)
        #expect(completed.status == 0, "\(completed.stderr)")
        let text = try CLI.run(["inspect", "full.mkf"], in: dir).stdout
        #expect(text.contains("Optimizer: adam (learning_rate=0.009999999776482582, beta1=0.9, beta2=0.999, epsilon=1e-07, amsgrad=false, keras formulation), iteration 18, 12 slot tensors\n"), "\(text)")
        // And the converted checkpoint needs no flag to resume.
        #expect(try Self.train("adam-classifier", [], in: dir, file: dir.appendingPathComponent("full.mkf").path).status == 0)
    }

    @Test func inspectAndCheckStillWorkAndSayWhatIsAssumed() throws {
        let source = Self.fixture("sgd-regressor", "model.keras")
        #expect(try CLI.run(["check", source]).status == 0)
        let r = try CLI.run(["inspect", source])
        #expect(r.status == 0)
        #expect(r.stdout.contains("not recorded in the file: momentum, nesterov"), "\(r.stdout)")
    }
}
