#if canImport(Glibc)
import Glibc
#endif
import ModelFormat

/// A model as a folder of CSV files (spec/csv-format.md):
///
///     model/manifest.csv     name,role,dtype,shape,file   (one row per tensor, canonical order)
///     model/model.json       {"format":"modelkit-csv","version":1,"architecture":…,"optimizer":…,"training":…,"metadata":…}
///     model/dense__kernel.csv  one CSV per tensor: 2-D as rows × columns, 1-D as one row, a scalar as one value,
///                              higher ranks as [first dimension, product of the rest]
///
/// A folder without `manifest.csv` is a foreign dump: plain CSV files (or JSON arrays) named after the parameters,
/// mapped onto the architecture given in `ReadOptions.architecture` (see `ForeignWeights`).
public enum CSVDump {
    public static let formatName = "modelkit-csv"
    /// The newest version: 2 adds weights-only models and the framework graph; writers write 1 when the model fits it.
    public static let version = 2
    public static let manifestName = "manifest.csv"
    public static let stateName = "model.json"
    static let manifestHeader = ["name", "role", "dtype", "shape", "file"]

    // MARK: Writing

    /// Writes the dump into a temporary folder that then replaces `path` whole (`AtomicFolder`): a failed or killed
    /// save leaves the old dump or the new one, never a mix. An existing folder is replaced only when it is empty or
    /// a ModelKit CSV dump.
    public static func write(_ model: Model, path: String, options: WriteOptions) throws {
        try model.validate()
        try AtomicFolder.write(path: path, replaceable: isReplaceable) { folder in
            try writeContents(model, path: folder)
        }
    }

    /// Empty, or a dump: manifest.csv and model.json beside nothing but .csv files.
    static func isReplaceable(_ path: String) -> Bool {
        guard let entries = AtomicFolder.entries(path) else { return false }
        if entries.isEmpty { return true }
        return entries.contains(manifestName) && entries.contains(stateName)
            && entries.allSatisfy { $0 == stateName || $0.hasSuffix(".csv") }
    }

    static func writeContents(_ model: Model, path: String) throws {
        let tensors = DumpTensor.ordered(model)
        var usedFiles = Set([manifestName, stateName])
        var rows: [[String]] = [manifestHeader]
        var cache: [UInt16: [UInt8]] = [:]
        for t in tensors {
            let file = uniqueFileName(t.name, used: &usedFiles)
            let (r, c) = grid(t.tensor.shape)
            let sink = try ByteSink(path: "\(path)/\(file)")
            if r * c > 0 && (t.tensor.dtype == .f32 || t.tensor.dtype == .f64) {
                try TensorText.writeFloats(t.tensor, rowLength: c, rowEnd: 0x0a, quoteNonFinite: false, to: sink)
            } else if r * c > 0 {
                for row in 0..<r {
                    try TensorText.write(t.tensor, range: (row * c)..<((row + 1) * c), separator: UInt8(ascii: ","),
                                         terminator: 0x0a, quoteNonFinite: false, to: sink, bfloat16Cache: &cache)
                }
            }
            try sink.finish()
            rows.append([t.name, t.role.rawValue, t.tensor.dtype.rawValue, shapeText(t.tensor.shape), file])
        }
        let manifest = try ByteSink(path: "\(path)/\(manifestName)")
        for row in rows { try manifest.append(row.map(csvField).joined(separator: ",") + "\n") }
        try manifest.finish()
        var state: [(String, JSONValue)] = [("format", .string(formatName)),
                                            ("version", .integer(Int64(model.fitsFirstFormatVersion ? 1 : version)))]
        state += DumpTensor.stateMembers(model)
        let json = try ByteSink(path: "\(path)/\(stateName)")
        try json.append(JSONValue.object(state).serialized() + [0x0a])
        try json.finish()
    }

    /// Rows and columns of a tensor's CSV file.
    static func grid(_ shape: [Int]) -> (rows: Int, columns: Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (1, shape[0])
        default: return (shape[0], shape.dropFirst().reduce(1, *))
        }
    }

    /// `4x16`; a scalar is `scalar`.
    static func shapeText(_ shape: [Int]) -> String {
        shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "x")
    }

    static func parseShape(_ text: String) -> [Int]? {
        if text == "scalar" { return [] }
        let parts = text.split(separator: "x", omittingEmptySubsequences: false)
        var out: [Int] = []
        for p in parts {
            guard let v = Int(p), v >= 0, v <= Int(Int32.max) else { return nil }
            out.append(v)
        }
        return out
    }

    /// The tensor name with '/' as "__" and anything but letters, digits, '.', '-' and '_' as '_', plus ".csv";
    /// a numeric suffix keeps names unique.
    static func uniqueFileName(_ name: String, used: inout Set<String>) -> String {
        var stem = ""
        for u in name.unicodeScalars {
            switch u {
            case "/": stem += "__"
            case "a"..."z", "A"..."Z", "0"..."9", ".", "-", "_": stem.unicodeScalars.append(u)
            default: stem += "_"
            }
        }
        var file = "\(stem).csv"
        var n = 2
        while !used.insert(file).inserted { file = "\(stem)-\(n).csv"; n += 1 }
        return file
    }

    /// RFC 4180 quoting when a field holds a comma, quote or line break.
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
    }

    // MARK: Reading

    /// Reads a dump. A save replaces the folder whole (`AtomicFolder`), but the files inside are opened one by one:
    /// a read that straddled a replacement sees the folder's identity (device and inode) change, and starts again,
    /// so it never returns a model mixed from two saves.
    public static func read(path: String, options: ReadOptions) throws -> Model {
        for _ in 0..<5 {
            let before = AtomicFolder.identity(path)
            do {
                let model = try readOnce(path: path, options: options)
                if AtomicFolder.identity(path) == before { return model }
            } catch {
                if AtomicFolder.identity(path) == before { throw error }
            }
        }
        throw ModelError.io(path: path, message: "the folder was replaced again and again while it was read")
    }

    static func readOnce(path: String, options: ReadOptions) throws -> Model {
        let manifestPath = "\(path)/\(manifestName)"
        guard access(manifestPath, F_OK) == 0 else { return try ForeignDump.read(folder: path, options: options) }
        let manifest = try InputFile(path: manifestPath)
        let rows = try parseManifest(manifest.bytes, source: manifestPath)
        let stateFile = try InputFile(path: "\(path)/\(stateName)")
        var s = JSONStream(bytes: stateFile.bytes, source: "\(path)/\(stateName)")
        let state = try s.value()
        if let extra = s.peek() { throw s.fail("unexpected \(s.describe(extra)) after the document") }
        let root = HeaderSchema.Reader(value: state, path: stateName)
        guard try root.string("format") == formatName else {
            throw ModelError.invalidHeader(offset: 0, message: "\(stateName): format must be \"\(formatName)\"")
        }
        let v = try root.int("version")
        guard v >= 1, v <= version else { throw ModelError.unsupportedVersion(format: formatName, found: "\(v)", supported: "1 and \(version)") }
        // Version 1 always has an architecture; version 2 may hold weights only, or a graph.
        let architecture = v == 1 ? try HeaderSchema.architecture(try root.value("architecture"))
            : try root.optional("architecture").map { v throws(ModelError) in try HeaderSchema.architecture(v) }
        let graph = try root.optional("graph").map { v throws(ModelError) in try HeaderSchema.graph(v) }
        let optimizer = try root.optional("optimizer").map { v throws(ModelError) in try HeaderSchema.optimizer(v) }
        let training = try root.optional("training").map { v throws(ModelError) in try HeaderSchema.training(v) }
        let metadata = try root.optional("metadata").map { v throws(ModelError) in try HeaderSchema.metadata(v) } ?? [:]
        var tensors: [DumpTensor] = []
        for (line, row) in rows {
            func bad(_ column: Int, _ message: String) -> ModelError {
                .parse(source: manifestPath, line: line, column: column, message: message)
            }
            guard let role = DumpTensor.Role(rawValue: row[1]) else { throw bad(2, "unknown role '\(row[1])' (weight or optimizer_slot)") }
            guard let dtype = DType(rawValue: row[2]) else {
                throw ModelError.unknownDType(row[2], location: "\(manifestPath):\(line) (tensor '\(row[0])')")
            }
            guard let shape = parseShape(row[3]) else { throw bad(4, "shape '\(row[3])' is not like 4x16 or scalar") }
            let file = row[4]
            guard !file.isEmpty, !file.contains("/"), file != "..", file != "." else {
                throw bad(5, "file '\(file)' must be a plain file name inside the folder")
            }
            let tensor = try readTensorFile("\(path)/\(file)", dtype: dtype, shape: shape, name: row[0])
            var parameter: String?, slot: String?
            if role == .optimizerSlot {
                guard let split = DumpTensor.splitSlotName(row[0]) else {
                    throw bad(1, "optimizer slot '\(row[0])' is not named optimizer/<parameter>/<slot>")
                }
                (parameter, slot) = (split.parameter, split.slot)
            }
            tensors.append(DumpTensor(name: row[0], role: role, parameter: parameter, slot: slot, tensor: tensor))
        }
        return try DumpTensor.assemble(architecture: architecture, graph: graph, optimizer: optimizer, training: training, metadata: metadata,
                                       tensors: tensors)
    }

    /// Manifest rows after the header, with their line numbers.
    static func parseManifest(_ bytes: UnsafeRawBufferPointer, source: String) throws(ModelError) -> [(Int, [String])] {
        let records = try SimpleCSV.records(bytes, source: source)
        guard let header = records.first else { throw ModelError.parse(source: source, line: 1, column: 1, message: "empty manifest") }
        guard header.fields == manifestHeader else {
            throw ModelError.parse(source: source, line: header.line, column: 1,
                                   message: "header must be \(manifestHeader.joined(separator: ",")), found \(header.fields.joined(separator: ","))")
        }
        var out: [(Int, [String])] = []
        for r in records.dropFirst() {
            guard r.fields.count == manifestHeader.count else {
                throw ModelError.parse(source: source, line: r.line, column: 1,
                                       message: "row has \(r.fields.count) fields, the header has \(manifestHeader.count)")
            }
            out.append((r.line, r.fields))
        }
        return out
    }

    /// Reads one tensor file of a dump into a tensor of `dtype` and `shape`, checking rows and columns.
    static func readTensorFile(_ path: String, dtype: DType, shape: [Int], name: String) throws(ModelError) -> Tensor {
        let file = try InputFile(path: path)
        guard let byteCount = Tensor.byteCount(dtype: dtype, shape: shape) else {
            throw ModelError.shapeMismatch(name: name, expected: shape, detail: "negative dimension or size overflow")
        }
        let count = shape.reduce(1, *)
        let (rows, columns) = grid(shape)
        if count == 0 {
            guard file.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d }) else {
                throw ModelError.shapeMismatch(name: name, expected: shape, detail: "file '\(path)' has values but the shape has none")
            }
            return Tensor.zeros(dtype: dtype, shape: shape)
        }
        // Each value takes at least two bytes (a digit and a separator): refuse shapes the file cannot hold.
        guard count <= file.bytes.count / 2 + 1 else {
            throw ModelError.shapeMismatch(name: name, expected: shape,
                                           detail: "file '\(path)' of \(file.bytes.count) bytes cannot hold \(count) values")
        }
        var found: (rows: Int, columns: Int) = (0, 0)
        let storage: TensorStorage
        do {
            storage = try TensorStorage(count: byteCount) { (buffer: UnsafeMutableRawBufferPointer) throws(ModelError) in
                let store = ElementStore(dtype: dtype, base: buffer.baseAddress!)
                if (dtype == .f32 || dtype == .f64) && count >= ParallelParse.minimumValues,
                   ParallelParse.csv(file.bytes, rows: rows, columns: columns, dtype: dtype, into: buffer.baseAddress!) {
                    found = (rows, columns)
                    return
                }
                var k = 0
                found = try NumericCSV.scan(file.bytes, source: path) { (s: NumberScan.Scanned?, v: Double) throws(ModelError) in
                    guard k < count else {
                        throw ModelError.shapeMismatch(name: name, expected: shape,
                                                       detail: "file '\(path)' has more than the \(count) values of \(rows) × \(columns)")
                    }
                    if let s, dtype == .f32 {
                        store.base.storeBytes(of: NumberScan.float(s, in: file.bytes), toByteOffset: k &* 4, as: Float.self)
                        k += 1
                        return
                    }
                    let message = s.map { store.store($0, in: file.bytes, at: k) } ?? store.store(nonFinite: v, at: k)
                    if let message { throw ModelError.invalidValue(field: "tensor '\(name)' in '\(path)' (value \(k + 1))", message: message) }
                    k += 1
                }
            }
        } catch let error as ModelError { throw error } catch { throw ModelError.format("\(error)") }
        guard found == (rows, columns) else {
            throw ModelError.shapeMismatch(name: name, expected: shape,
                                           detail: "file '\(path)' has \(found.rows) rows × \(found.columns) columns, expected \(rows) × \(columns)")
        }
        return Tensor(dtype: dtype, shape: shape, storage: storage)
    }
}

/// Minimal RFC 4180 records (quoted fields, "" escapes) for the small manifest file.
enum SimpleCSV {
    struct Record { var line: Int; var fields: [String] }

    static func records(_ bytes: UnsafeRawBufferPointer, source: String) throws(ModelError) -> [Record] {
        var out: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1, recordLine = 1, lineStart = 0
        var i = 0
        var inQuotes = false
        var quotedField = false
        func endField() { fields.append(String(decoding: field, as: UTF8.self)); field = []; quotedField = false }
        while i < bytes.count {
            let b = bytes[i]
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") { field.append(b); i += 2; continue }
                    inQuotes = false
                } else {
                    if b == 0x0a { line += 1; lineStart = i + 1 }
                    field.append(b)
                }
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                guard field.isEmpty, !quotedField else {
                    throw ModelError.parse(source: source, line: line, column: i - lineStart + 1, message: "stray '\"' inside a field")
                }
                inQuotes = true; quotedField = true
            case UInt8(ascii: ","): endField()
            case 0x0d: break
            case 0x0a:
                endField()
                if !(fields.count == 1 && fields[0].isEmpty) { out.append(Record(line: recordLine, fields: fields)) }
                fields = []
                line += 1; lineStart = i + 1; recordLine = line
            default:
                guard !quotedField else {
                    throw ModelError.parse(source: source, line: line, column: i - lineStart + 1, message: "text after a closing '\"'")
                }
                field.append(b)
            }
            i += 1
        }
        if inQuotes { throw ModelError.parse(source: source, line: line, column: i - lineStart + 1, message: "unterminated quoted field") }
        if !field.isEmpty || !fields.isEmpty { endField(); out.append(Record(line: recordLine, fields: fields)) }
        return out
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
