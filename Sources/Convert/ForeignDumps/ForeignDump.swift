#if canImport(Glibc)
import Glibc
#endif
import ModelFormat

/// A folder of weights written by another tool: one plain numeric CSV file (`*.csv`) or JSON array (`*.json`) per
/// parameter, no manifest, and the architecture from `--arch` (spec/csv-format.md, "Foreign dumps"). The file name
/// without its extension is the tensor's name; `ForeignWeights` maps names to parameters for the chosen layout.
/// Values are read as f32.
enum ForeignDump {
    static func read(folder: String, options: ReadOptions) throws -> Model {
        guard let architecture = options.architecture else {
            throw ModelError.invalidValue(field: "--arch", message: "'\(folder)' has no \(CSVDump.manifestName), so it is read as a foreign dump of plain CSV or JSON files, which needs the architecture: give --arch (and --layout torch for PyTorch names)")
        }
        var tensors: [String: Tensor] = [:]
        var files: [String: String] = [:]
        for entry in try listFolder(folder) {
            let isCSV = entry.hasSuffix(".csv"), isJSON = entry.hasSuffix(".json")
            guard isCSV || isJSON else { continue }
            let stem = String(entry.dropLast(isCSV ? 4 : 5))
            let path = "\(folder)/\(entry)"
            if let other = files[stem] { throw ModelError.duplicateName("\(stem) (files '\(other)' and '\(path)')") }
            files[stem] = path
            tensors[stem] = isCSV ? try readCSV(path) : try readJSON(path)
        }
        guard !tensors.isEmpty else {
            throw ModelError.io(path: folder, message: "no .csv or .json weight files (and no \(CSVDump.manifestName))")
        }
        options.usage.noteArchitectureUsed()
        let weights = try ForeignWeights.map(tensors, architecture: architecture, layout: options.layout) { "file '\(files[$0] ?? $0)'" }
        let model = Model(architecture: architecture, weights: weights)
        try model.validate()
        return model
    }

    /// A CSV file as an f32 tensor of shape [rows, columns].
    static func readCSV(_ path: String) throws(ModelError) -> Tensor {
        let m = try NumericCSV.readFloatMatrix(path: path)
        return Tensor(m.values, shape: [m.rows, m.columns])
    }

    /// A JSON number array (nested as deep as its rank, rectangular) as an f32 tensor of its own shape.
    static func readJSON(_ path: String) throws(ModelError) -> Tensor {
        let file = try InputFile(path: path)
        var s = JSONStream(bytes: file.bytes, source: path)
        let shape = try inferShape(s)
        let t = try s.tensorData(dtype: .f32, shape: shape, name: path)
        if let extra = s.peek() { throw s.fail("unexpected \(s.describe(extra)) after the array") }
        return t
    }

    /// The shape of a nested array from the first entry at each depth (`tensorData` then checks every row).
    static func inferShape(_ start: JSONStream) throws(ModelError) -> [Int] {
        var s = start
        guard s.peek() == UInt8(ascii: "[") else { throw s.fail("expected a JSON array of numbers, found \(s.describe(s.peek()))") }
        var shape: [Int] = []
        var probe = s
        while probe.peek() == UInt8(ascii: "[") {
            // Count this array's entries by skipping them.
            var counter = probe
            counter.index += 1
            var n = 0
            if counter.peek() != UInt8(ascii: "]") {
                repeat { _ = try counter.skipValue(); n += 1 } while try counter.separator(close: UInt8(ascii: "]"), in: "array")
            }
            shape.append(n)
            guard n > 0, shape.count <= 8 else { break }
            probe.index += 1
        }
        s = start
        return shape
    }

    static func listFolder(_ path: String) throws(ModelError) -> [String] {
        guard let dir = opendir(path) else { throw ModelError.io(path: path, message: "cannot open folder: \(String(cString: strerror(errno)))") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name.hasPrefix(".") { continue }
            names.append(name)
        }
        return names.sorted()
    }
}
