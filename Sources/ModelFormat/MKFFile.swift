/// The native binary format `.mkf`, versions 1.0 and 2.0 (2.0 adds the framework graph and weights-only models;
/// the framing is the same). The byte layout is in spec/binary-format.md; in short:
///
///     [0, 32)        preamble: magic, major, minor, flags, header length H, reserved, header CRC32C
///     [32, 32+H)     header: UTF-8 JSON (architecture, tensors with offset/length/crc32c, optimizer, training, metadata)
///     pad to 64      zeros
///     data           tensors at 64-aligned offsets from the data start, in header order, zero-padded between
///     pad to 64      zeros
///     trailer (32)   "MKF_END\0", trailer offset, file checksum, tensor count, reserved, trailer CRC32C
///
/// Every byte is covered: the preamble and header by the header CRC, each tensor by its CRC, padding by the
/// zero check, the trailer by its own CRC, and truncation by the trailer's position.
public enum MKFFile {
    public static let magic: [UInt8] = [0x89, 0x4D, 0x4B, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]  // "\x89MKF\r\n\x1a\n"
    public static let trailerMagic: [UInt8] = Array("MKF_END\0".utf8)
    /// The newest version this code reads and writes. It writes 1.0 whenever the model fits 1.0 (an architecture and
    /// no graph), so that 1.0 readers keep reading what they always could.
    public static let majorVersion: UInt16 = 2
    public static let minorVersion: UInt16 = 0
    /// Major versions this reader reads (every minor version of each).
    public static let readableMajorVersions: ClosedRange<UInt16> = 1...2

    /// The version `model` is written as: 1.0 when a 1.0 reader can read it, else 2.0.
    public static func version(for model: Model) -> (major: UInt16, minor: UInt16) {
        model.fitsFirstFormatVersion ? (1, 0) : (2, 0)
    }
    public static let preambleSize = 32
    public static let trailerSize = 32
    public static let alignment = 64
    /// Caps the header so that a hostile length cannot make the reader allocate or parse without bound.
    public static let maxHeaderSize = 64 << 20

    // MARK: - Header model

    /// One tensor entry of the header.
    public struct TensorEntry: Sendable, Equatable {
        public typealias Role = NamedTensor.Role
        public var name: String
        public var role: Role
        /// For optimizer slots: the parameter's full name and the slot name.
        public var parameter: String?
        public var slot: String?
        public var dtype: DType
        public var shape: [Int]
        /// From the start of the data section; a multiple of 64.
        public var offset: Int
        public var length: Int
        public var crc32c: UInt32
    }

    /// Everything but tensor data, as read from a file's header (what `inspect` shows without reading data).
    public struct Header: Sendable {
        public var version: (major: UInt16, minor: UInt16)
        /// Always present in 1.x; in 2.x present when the engine can run the model.
        public var architecture: Architecture?
        /// 2.x: the framework's layers, verbatim.
        public var graph: LayerGraph?
        public var tensors: [TensorEntry]
        public var optimizer: OptimizerState?
        public var training: TrainingState?
        public var metadata: Metadata
        public var fileSize: Int
        public var dataStart: Int
    }

    static func align(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    // MARK: - Writing

    /// Tensors in canonical order (`Model.namedTensors`), with header entries whose offsets and CRCs `emit` fills in.
    static func orderedTensors(_ model: Model) -> [(TensorEntry, Tensor)] {
        model.namedTensors.map { t in
            (TensorEntry(name: t.name, role: t.role, parameter: t.parameter, slot: t.slot, dtype: t.tensor.dtype,
                         shape: t.tensor.shape, offset: 0, length: t.tensor.byteCount, crc32c: 0), t.tensor)
        }
    }

    static func headerJSON(_ model: Model, entries: [TensorEntry]) -> JSONValue {
        var members: [(String, JSONValue)] = []
        if let architecture = model.engineArchitecture { members.append(("architecture", HeaderSchema.json(architecture))) }
        if let graph = model.graph { members.append(("graph", HeaderSchema.json(graph))) }
        members.append(("tensors", .array(entries.map { e in
            var m: [(String, JSONValue)] = [("name", .string(e.name)), ("role", .string(e.role.rawValue))]
            if let p = e.parameter { m.append(("parameter", .string(p))) }
            if let s = e.slot { m.append(("slot", .string(s))) }
            m += [("dtype", .string(e.dtype.rawValue)), ("shape", .array(e.shape.map { .integer(Int64($0)) })),
                  ("offset", .integer(Int64(e.offset))), ("length", .integer(Int64(e.length))),
                  ("crc32c", .integer(Int64(e.crc32c)))]
            return .object(m)
        })))
        if let o = model.optimizer { members.append(("optimizer", HeaderSchema.json(o))) }
        if let t = model.training { members.append(("training", HeaderSchema.json(t))) }
        members.append(("metadata", HeaderSchema.json(model.metadata)))
        return .object(members)
    }

    /// The whole file as bytes (for tests and in-memory use); `write(_:path:)` streams the same bytes to disk.
    public static func encode(_ model: Model) throws -> [UInt8] {
        var out: [UInt8] = []
        try emit(model) { out.append(contentsOf: $0) }
        return out
    }

    /// Saves atomically: the target is either the old file or the complete new one, whatever happens.
    /// `durable: false` skips the fsyncs, for scratch files.
    public static func write(_ model: Model, path: String, durable: Bool = true) throws {
        try AtomicFile.write(path: path, durable: durable) { writer in
            try emit(model) { try writer.write($0) }
        }
    }

    /// Produces the file's bytes in order through `sink`, without copying tensor data.
    static func emit(_ model: Model, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try model.validate()
        var tensors = orderedTensors(model)
        var names = Set<String>()
        var offset = 0
        for i in tensors.indices {
            guard names.insert(tensors[i].0.name).inserted else { throw ModelError.duplicateName(tensors[i].0.name) }
            tensors[i].0.offset = offset
            tensors[i].0.crc32c = CRC32C.checksum(tensors[i].1.bytes)
            offset = align(offset + tensors[i].0.length)
        }
        let header = headerJSON(model, entries: tensors.map(\.0)).serialized()
        var preamble = magic
        let version = version(for: model)
        preamble += le(version.major) + le(version.minor) + le(UInt32(0)) + le(UInt64(header.count)) + le(UInt32(0))
        let headerCRC = CRC32C.checksum(header, continuing: CRC32C.checksum(preamble))
        preamble += le(headerCRC)
        try preamble.withUnsafeBytes(sink)
        try header.withUnsafeBytes(sink)
        let dataStart = align(preambleSize + header.count)
        let zeros = [UInt8](repeating: 0, count: alignment)
        try zeros.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<(dataStart - preambleSize - header.count)])) }
        var position = 0
        var fileChecksum = CRC32C.checksum(le(headerCRC))
        for (entry, tensor) in tensors {
            try sink(tensor.bytes)
            position += entry.length
            let padded = align(position)
            try zeros.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<(padded - position)])) }
            position = padded
            fileChecksum = CRC32C.checksum(le(entry.crc32c), continuing: fileChecksum)
        }
        var trailer = trailerMagic + le(UInt64(dataStart + position)) + le(fileChecksum) + le(UInt32(tensors.count)) + le(UInt32(0))
        trailer += le(CRC32C.checksum(trailer))
        try trailer.withUnsafeBytes(sink)
    }

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    // MARK: - Reading

    /// Loads a file by memory-mapping it; tensors borrow the mapping without copying. With `verifyChecksums`
    /// (the default) every tensor's CRC is checked too; the header, padding and trailer are always checked.
    public static func read(path: String, verifyChecksums: Bool = true) throws -> Model {
        let file = try MappedFile(path: path)
        return try decode(file.bytes, owner: file, verifyChecksums: verifyChecksums)
    }

    /// Reads and validates only the header (never touches tensor data).
    public static func readHeader(path: String) throws -> Header {
        let file = try MappedFile(path: path)
        return try parseHeader(file.bytes)
    }

    /// Decodes a whole file held in memory; `owner` keeps `bytes` alive for the tensors (nil: tensors are copied).
    public static func decode(_ bytes: UnsafeRawBufferPointer, owner: AnyObject? = nil, verifyChecksums: Bool = true) throws -> Model {
        let header = try parseHeader(bytes)
        var weights: [String: Tensor] = [:]
        var slots: [String: [String: Tensor]] = [:]
        for entry in header.tensors {
            let start = header.dataStart + entry.offset
            let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + entry.length)])
            if verifyChecksums, CRC32C.checksum(slice) != entry.crc32c {
                throw ModelError.checksumMismatch(what: entry.name, offset: start)
            }
            let storage = owner.map { TensorStorage(borrowing: slice.baseAddress ?? bytes.baseAddress!, count: entry.length, owner: $0) }
                ?? TensorStorage(copying: slice)
            let tensor = Tensor(dtype: entry.dtype, shape: entry.shape, storage: storage)
            switch entry.role {
            case .weight: weights[entry.name] = tensor
            case .optimizerSlot: slots[entry.parameter!, default: [:]][entry.slot!] = tensor
            }
        }
        var optimizer = header.optimizer
        if optimizer != nil { optimizer!.slots = slots } else if !slots.isEmpty {
            throw ModelError.invalidHeader(offset: preambleSize, message: "optimizer slots without an optimizer")
        }
        let model = Model(architecture: header.architecture, graph: header.graph, weights: weights,
                          weightOrder: header.tensors.filter { $0.role == .weight }.map(\.name), optimizer: optimizer,
                          training: header.training, metadata: header.metadata)
        try model.validate()
        return model
    }

    /// Validates everything but tensor checksums: preamble, version, header CRC and JSON, tensor ranges (which must
    /// tile the data section in order), zero padding, and the trailer.
    public static func parseHeader(_ bytes: UnsafeRawBufferPointer) throws -> Header {
        let size = bytes.count
        guard size >= magic.count, bytes.prefix(magic.count).elementsEqual(magic) else {
            let shown = bytes.prefix(8).map { String($0, radix: 16) }.joined(separator: " ")
            throw ModelError.badMagic(format: ".mkf", found: shown.isEmpty ? "(empty file)" : shown)
        }
        guard size >= preambleSize else {
            throw ModelError.truncated(offset: 0, needed: preambleSize, available: size, what: "preamble")
        }
        let major = bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self).littleEndian
        let minor = bytes.loadUnaligned(fromByteOffset: 10, as: UInt16.self).littleEndian
        guard readableMajorVersions.contains(major) else {
            throw ModelError.unsupportedVersion(format: ".mkf", found: "\(major).\(minor)", supported: "1.x and 2.x (up to \(majorVersion).\(minorVersion) known)")
        }
        let headerLength = bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian
        guard headerLength <= UInt64(maxHeaderSize) else { throw ModelError.headerTooLarge(size: headerLength, limit: maxHeaderSize) }
        let h = Int(headerLength)
        guard preambleSize + h + trailerSize <= size else {
            throw ModelError.truncated(offset: preambleSize, needed: h + trailerSize, available: size - preambleSize, what: "header and trailer")
        }
        let storedCRC = bytes.loadUnaligned(fromByteOffset: 28, as: UInt32.self).littleEndian
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[preambleSize..<(preambleSize + h)])
        let crc = CRC32C.checksum(headerBytes, continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<28])))
        guard crc == storedCRC else { throw ModelError.checksumMismatch(what: "header", offset: 0) }
        try requireReservedZero(bytes, at: 24, in: "preamble")

        let json: JSONValue
        do { json = try JSONParser.parse(headerBytes) } catch {
            throw ModelError.invalidHeader(offset: preambleSize + error.offset, message: error.message)
        }
        let root = HeaderSchema.Reader(value: json, path: "header")
        // 1.x: the architecture is required. 2.x: optional, beside an optional graph; neither means weights only.
        let architecture = major == 1 ? try HeaderSchema.architecture(try root.value("architecture"))
            : try root.optional("architecture").map { v throws(ModelError) in try HeaderSchema.architecture(v) }
        let graph = major == 1 ? nil : try root.optional("graph").map { v throws(ModelError) in try HeaderSchema.graph(v) }
        let optimizer = try root.optional("optimizer").map { v throws(ModelError) in try HeaderSchema.optimizer(v) }
        let training = try root.optional("training").map { v throws(ModelError) in try HeaderSchema.training(v) }
        let metadata = try root.optional("metadata").map { v throws(ModelError) in try HeaderSchema.metadata(v) } ?? [:]

        let dataStart = align(preambleSize + h)
        try requireZeros(bytes, from: preambleSize + h, to: min(dataStart, size))
        var entries: [TensorEntry] = []
        var names = Set<String>()
        var slots = SlotEntryCheck()
        var expectedOffset = 0
        for (i, value) in try root.array("tensors").enumerated() {
            let entry = try tensorEntry(value, index: i)
            guard names.insert(entry.name).inserted else { throw ModelError.duplicateName(entry.name) }
            if let parameter = entry.parameter, let slot = entry.slot { try slots.add(name: entry.name, parameter: parameter, slot: slot) }
            guard entry.offset == expectedOffset else {
                throw ModelError.invalidOffset(tensor: entry.name, offset: dataStart + entry.offset,
                                               message: "expected data offset \(expectedOffset): tensors must tile the data section in order with only 64-byte alignment padding")
            }
            let (end, overflow) = (dataStart + entry.offset).addingReportingOverflow(entry.length)
            guard !overflow, end <= size - trailerSize else {
                throw ModelError.invalidOffset(tensor: entry.name, offset: dataStart + entry.offset,
                                               message: "\(entry.length) bytes run past the end of the data (file is \(size) bytes)")
            }
            try requireZeros(bytes, from: end, to: min(align(end), size))
            expectedOffset = align(entry.offset + entry.length)
            entries.append(entry)
        }

        let trailerOffset = dataStart + expectedOffset
        guard trailerOffset + trailerSize <= size else {
            throw ModelError.truncated(offset: trailerOffset, needed: trailerSize, available: max(0, size - trailerOffset), what: "trailer")
        }
        guard trailerOffset + trailerSize == size else {
            throw ModelError.invalidOffset(tensor: "trailer", offset: trailerOffset + trailerSize,
                                           message: "\(size - trailerOffset - trailerSize) unexpected bytes after the trailer")
        }
        let trailer = UnsafeRawBufferPointer(rebasing: bytes[trailerOffset..<size])
        guard trailer.prefix(8).elementsEqual(trailerMagic) else {
            throw ModelError.checksumMismatch(what: "trailer", offset: trailerOffset)
        }
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: trailer[0..<28])) == trailer.loadUnaligned(fromByteOffset: 28, as: UInt32.self).littleEndian else {
            throw ModelError.checksumMismatch(what: "trailer", offset: trailerOffset)
        }
        try requireReservedZero(bytes, at: trailerOffset + 24, in: "trailer")
        var fileChecksum = CRC32C.checksum(le(storedCRC))
        for e in entries { fileChecksum = CRC32C.checksum(le(e.crc32c), continuing: fileChecksum) }
        guard trailer.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian == UInt64(trailerOffset),
              trailer.loadUnaligned(fromByteOffset: 16, as: UInt32.self).littleEndian == fileChecksum,
              trailer.loadUnaligned(fromByteOffset: 20, as: UInt32.self).littleEndian == UInt32(entries.count) else {
            throw ModelError.checksumMismatch(what: "trailer", offset: trailerOffset)
        }
        return Header(version: (major, minor), architecture: architecture, graph: graph, tensors: entries, optimizer: optimizer,
                      training: training, metadata: metadata, fileSize: size, dataStart: dataStart)
    }

    /// The reserved words at 24 and T+24 are 0 in 1.x: a minor version adds JSON members and flags, never framing.
    static func requireReservedZero(_ bytes: UnsafeRawBufferPointer, at offset: Int, in structure: String) throws(ModelError) {
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
        guard value == 0 else { throw ModelError.nonZeroReserved(structure: structure, offset: offset, value: value) }
    }

    static func requireZeros(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) throws(ModelError) {
        guard from < to else { return }
        for i in from..<to where bytes[i] != 0 { throw ModelError.nonZeroPadding(offset: i) }
    }

    static func tensorEntry(_ value: JSONValue, index: Int) throws(ModelError) -> TensorEntry {
        let r = HeaderSchema.Reader(value: value, path: "tensors[\(index)]")
        let name = try r.string("name")
        guard !name.isEmpty else { throw ModelError.invalidHeader(offset: preambleSize, message: "tensors[\(index)] has an empty name") }
        let roleName = try r.string("role")
        guard let role = TensorEntry.Role(rawValue: roleName) else {
            throw ModelError.invalidHeader(offset: preambleSize, message: "tensor '\(name)': unknown role '\(roleName)'")
        }
        let dtypeName = try r.string("dtype")
        guard let dtype = DType(rawValue: dtypeName) else { throw ModelError.unknownDType(dtypeName, location: "tensor '\(name)'") }
        let shape = try r.intArray("shape")
        let offset = try r.int("offset"), length = try r.int("length"), crc = try r.int("crc32c")
        guard let expected = Tensor.byteCount(dtype: dtype, shape: shape) else {
            throw ModelError.shapeMismatch(name: name, expected: shape, detail: "negative dimension or size overflow")
        }
        guard expected == length else {
            throw ModelError.shapeMismatch(name: name, expected: shape, detail: "\(dtype.rawValue) \(shape) needs \(expected) bytes, header says \(length)")
        }
        guard offset >= 0, offset % alignment == 0 else {
            throw ModelError.invalidOffset(tensor: name, offset: offset, message: "data offset must be a non-negative multiple of \(alignment)")
        }
        guard (0...Int(UInt32.max)).contains(crc) else {
            throw ModelError.invalidHeader(offset: preambleSize, message: "tensor '\(name)': crc32c out of range")
        }
        var parameter: String?, slot: String?
        if role == .optimizerSlot {
            parameter = try r.string("parameter")
            slot = try r.string("slot")
        }
        return TensorEntry(name: name, role: role, parameter: parameter, slot: slot, dtype: dtype, shape: shape,
                           offset: offset, length: length, crc32c: UInt32(crc))
    }
}
