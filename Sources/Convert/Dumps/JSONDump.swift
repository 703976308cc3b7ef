import ModelFormat

/// A whole model as one JSON document (spec/json-format.md, schema spec/modelkit.schema.json):
///
///     {"format":"modelkit-json","version":1,
///      "architecture":{...},"optimizer":{...},"training":{...},"metadata":{...},
///      "tensors":[
///     {"name":"dense/kernel","role":"weight","dtype":"f32","shape":[4,16],"data":[0.1,-0.25,...]},
///     {"name":"optimizer/dense/kernel/momentum","role":"optimizer_slot","parameter":"dense/kernel","slot":"momentum",...}
///     ]}
///
/// Data is flat, row-major; each float is the shortest text that reads back to the same value in the tensor's dtype;
/// NaN and infinities are the strings "NaN", "Infinity", "-Infinity". Writing streams through a 1 MB buffer and
/// reading parses each tensor's data straight into its storage, so neither holds more than the model plus a buffer.
public enum JSONDump {
    public static let formatName = "modelkit-json"
    /// The newest version: 2 adds weights-only models and the framework graph. Writers write 1 when the model fits
    /// it (`Model.fitsFirstFormatVersion`).
    public static let version = 2

    // MARK: Writing

    public static func write(_ model: Model, path: String, options: WriteOptions) throws {
        try model.validate()
        let sink = try ByteSink(path: path)
        try write(model, to: sink)
        try sink.finish()
    }

    /// The document's bytes, in memory (tests and small models).
    public static func encode(_ model: Model) throws -> [UInt8] {
        try model.validate()
        let sink = ByteSink()
        try write(model, to: sink)
        return sink.bytes()
    }

    static func write(_ model: Model, to sink: ByteSink) throws(ModelError) {
        var head: [UInt8] = []
        head += Array("{\"format\":\"\(formatName)\",\"version\":\(model.fitsFirstFormatVersion ? 1 : version)".utf8)
        for (key, value) in DumpTensor.stateMembers(model) {
            head += Array(",\n".utf8)
            JSONValue.writeString(key, into: &head)
            head.append(UInt8(ascii: ":"))
            value.write(into: &head)
        }
        head += Array(",\n\"tensors\":[".utf8)
        try sink.append(head)
        var cache: [UInt16: [UInt8]] = [:]
        for (i, t) in DumpTensor.ordered(model).enumerated() {
            var entry: [(String, JSONValue)] = [("name", .string(t.name)), ("role", .string(t.role.rawValue))]
            if let p = t.parameter { entry.append(("parameter", .string(p))) }
            if let s = t.slot { entry.append(("slot", .string(s))) }
            entry += [("dtype", .string(t.tensor.dtype.rawValue)), ("shape", .array(t.tensor.shape.map { .integer(Int64($0)) }))]
            var text = JSONValue.object(entry).serialized()
            text.removeLast()  // reopen the object for "data"
            try sink.append((i == 0 ? "\n" : ",\n") + String(decoding: text, as: UTF8.self) + ",\"data\":[")
            if t.tensor.dtype == .f32 || t.tensor.dtype == .f64 {
                try TensorText.writeFloats(t.tensor, rowLength: max(1, t.tensor.elementCount), rowEnd: 0, quoteNonFinite: true, to: sink)
            } else {
                try TensorText.write(t.tensor, range: 0..<t.tensor.elementCount, separator: UInt8(ascii: ","), terminator: 0,
                                     quoteNonFinite: true, to: sink, bfloat16Cache: &cache)
            }
            try sink.append("]}")
        }
        try sink.append("\n]}\n")
    }

    // MARK: Reading

    public static func read(path: String, options: ReadOptions) throws -> Model {
        let file = try InputFile(path: path)
        return try decode(file.bytes, source: path)
    }

    /// Reads a document held in memory; `source` names it in errors.
    public static func decode(_ bytes: UnsafeRawBufferPointer, source: String) throws(ModelError) -> Model {
        var s = JSONStream(bytes: bytes, source: source)
        guard s.peek() != nil else { throw s.fail("empty input, expected a JSON object") }
        try s.expect(UInt8(ascii: "{"), "'{' to start the document")
        var format: String?, version: JSONValue?
        var graph: LayerGraph?
        var architecture: Architecture?, optimizer: OptimizerState?, training: TrainingState?, metadata: Metadata = [:]
        var tensors: [DumpTensor] = []
        var seen = Set<String>()
        if s.peek() == UInt8(ascii: "}") { throw s.fail("empty object: missing \"format\", \"architecture\" and \"tensors\"") }
        repeat {
            let keyOffset = s.index
            let key = try s.string("a member name")
            guard seen.insert(key).inserted else { throw s.fail("duplicate member \"\(key)\"", at: keyOffset) }
            try s.expect(UInt8(ascii: ":"), "':'")
            s.skipWhitespace()
            let valueOffset = s.index
            func schema<T>(_ body: (JSONValue) throws(ModelError) -> T) throws(ModelError) -> T {
                let v = try s.value()
                do { return try body(v) } catch {
                    // Name where the member is; HeaderSchema's message names the path inside it.
                    throw s.fail("\(key): \(error)", at: valueOffset)
                }
            }
            switch key {
            case "format":
                format = try s.string("format")
                guard format == formatName else { throw s.fail("format is \"\(format!)\", expected \"\(formatName)\"", at: valueOffset) }
            case "version":
                version = try s.value()
                guard case .integer(let v) = version else { throw s.fail("version must be an integer", at: valueOffset) }
                guard v >= 1, v <= Int64(JSONDump.version) else {
                    throw ModelError.unsupportedVersion(format: formatName, found: "\(v)", supported: "1 and \(JSONDump.version)")
                }
            case "architecture": architecture = try schema { v throws(ModelError) in try HeaderSchema.architecture(v) }
            case "graph": graph = try schema { v throws(ModelError) in try HeaderSchema.graph(v) }
            case "optimizer":
                if s.peek() == UInt8(ascii: "n") { _ = try s.value() } else {
                    optimizer = try schema { v throws(ModelError) in try HeaderSchema.optimizer(v) }
                }
            case "training":
                if s.peek() == UInt8(ascii: "n") { _ = try s.value() } else {
                    training = try schema { v throws(ModelError) in try HeaderSchema.training(v) }
                }
            case "metadata": metadata = try schema { v throws(ModelError) in try HeaderSchema.metadata(v) }
            case "tensors": tensors = try readTensors(&s)
            default: throw s.fail("unknown member \"\(key)\"", at: keyOffset)
            }
        } while try s.separator(close: UInt8(ascii: "}"), in: "the document")
        if let extra = s.peek() { throw s.fail("unexpected \(s.describe(extra)) after the document") }
        guard format != nil else { throw s.fail("missing member \"format\"", at: 0) }
        guard version != nil else { throw s.fail("missing member \"version\"", at: 0) }
        // Version 1 always has an architecture; version 2 may hold weights only, or a graph.
        if case .integer(1)? = version, architecture == nil { throw s.fail("missing member \"architecture\"", at: 0) }
        guard seen.contains("tensors") else { throw s.fail("missing member \"tensors\"", at: 0) }
        return try DumpTensor.assemble(architecture: architecture, graph: graph, optimizer: optimizer, training: training, metadata: metadata,
                                       tensors: tensors)
    }

    private static func readTensors(_ s: inout JSONStream) throws(ModelError) -> [DumpTensor] {
        try s.expect(UInt8(ascii: "["), "'[' to start the tensor list")
        var out: [DumpTensor] = []
        if s.peek() == UInt8(ascii: "]") { s.index += 1; return out }
        repeat {
            out.append(try readTensor(&s, index: out.count))
        } while try s.separator(close: UInt8(ascii: "]"), in: "the tensor list")
        return out
    }

    private static func readTensor(_ s: inout JSONStream, index: Int) throws(ModelError) -> DumpTensor {
        let objectOffset = s.index
        try s.expect(UInt8(ascii: "{"), "'{' to start tensors[\(index)]")
        var name: String?, role: DumpTensor.Role?, parameter: String?, slot: String?, dtype: DType?, shape: [Int]?
        var tensor: Tensor?
        var deferredData: Int?
        var seen = Set<String>()
        let label = { () -> String in name.map { "tensor '\($0)'" } ?? "tensors[\(index)]" }
        if s.peek() == UInt8(ascii: "}") { throw s.fail("tensors[\(index)] is empty") }
        repeat {
            let keyOffset = s.index
            let key = try s.string("a member name")
            guard seen.insert(key).inserted else { throw s.fail("\(label()): duplicate member \"\(key)\"", at: keyOffset) }
            try s.expect(UInt8(ascii: ":"), "':'")
            s.skipWhitespace()
            let valueOffset = s.index
            switch key {
            case "name":
                name = try s.string("name")
                guard !name!.isEmpty else { throw s.fail("tensors[\(index)] has an empty name", at: valueOffset) }
            case "role":
                let r = try s.string("role")
                guard let x = DumpTensor.Role(rawValue: r) else {
                    throw s.fail("\(label()): unknown role \"\(r)\" (weight or optimizer_slot)", at: valueOffset)
                }
                role = x
            case "parameter": parameter = try s.string("parameter")
            case "slot": slot = try s.string("slot")
            case "dtype":
                let d = try s.string("dtype")
                guard let x = DType(rawValue: d) else {
                    let (line, column) = JSONParser.location(of: valueOffset, in: s.bytes)
                    throw ModelError.unknownDType(d, location: "\(label()) (\(s.source):\(line):\(column))")
                }
                dtype = x
            case "shape":
                guard case .array(let dims) = try s.value() else { throw s.fail("\(label()): shape must be an array", at: valueOffset) }
                var out: [Int] = []
                for d in dims {
                    guard case .integer(let v) = d, v >= 0, v <= Int64(Int32.max) else {
                        throw s.fail("\(label()): shape must hold non-negative integers", at: valueOffset)
                    }
                    out.append(Int(v))
                }
                shape = out
            case "data":
                if let dtype, let shape, let name {
                    tensor = try s.tensorData(dtype: dtype, shape: shape, name: name)
                } else {
                    // dtype or shape comes later in this object: come back once they are known.
                    deferredData = valueOffset
                    _ = try s.skipValue()
                }
            default: throw s.fail("\(label()): unknown member \"\(key)\"", at: keyOffset)
            }
        } while try s.separator(close: UInt8(ascii: "}"), in: label())
        guard let name else { throw s.fail("tensors[\(index)]: missing \"name\"", at: objectOffset) }
        guard let role else { throw s.fail("\(label()): missing \"role\"", at: objectOffset) }
        guard let dtype else { throw s.fail("\(label()): missing \"dtype\"", at: objectOffset) }
        guard let shape else { throw s.fail("\(label()): missing \"shape\"", at: objectOffset) }
        if let deferredData {
            let resume = s.index
            s.index = deferredData
            tensor = try s.tensorData(dtype: dtype, shape: shape, name: name)
            s.index = resume
        }
        guard let tensor else { throw s.fail("\(label()): missing \"data\"", at: objectOffset) }
        if role == .optimizerSlot {
            guard parameter != nil, slot != nil else {
                throw s.fail("\(label()): an optimizer slot needs \"parameter\" and \"slot\"", at: objectOffset)
            }
        }
        return DumpTensor(name: name, role: role, parameter: parameter, slot: slot, tensor: tensor)
    }
}
