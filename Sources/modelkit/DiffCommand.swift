import ArgumentParser
import Convert
import Foundation
import ModelFormat

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two model files tensor by tensor (weights, optimizer slots, training state). Exit 0 when identical.",
        discussion: """
        Each tensor is reported as identical (bit for bit), differing (with the max absolute difference and how many \
        elements differ), a shape or dtype mismatch, or missing from one side. Then the architecture, optimizer \
        hyperparameters and iteration, training state (counters, RNG, loss history) and metadata. Exit 0 when \
        everything is identical, 1 otherwise.
        """)

    @Argument(help: "First model file.")
    var a: String

    @Argument(help: "Second model file.")
    var b: String

    @OptionGroup var source: ModelInput

    @Flag(help: "List only what differs.")
    var quiet = false

    func run() throws {
        let modelA = try source.load(a), modelB = try source.load(b)
        var differences = 0
        func report(_ same: Bool, _ line: String) {
            if !same { differences += 1 }
            if !same || !quiet { print(line) }
        }

        var tensorsA = modelA.weights, tensorsB = modelB.weights
        for (parameter, slots) in modelA.optimizer?.slots ?? [:] { for (slot, t) in slots { tensorsA[NamedTensor.slotName(parameter: parameter, slot: slot)] = t } }
        for (parameter, slots) in modelB.optimizer?.slots ?? [:] { for (slot, t) in slots { tensorsB[NamedTensor.slotName(parameter: parameter, slot: slot)] = t } }
        let order = modelA.weightNames + modelB.weightNames
        var names: [String] = []
        var seen = Set<String>()
        for name in order + tensorsA.keys.sorted() + tensorsB.keys.sorted() where tensorsA[name] != nil || tensorsB[name] != nil {
            if seen.insert(name).inserted { names.append(name) }
        }
        for name in names {
            switch (tensorsA[name], tensorsB[name]) {
            case (let x?, let y?):
                if x.dtype != y.dtype {
                    report(false, "dtype     \(name): \(x.dtype.rawValue) vs \(y.dtype.rawValue)\(x.shape == y.shape ? "" : ", shape \(x.shape) vs \(y.shape)")")
                } else if x.shape != y.shape {
                    report(false, "shape     \(name): \(x.shape) vs \(y.shape)")
                } else if x == y {
                    report(true, "identical \(name) \(x.dtype.rawValue) \(x.shape)")
                } else {
                    let u = x.doubles(), v = y.doubles()
                    var maxAbs = 0.0, count = 0
                    for i in u.indices where u[i].bitPattern != v[i].bitPattern {
                        count += 1
                        let d = abs(u[i] - v[i])
                        if d.isNaN || d > maxAbs { maxAbs = d.isNaN ? .nan : d }
                    }
                    // Bits can differ where the widened values agree only for NaN payloads or ±0.
                    report(false, "differs   \(name): max abs diff \(String(format: "%.6g", maxAbs)) (\(max(count, 1)) of \(u.count) elements)")
                }
            case (_?, nil): report(false, "missing   \(name): only in \(a)")
            case (nil, _?): report(false, "missing   \(name): only in \(b)")
            case (nil, nil): break
            }
        }

        report(modelA.engineArchitecture == modelB.engineArchitecture, modelA.engineArchitecture == modelB.engineArchitecture
               ? "identical architecture" : "differs   architecture")
        if modelA.graph != nil || modelB.graph != nil {
            report(modelA.graph == modelB.graph, modelA.graph == modelB.graph ? "identical graph" : "differs   graph")
        }
        compareState("optimizer", modelA.optimizer.map(Self.describe), modelB.optimizer.map(Self.describe), report)
        compareState("training", modelA.training.map(Self.describe), modelB.training.map(Self.describe), report)
        let keys = Set(modelA.metadata.keys).union(modelB.metadata.keys).sorted()
        for key in keys {
            let x = modelA.metadata[key], y = modelB.metadata[key]
            report(x == y, x == y ? "identical metadata \(key)" : "differs   metadata \(key): \(x.map { "\($0)" } ?? "absent") vs \(y.map { "\($0)" } ?? "absent")")
        }
        if differences > 0 { throw CommandFailure(message: "modelkit: \(differences) difference\(differences == 1 ? "" : "s")") }
        print("identical")
    }

    /// Compares field by field; `fields` are (name, text) pairs.
    private func compareState(_ what: String, _ x: [(String, String)]?, _ y: [(String, String)]?, _ report: (Bool, String) -> Void) {
        switch (x, y) {
        case (nil, nil): return
        case (_?, nil): report(false, "missing   \(what) state: only in \(a)")
        case (nil, _?): report(false, "missing   \(what) state: only in \(b)")
        case (let x?, let y?):
            for ((name, u), (_, v)) in zip(x, y) {
                report(u == v, u == v ? "identical \(what).\(name) \(u)" : "differs   \(what).\(name): \(u) vs \(v)")
            }
        }
    }

    static func describe(_ o: OptimizerState) -> [(String, String)] {
        [("config", "\(o.config)"), ("iteration", "\(o.iteration)"),
         ("unrecorded", o.unrecorded.map { $0.keys.joined(separator: ", ") } ?? "none")]
    }

    static func describe(_ t: TrainingState) -> [(String, String)] {
        [("loss", "\(t.loss.kind.rawValue)\(t.loss.fromLogits ? " (from logits)" : "")"), ("epoch", "\(t.epoch)"), ("step", "\(t.step)"),
         ("batch_size", "\(t.batchSize)"), ("shuffle", "\(t.shuffle)"), ("rng", "\(t.rng.algorithm) \(t.rng.state)"),
         ("position_in_epoch", "\(t.positionInEpoch)"),
         // Shortest round-trip text: equal strings mean equal values.
         ("loss_history", "\(t.lossHistory)")]
    }
}
