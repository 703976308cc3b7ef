import Foundation
import Testing

/// predict, train, verify and diff from the outside, as the issue's "Done when" list spells them, plus the Keras
/// reference models (Fixtures/keras: made by Keras 3, not by ModelKit) as the oracle for predict and for resuming
/// training from a Keras file's optimizer state.
struct EngineCommandTests {
    /// A learnable problem: 6 inputs; class = which of three fixed linear scores is largest; regression targets
    /// a fixed linear map; multi-label targets the signs of that map.
    static func writeData(in dir: URL, rows: Int = 48) throws {
        var state: UInt64 = 0x9E37_79B9
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / 9_007_199_254_740_992.0 * 2 - 1
        }
        let w: [[Double]] = [[1, -1, 0.5, 0, 0.2, -0.3], [-0.5, 1, 1, -1, 0, 0.4], [0.3, 0.2, -1, 1, -0.6, 0]]
        var x = "", labels = "", oneHot = "", regression = "", multiLabel = ""
        for _ in 0..<rows {
            let row = (0..<6).map { _ in next() }
            let scores = w.map { zip($0, row).map(*).reduce(0, +) }
            let label = scores.indices.max { scores[$0] < scores[$1] }!
            x += row.map { "\($0)" }.joined(separator: ",") + "\n"
            labels += "\(label)\n"
            oneHot += (0..<3).map { $0 == label ? "1" : "0" }.joined(separator: ",") + "\n"
            regression += scores.map { "\($0)" }.joined(separator: ",") + "\n"
            multiLabel += scores.map { $0 > 0 ? "1" : "0" }.joined(separator: ",") + "\n"
        }
        for (name, text) in [("x.csv", x), ("labels.csv", labels), ("onehot.csv", oneHot), ("regression.csv", regression), ("multilabel.csv", multiLabel)] {
            try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }

    func run(_ args: [String], in dir: URL, expect status: Int32, _ note: String = "") throws -> CLI.Result {
        let r = try CLI.run(args, in: dir)
        #expect(r.status == status, "modelkit \(args.joined(separator: " ")) → \(r.status) \(note)\n\(r.stderr)")
        return r
    }

    @Test(arguments: [false, true])
    func twelveStepsEqualFiveThenSevenResumed(shuffle: Bool) throws {
        let dir = try CLI.temporaryDirectory()
        try Self.writeData(in: dir)
        let s = shuffle ? ["--shuffle"] : []
        _ = try run(["init", "--arch", "6-16tanh-8relu-3softmax", "--seed", "3", "-o", "m.mkf"], in: dir, expect: 0)
        let common = ["--x", "x.csv", "--y", "labels.csv", "--batch-size", "5", "--optimizer", "adam:lr=0.01", "--loss", "sparse_categorical_crossentropy"]
        _ = try run(["train", "m.mkf"] + common + s + ["--steps", "12", "-o", "straight.mkf"], in: dir, expect: 0)
        _ = try run(["train", "m.mkf"] + common + s + ["--steps", "5", "-o", "five.mkf"], in: dir, expect: 0)
        _ = try run(["train", "five.mkf", "--resume", "--x", "x.csv", "--y", "labels.csv", "--steps", "7", "-o", "resumed.mkf"], in: dir, expect: 0)
        let same = try run(["diff", "straight.mkf", "resumed.mkf"], in: dir, expect: 0)
        #expect(same.stdout.contains("identical"))
        let differ = try run(["diff", "five.mkf", "straight.mkf"], in: dir, expect: 1)
        #expect(differ.stdout.contains("differs   d1/kernel") || differ.stdout.contains("differs   dense"), "\(differ.stdout)")
    }

    @Test func checkpointsEveryKStepsResumeExactly() throws {
        let dir = try CLI.temporaryDirectory()
        try Self.writeData(in: dir)
        _ = try run(["init", "--arch", "6-16tanh-dropout0.3-8relu-3softmax", "--seed", "4", "-o", "m.mkf"], in: dir, expect: 0)
        let common = ["--x", "x.csv", "--y", "onehot.csv", "--batch-size", "7", "--shuffle", "--seed", "9",
                      "--optimizer", "rmsprop:lr=0.01", "--loss", "categorical_crossentropy"]
        let r = try run(["train", "m.mkf"] + common + ["--epochs", "3", "--checkpoint-every", "4", "-o", "out.mkf"], in: dir, expect: 0)
        #expect(r.stdout.contains("checkpoint step 8: out-step8.mkf"))
        #expect(r.stdout.split(separator: "\n").filter { $0.hasPrefix("epoch ") }.count == 3)
        _ = try run(["train", "out-step8.mkf", "--resume", "--x", "x.csv", "--y", "onehot.csv", "--epochs", "3", "-o", "resumed.mkf"], in: dir, expect: 0)
        _ = try run(["diff", "out.mkf", "resumed.mkf"], in: dir, expect: 0)
    }

    /// A checkpoint written in any format ModelKit writes resumes exactly: dropout, batch normalisation, centered
    /// RMSprop with momentum, shuffling, a short last batch.
    @Test(arguments: ["h5", "safetensors", "npz", "json", "csvdump/"])
    func checkpointsInEveryFormatResumeExactly(format: String) throws {
        let dir = try CLI.temporaryDirectory()
        try Self.writeData(in: dir, rows: 30)
        _ = try run(["init", "--arch", "6-16tanh-dropout0.2-bn-8relu-3softmax", "--seed", "3",
                     "--optimizer", "rmsprop:lr=0.01,momentum=0.5,centered=true", "--loss", "sparse_categorical_crossentropy", "-o", "m.mkf"], in: dir, expect: 0)
        let common = ["--x", "x.csv", "--y", "labels.csv"]
        _ = try run(["train", "m.mkf"] + common + ["--steps", "11", "--batch-size", "7", "--shuffle", "--seed", "4", "-o", "straight.mkf"], in: dir, expect: 0)
        let checkpoint = format.hasSuffix("/") ? format : "four.\(format)"
        _ = try run(["train", "m.mkf"] + common + ["--steps", "4", "--batch-size", "7", "--shuffle", "--seed", "4", "-o", checkpoint], in: dir, expect: 0)
        _ = try run(["train", checkpoint, "--resume"] + common + ["--steps", "7", "-o", "resumed.mkf"], in: dir, expect: 0)
        _ = try run(["diff", "straight.mkf", "resumed.mkf", "--quiet"], in: dir, expect: 0)
    }

    @Test func verifyACopyAndATrainedVersion() throws {
        let dir = try CLI.temporaryDirectory()
        try Self.writeData(in: dir)
        _ = try run(["init", "--arch", "6-16tanh-8relu-3softmax", "--seed", "3", "-o", "m.mkf"], in: dir, expect: 0)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("m.mkf"), to: dir.appendingPathComponent("copy.mkf"))
        _ = try run(["verify", "m.mkf", "copy.mkf"], in: dir, expect: 0)
        _ = try run(["verify", "m.mkf", "copy.mkf", "--input", "x.csv"], in: dir, expect: 0)
        _ = try run(["train", "m.mkf", "--x", "x.csv", "--y", "labels.csv", "--steps", "5", "--loss", "sparse_categorical_crossentropy", "-o", "trained.mkf"], in: dir, expect: 0)
        let r = try run(["verify", "m.mkf", "trained.mkf"], in: dir, expect: 1)
        #expect(r.stderr.contains("not equivalent"))
    }

    @Test(arguments: ["sgd:lr=0.1", "sgd:lr=0.05,momentum=0.9,nesterov=true", "adam:lr=0.01", "rmsprop:lr=0.005"])
    func trainingLowersTheLoss(optimizer: String) throws {
        let dir = try CLI.temporaryDirectory()
        try Self.writeData(in: dir)
        let plans: [(arch: String, loss: String, y: String)] = [
            ("6-16tanh-3", "mse", "regression.csv"), ("6-16tanh-3", "mae", "regression.csv"),
            ("6-16tanh-3sigmoid", "binary_crossentropy", "multilabel.csv"), ("6-16tanh-3", "binary_crossentropy:from_logits=true", "multilabel.csv"),
            ("6-16tanh-3softmax", "categorical_crossentropy", "onehot.csv"), ("6-16tanh-3", "categorical_crossentropy:from_logits=true", "onehot.csv"),
            ("6-16tanh-3softmax", "sparse_categorical_crossentropy", "labels.csv"), ("6-16tanh-3", "sparse_categorical_crossentropy:from_logits=true", "labels.csv"),
        ]
        for (i, plan) in plans.enumerated() {
            _ = try run(["init", "--arch", plan.arch, "--seed", "1", "-o", "m\(i).mkf"], in: dir, expect: 0)
            let r = try run(["train", "m\(i).mkf", "--x", "x.csv", "--y", plan.y, "--epochs", "15", "--batch-size", "8", "--shuffle",
                             "--optimizer", optimizer, "--loss", plan.loss, "-o", "t\(i).mkf"], in: dir, expect: 0)
            let losses = r.stdout.split(separator: "\n").compactMap { line -> Double? in
                guard line.hasPrefix("epoch "), let text = line.split(separator: " ").last else { return nil }
                return Double(text)
            }
            #expect(losses.count == 15, "\(optimizer) \(plan.loss): \(r.stdout)")
            if let first = losses.first, let last = losses.last {
                #expect(last < 0.9 * first, "\(optimizer) \(plan.loss): loss \(first) → \(last)")
            }
        }
    }

    @Test func predictWritesOneRowPerInputRow() throws {
        let dir = try CLI.temporaryDirectory()
        try Self.writeData(in: dir, rows: 10)
        _ = try run(["init", "--arch", "6-16tanh-3softmax", "--seed", "2", "-o", "m.mkf"], in: dir, expect: 0)
        let r = try run(["predict", "m.mkf", "--input", "x.csv"], in: dir, expect: 0)
        let rows = r.stdout.split(separator: "\n")
        #expect(rows.count == 10)
        for row in rows {
            let values = row.split(separator: ",").compactMap { Float(String($0)) }
            #expect(values.count == 3 && abs(values.reduce(0, +) - 1) < 1e-5)
        }
        _ = try run(["predict", "m.mkf", "--input", "x.csv", "-o", "y.csv"], in: dir, expect: 0)
        #expect(try String(contentsOf: dir.appendingPathComponent("y.csv"), encoding: .utf8) == r.stdout)
    }

    @Test func badInputsExitOne() throws {
        let dir = try CLI.temporaryDirectory()
        try Self.writeData(in: dir, rows: 10)
        _ = try run(["init", "--arch", "5-3softmax", "--seed", "2", "-o", "m.mkf"], in: dir, expect: 0)
        let wrongWidth = try run(["predict", "m.mkf", "--input", "x.csv"], in: dir, expect: 1)
        #expect(wrongWidth.stderr.contains("columns"))
        try "1,2,3,4,x\n".write(to: dir.appendingPathComponent("bad.csv"), atomically: true, encoding: .utf8)
        let bad = try run(["predict", "m.mkf", "--input", "bad.csv"], in: dir, expect: 1)
        #expect(bad.stderr.contains("bad.csv:1:"))
        _ = try run(["train", "m.mkf", "--x", "x.csv", "--y", "labels.csv", "-o", "o.mkf"], in: dir, expect: 2)
        _ = try run(["train", "m.mkf", "--resume", "--x", "x.csv", "--y", "labels.csv", "--steps", "1", "-o", "o.mkf"], in: dir, expect: 1)
    }

    /// Training and prediction give the same bits on one core as on all of them (large products are cut in two
    /// fixed halves that run on two threads when there are two cores; see spec/engine.md §2).
    @Test func oneCoreAndAllCoresGiveTheSameBits() throws {
        let taskset = URL(fileURLWithPath: "/usr/bin/taskset")
        guard FileManager.default.isExecutableFile(atPath: taskset.path) else { return }  // util-linux is not everywhere
        let dir = try CLI.temporaryDirectory()
        var x = "", y = ""
        var state: UInt64 = 77
        for _ in 0..<200 {
            x += (0..<300).map { _ -> String in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return "\(Double(state >> 40) / 16_777_216.0)"
            }.joined(separator: ",") + "\n"
            y += "\(state >> 61)\n"
        }
        try x.write(to: dir.appendingPathComponent("x.csv"), atomically: true, encoding: .utf8)
        try y.write(to: dir.appendingPathComponent("y.csv"), atomically: true, encoding: .utf8)
        // 64 × 300 × 256 multiply-adds: above the two-way cut.
        _ = try run(["init", "--arch", "300-256relu-8softmax", "--seed", "1", "--optimizer", "adam", "--loss", "sparse_categorical_crossentropy", "-o", "m.mkf"], in: dir, expect: 0)
        let train = ["train", "m.mkf", "--x", "x.csv", "--y", "y.csv", "--steps", "5", "--batch-size", "64", "--shuffle"]
        _ = try run(train + ["-o", "all.mkf"], in: dir, expect: 0)
        let process = Process()
        process.executableURL = taskset
        process.arguments = ["-c", "0", CLI.binary.path] + train + ["-o", "one.mkf"]
        process.currentDirectoryURL = dir
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        _ = try run(["diff", "all.mkf", "one.mkf", "--quiet"], in: dir, expect: 0)
    }

    /// Outputs near ±f64 max on opposite sides of zero are ~1.8e19 ulps apart, beyond Int64: no overflow trap.
    @Test func verifyCountsUlpsAcrossZeroWithoutOverflow() throws {
        let dir = try CLI.temporaryDirectory()
        try "1e308\n".write(to: dir.appendingPathComponent("x.csv"), atomically: true, encoding: .utf8)
        var outputs: [Double] = []
        for seed in [1, 3] {
            _ = try run(["init", "--arch", "1-1", "--seed", "\(seed)", "--dtype", "f64", "-o", "m\(seed).mkf"], in: dir, expect: 0)
            let y = try run(["predict", "m\(seed).mkf", "--input", "x.csv"], in: dir, expect: 0)
            outputs.append(Double(y.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan)
        }
        #expect(outputs[0] > 1e300 && outputs[1] < -1e300, "the premise: seeds 1 and 3 give huge outputs of opposite signs")
        // Across zero the distance is the sum of the two magnitudes' bit patterns.
        let magnitude = { (x: Double) in x.bitPattern & ~(UInt64(1) << 63) }
        let expected = magnitude(outputs[0]) + magnitude(outputs[1])
        let r = try run(["verify", "m1.mkf", "m3.mkf", "--input", "x.csv"], in: dir, expect: 1)
        #expect(r.stdout.contains(" \(expected)"), "\(r.stdout)")
    }

    static let kerasCases = ["adam-classifier", "sgd-regressor", "rmsprop-batchnorm"]

    static func readCSV(_ url: URL) throws -> [[Double]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map { Double(String($0))! } }
    }

    static func maxDifference(_ a: [[Double]], _ b: [[Double]]) -> Double {
        guard a.count == b.count, zip(a, b).allSatisfy({ $0.count == $1.count }) else { return .infinity }
        return zip(a, b).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? .infinity
    }

    /// Keras's predictions for its own files, within 1e-5.
    @Test(arguments: kerasCases, ["model.h5", "model.keras"])
    func predictMatchesKeras(name: String, file: String) throws {
        let folder = CLI.repoRoot.appendingPathComponent("Fixtures/keras/\(name)")
        let dir = try CLI.temporaryDirectory()
        _ = try run(["predict", folder.appendingPathComponent(file).path, "--input", folder.appendingPathComponent("inputs.csv").path, "-o", "y.csv"], in: dir, expect: 0)
        let worst = Self.maxDifference(try Self.readCSV(dir.appendingPathComponent("y.csv")), try Self.readCSV(folder.appendingPathComponent("outputs.csv")))
        #expect(worst <= 1e-5, "\(name)/\(file): \(worst)")
    }

    /// Training continued from the Keras file's optimizer state on the continuation batches reaches what Keras
    /// reached (after_outputs.csv), within 1e-5.
    @Test(arguments: kerasCases)
    func trainingContinuesKerasRuns(name: String) throws {
        let folder = CLI.repoRoot.appendingPathComponent("Fixtures/keras/\(name)")
        let dir = try CLI.temporaryDirectory()
        let caseJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("case.json"))) as! [String: Any]
        let batch = caseJSON["batch_size"] as! Int, steps = caseJSON["continue_steps"] as! Int
        _ = try run(["train", folder.appendingPathComponent("model.h5").path, "--x", folder.appendingPathComponent("continue_x.csv").path,
                     "--y", folder.appendingPathComponent("continue_y.csv").path, "--steps", "\(steps)", "--batch-size", "\(batch)", "-o", "after.mkf"], in: dir, expect: 0)
        _ = try run(["predict", "after.mkf", "--input", folder.appendingPathComponent("inputs.csv").path, "-o", "y.csv"], in: dir, expect: 0)
        let worst = Self.maxDifference(try Self.readCSV(dir.appendingPathComponent("y.csv")), try Self.readCSV(folder.appendingPathComponent("after_outputs.csv")))
        #expect(worst <= 1e-5, "\(name): \(worst)")
    }
}
