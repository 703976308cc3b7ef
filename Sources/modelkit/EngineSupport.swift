import Convert
import ModelFormat
import ReferenceEngine
#if canImport(Glibc)
import Glibc
#endif

/// What predict, train, verify and diff share: loading models and CSV matrices, and a progress bar.
enum EngineSupport {
    /// `optimizer` supplies hyperparameters a file keeps state for but does not record (a `.keras` whose
    /// config.json lacks the optimizer); readers' assumptions are printed as warnings.
    static func loadModel(_ path: String, optimizer: OptimizerConfig? = nil) throws -> Model {
        var options = ReadOptions()
        options.optimizer = optimizer
        options.warn = { writeStderr("modelkit: warning: \($0)\n") }
        return try ModelFiles.load(path: path, options: options)
    }

    static func save(_ model: Model, to path: String) throws {
        try ModelFiles.save(model, path: path, format: try OutputFormat.resolve(path: path, requested: nil))
    }

    /// Reads a CSV of samples for `architecture`: one row per sample with `inputShape`'s element count of columns.
    static func readInputs(_ path: String, for architecture: Architecture) throws -> NumericMatrix {
        let matrix = try NumericCSV.readMatrix(path: path)
        let perSample = architecture.inputShape.reduce(1, *)
        guard matrix.columns == perSample else {
            throw ModelError.shapeMismatch(name: path, expected: [matrix.rows] + architecture.inputShape,
                                           detail: "the CSV has \(matrix.columns) columns; the model takes \(perSample) per sample")
        }
        return matrix
    }

    static var stderrIsTerminal: Bool { isatty(2) != 0 }

    static func writeStderr(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
    }
}

/// A one-line progress bar redrawn on stderr, shown only when stderr is a terminal.
struct ProgressBar {
    let enabled = EngineSupport.stderrIsTerminal
    var lastDrawn = -1

    mutating func update(done: Int64, total: Int64?, label: String) {
        guard enabled else { return }
        if let total, total > 0 {
            let width = 30
            let filled = Int(Double(done) / Double(total) * Double(width))
            guard filled != lastDrawn || done == total else { return }
            lastDrawn = filled
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            EngineSupport.writeStderr("\r[\(bar)] \(done)/\(total) \(label)")
        } else {
            EngineSupport.writeStderr("\rstep \(done) \(label)")
        }
    }

    func finish() { if enabled { EngineSupport.writeStderr("\n") } }
}
