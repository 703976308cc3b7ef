import Convert
import ModelFormat
import ReferenceEngine
#if canImport(Glibc)
import Glibc
#endif

/// What predict, train and verify share: saving models, reading CSV matrices, and a progress bar.
enum EngineSupport {
    static func save(_ model: Model, to path: String) throws {
        try ModelFiles.save(model, path: path, format: FileFormat.forOutput(path: path))
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

}

/// A one-line progress bar redrawn on stderr, shown only when stderr is a terminal.
struct ProgressBar {
    let enabled = Console.isTerminal
    var lastDrawn = -1

    mutating func update(done: Int64, total: Int64?, label: String) {
        guard enabled else { return }
        if let total, total > 0 {
            let width = 30
            let filled = Int(Double(done) / Double(total) * Double(width))
            guard filled != lastDrawn || done == total else { return }
            lastDrawn = filled
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            Console.write("\r[\(bar)] \(done)/\(total) \(label)")
        } else {
            Console.write("\rstep \(done) \(label)")
        }
    }

    func finish() { if enabled { Console.write("\n") } }
}
