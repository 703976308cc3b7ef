import ModelFormat

/// safetensors (https://github.com/huggingface/safetensors), read and written as its Rust reference does
/// (spec/foreign-formats.md, "safetensors"):
///
///     [0, 8)        N, little-endian u64: the header's length
///     [8, 8+N)      header: UTF-8 JSON object {"__metadata__": {string: string}, "<name>": {"dtype": "F32",
///                   "shape": [..], "data_offsets": [begin, end]}, ...}, padded with spaces
///     [8+N, end)    the byte buffer; data_offsets are relative to its start
///
/// Invariants checked on reading (the Rust reader's): N ≤ 100 MB; the header is valid UTF-8 JSON; every tensor's
/// byte length equals its dtype size × shape (checked for overflow first); the offsets, sorted, tile the buffer from
/// 0 to its end with no hole, overlap or byte past the end.
///
/// ModelKit's own files carry everything in `__metadata__`: `format` = `modelkit`, and `architecture`, `optimizer`,
/// `training`, `metadata` as JSON strings (`HeaderSchema`), so `.mkf → safetensors → .mkf` loses nothing. Tensors are
/// named `<layer>/<param>` and optimizer slots `optimizer/<parameter>/<slot>`. A file without `architecture` (written
/// by PyTorch, say) needs `ReadOptions.architecture`; names then map through `ForeignWeights` (`--layout`).
public enum SafetensorsFile {
    /// The Rust reader's cap on the header (`MAX_HEADER_SIZE`), so a hostile length cannot force a huge read.
    public static let maxHeaderSize = 100_000_000
    static let metadataKey = "__metadata__"
    static let formatValue = "modelkit"

    static let dtypeNames: [(DType, String)] = [(.bool, "BOOL"), (.u8, "U8"), (.i8, "I8"), (.i16, "I16"), (.f16, "F16"),
                                                (.bf16, "BF16"), (.i32, "I32"), (.f32, "F32"), (.f64, "F64"), (.i64, "I64")]
    static func name(of dtype: DType) -> String { dtypeNames.first { $0.0 == dtype }!.1 }
    static func dtype(named name: String) -> DType? { dtypeNames.first { $0.1 == name }?.0 }

    // MARK: Writing

    public static func write(_ model: Model, path: String, options: WriteOptions) throws {
        let sink = try ByteSink(path: path)
        try emit(model, to: sink)
        try sink.finish()
    }

    public static func encode(_ model: Model) throws -> [UInt8] {
        let sink = ByteSink()
        try emit(model, to: sink)
        return sink.bytes()
    }

    static func emit(_ model: Model, to sink: ByteSink) throws {
        try model.validate()
        // Like the Rust writer: larger elements first (keeps every tensor aligned to its element size), then our
        // canonical order. Deterministic, so the same model always gives the same bytes.
        let tensors = DumpTensor.ordered(model).enumerated()
            .sorted { ($0.element.tensor.dtype.byteSize, -$0.offset) > ($1.element.tensor.dtype.byteSize, -$1.offset) }
            .map(\.element)
        var metadata: [(String, JSONValue)] = []
        if let plain = plainMetadata(model) {
            // Weights with string metadata only (a PyTorch file, say): written as such tools write them, so the file
            // goes back out as it came in.
            metadata = plain.map { ($0.key, .string($0.value)) }
        } else {
            metadata = [("format", .string(formatValue))]
            for (key, value) in DumpTensor.stateMembers(model) { metadata.append((key, .string(value.text))) }
        }
        var members: [(String, JSONValue)] = metadata.isEmpty ? [] : [(metadataKey, .object(metadata))]
        var offset = 0
        for t in tensors {
            let end = offset + t.tensor.byteCount
            members.append((t.name, .object([("dtype", .string(name(of: t.tensor.dtype))),
                                             ("shape", .array(t.tensor.shape.map { .integer(Int64($0)) })),
                                             ("data_offsets", .array([.integer(Int64(offset)), .integer(Int64(end))]))])))
            offset = end
        }
        var header = JSONValue.object(members).serialized()
        while header.count % 8 != 0 { header.append(0x20) }
        var length = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &length) { try sink.append($0) }
        try sink.append(header)
        for t in tensors { try sink.append(t.tensor.bytes) }
    }

    /// The `__metadata__` of a weights-only model whose metadata are all strings (sorted by key), or nil when the
    /// model has more than `__metadata__` can say as plain strings.
    static func plainMetadata(_ model: Model) -> [(key: String, value: String)]? {
        guard model.engineArchitecture == nil, model.graph == nil, model.optimizer == nil, model.training == nil else { return nil }
        var pairs: [(key: String, value: String)] = []
        for (key, value) in model.metadata {
            guard case .string(let s) = value, !(key == "format" && s == formatValue) else { return nil }
            pairs.append((key, s))
        }
        return pairs.sorted { $0.key < $1.key }
    }

    // MARK: Reading

    public static func read(path: String, options: ReadOptions) throws -> Model {
        let file = try InputFile(path: path)
        return try decode(file.bytes, options: options)
    }

    /// One tensor entry of the header.
    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// Validates the layout and returns the metadata strings and the entries in header order.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ModelError) -> (metadata: [String: String], entries: [Entry], dataStart: Int) {
        guard bytes.count >= 8 else { throw ModelError.truncated(offset: 0, needed: 8, available: bytes.count, what: "safetensors header length") }
        let n = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard n <= UInt64(maxHeaderSize) else { throw ModelError.headerTooLarge(size: n, limit: maxHeaderSize) }
        let headerLength = Int(n)
        guard 8 + headerLength <= bytes.count else {
            throw ModelError.truncated(offset: 8, needed: headerLength, available: bytes.count - 8, what: "safetensors header")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)])
        guard headerLength > 0, headerBytes[0] == UInt8(ascii: "{") else {
            throw ModelError.invalidHeader(offset: 8, message: "the header must be a JSON object starting with '{'")
        }
        let json: JSONValue
        do { json = try JSONParser.parse(headerBytes) } catch {
            throw ModelError.invalidHeader(offset: 8 + error.offset, message: "\(error.message) (header line \(error.line), column \(error.column))")
        }
        guard case .object(let members) = json else { throw ModelError.invalidHeader(offset: 8, message: "the header must be a JSON object") }
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (key, value) in members {
            if key == metadataKey {
                guard case .object(let pairs) = value else { throw ModelError.invalidHeader(offset: 8, message: "__metadata__ must be an object of strings") }
                for (k, v) in pairs {
                    guard case .string(let s) = v else { throw ModelError.invalidHeader(offset: 8, message: "__metadata__.\(k) must be a string") }
                    metadata[k] = s
                }
                continue
            }
            let r = HeaderSchema.Reader(value: value, path: "tensor '\(key)'")
            let dtypeName = try r.string("dtype")
            guard let dtype = dtype(named: dtypeName) else {
                throw ModelError.unknownDType(dtypeName, location: "safetensors tensor '\(key)' (ModelKit reads \(dtypeNames.map(\.1).joined(separator: ", ")))")
            }
            let shape = try r.intArray("shape")
            let offsets = try r.intArray("data_offsets")
            guard offsets.count == 2, offsets[0] >= 0, offsets[1] >= offsets[0] else {
                throw ModelError.invalidOffset(tensor: key, offset: 8 + headerLength, message: "data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got \(offsets)")
            }
            guard let size = Tensor.byteCount(dtype: dtype, shape: shape) else {
                throw ModelError.shapeMismatch(name: key, expected: shape, detail: "negative dimension, or the size overflows")
            }
            guard size == offsets[1] - offsets[0] else {
                throw ModelError.shapeMismatch(name: key, expected: shape,
                                               detail: "\(dtypeName) \(shape) needs \(size) bytes, data_offsets \(offsets) give \(offsets[1] - offsets[0])")
            }
            entries.append(Entry(name: key, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }
        // The offsets, in order, must tile the buffer exactly.
        let dataStart = 8 + headerLength
        let bufferLength = bytes.count - dataStart
        var expected = 0
        for e in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard e.begin == expected else {
                throw ModelError.invalidOffset(tensor: e.name, offset: dataStart + e.begin,
                                               message: e.begin > expected ? "leaves a hole of \(e.begin - expected) bytes before it (previous data ends at \(expected))"
                                                                           : "overlaps the previous tensor (which ends at \(expected))")
            }
            guard e.end <= bufferLength else {
                throw ModelError.invalidOffset(tensor: e.name, offset: dataStart + e.begin,
                                               message: "ends at \(e.end), past the end of the \(bufferLength)-byte buffer")
            }
            expected = e.end
        }
        guard expected == bufferLength else {
            throw ModelError.invalidOffset(tensor: entries.isEmpty ? "(none)" : entries.max(by: { $0.end < $1.end })!.name,
                                           offset: dataStart + expected, message: "\(bufferLength - expected) bytes after the last tensor belong to none")
        }
        return (metadata, entries, dataStart)
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, options: ReadOptions = ReadOptions()) throws(ModelError) -> Model {
        let (metadata, entries, dataStart) = try parse(bytes)
        var tensors: [String: Tensor] = [:]
        for e in entries {
            // Copied into aligned storage: offsets in the file need not be aligned to the element size.
            let slice = UnsafeRawBufferPointer(rebasing: bytes[(dataStart + e.begin)..<(dataStart + e.end)])
            tensors[e.name] = Tensor(dtype: e.dtype, shape: e.shape, storage: TensorStorage(copying: slice))
        }
        if metadata["format"] == formatValue || metadata["architecture"] != nil {
            return try ModelState.assemble(metadataStrings: metadata, tensors: tensors, order: entries.map(\.name),
                                           source: "safetensors __metadata__")
        }
        // Written by another tool (PyTorch, say): its tensors in header order, its metadata as strings.
        return try ForeignWeights.model(tensors, order: entries.map(\.name), metadata: metadata.mapValues { .string($0) },
                                        options: options) { "tensor '\($0)'" }
    }
}

/// Rebuilding a model from state stored as JSON strings (safetensors `__metadata__`, npz `__modelkit__`) and tensors
/// named as `DumpTensor` names them.
enum ModelState {
    static func parseJSON(_ text: String, what: String) throws(ModelError) -> JSONValue {
        do { return try JSONParser.parse(Array(text.utf8)) } catch {
            throw ModelError.parse(source: what, line: error.line, column: error.column, message: error.message)
        }
    }

    /// `order` is the tensors' order in the file (weights-only models keep it).
    static func assemble(metadataStrings: [String: String], tensors: [String: Tensor], order: [String],
                         source: String) throws(ModelError) -> Model {
        let architecture = try metadataStrings["architecture"].map { t throws(ModelError) in
            try HeaderSchema.architecture(try parseJSON(t, what: "\(source) architecture"))
        }
        let graph = try metadataStrings["graph"].map { t throws(ModelError) in
            try HeaderSchema.graph(try parseJSON(t, what: "\(source) graph"))
        }
        let optimizer = try metadataStrings["optimizer"].map { t throws(ModelError) in
            try HeaderSchema.optimizer(try parseJSON(t, what: "\(source) optimizer"))
        }
        let training = try metadataStrings["training"].map { t throws(ModelError) in
            try HeaderSchema.training(try parseJSON(t, what: "\(source) training"))
        }
        let metadata = try metadataStrings["metadata"].map { t throws(ModelError) in
            try HeaderSchema.metadata(try parseJSON(t, what: "\(source) metadata"))
        } ?? [:]
        var list: [DumpTensor] = []
        let position = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        for (name, t) in tensors.sorted(by: { (position[$0.key] ?? .max, $0.key) < (position[$1.key] ?? .max, $1.key) }) {
            if let (parameter, slot) = DumpTensor.splitSlotName(name), optimizer != nil {
                list.append(DumpTensor(name: name, role: .optimizerSlot, parameter: parameter, slot: slot, tensor: t))
            } else {
                list.append(DumpTensor(name: name, role: .weight, tensor: t))
            }
        }
        return try DumpTensor.assemble(architecture: architecture, graph: graph, optimizer: optimizer, training: training,
                                       metadata: metadata, tensors: list)
    }
}
