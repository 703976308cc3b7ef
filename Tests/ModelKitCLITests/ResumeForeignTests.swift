import Foundation
import Testing

/// `--resume` on checkpoints ModelKit did not write: a Keras import (whose file records no RNG ModelKit can continue)
/// and a fresh `init`. Both stop at an epoch boundary, so the run continues with ModelKit's RNG and must give what
/// training the same file without `--resume` gives (same optimizer state, same batches in file order).
@Suite struct ResumeForeignTests {
    @Test func resumeAKerasImport() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keras = CLI.repoRoot.appendingPathComponent("Fixtures/keras/adam-classifier")
        let x = keras.appendingPathComponent("continue_x.csv").path, y = keras.appendingPathComponent("continue_y.csv").path
        let model = keras.appendingPathComponent("model.h5").path
        let resumed = try CLI.run(["train", model, "--resume", "--x", x, "--y", y, "--batch-size", "16", "--steps", "6", "-o", "resumed.mkf"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let fresh = try CLI.run(["train", model, "--x", x, "--y", y, "--batch-size", "16", "--steps", "6", "-o", "fresh.mkf"], in: dir)
        #expect(fresh.status == 0, "\(fresh.stderr)")
        let predictions = ["resumed.mkf", "fresh.mkf"].map { name in
            (try? CLI.run(["predict", name, "--input", keras.appendingPathComponent("inputs.csv").path], in: dir).stdout) ?? ""
        }
        #expect(!predictions[0].isEmpty && predictions[0] == predictions[1])
    }

    @Test func resumeAnInitialisedModel() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLI.run(["init", "--arch", "2-4tanh-1", "--optimizer", "sgd:lr=0.1", "--loss", "mse", "--seed", "4", "-o", "m.mkf"], in: dir).status == 0)
        try "0,1\n1,0\n1,1\n0,0\n".write(to: dir.appendingPathComponent("x.csv"), atomically: true, encoding: .utf8)
        try "1\n1\n0\n0\n".write(to: dir.appendingPathComponent("y.csv"), atomically: true, encoding: .utf8)
        let r = try CLI.run(["train", "m.mkf", "--resume", "--x", "x.csv", "--y", "y.csv", "--steps", "3", "--batch-size", "2", "-o", "r.mkf"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let f = try CLI.run(["train", "m.mkf", "--x", "x.csv", "--y", "y.csv", "--steps", "3", "--batch-size", "2", "-o", "f.mkf"], in: dir)
        #expect(f.status == 0, "\(f.stderr)")
        #expect(try CLI.run(["diff", "r.mkf", "f.mkf"], in: dir).status == 0)
    }
}
