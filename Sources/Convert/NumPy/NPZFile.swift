import Foundation
import ModelFormat
import ZIPFoundation

/// NumPy `.npz`: a zip of `.npy` arrays, one per tensor (spec/foreign-formats.md, "NumPy"). `numpy.load` reads ours;
/// we read ours and those numpy writes (`np.savez`, `np.savez_compressed`).
///
/// Members are `<tensor name>.npy` (names as in every ModelKit dump: `dense/kernel`, `optimizer/dense/kernel/momentum`)
/// and `__modelkit__.npy`, a 1-D `uint8` array holding the UTF-8 JSON state:
/// `{"format":"modelkit-npz","version":1,"architecture":…,"optimizer":…,"training":…,"metadata":…,"bfloat16":[names]}`.
/// NumPy has no bfloat16: such tensors are stored as `<u2` bit patterns and listed under `bfloat16`.
public enum NPZFile {
    public static let stateMember = "__modelkit__"
    static let formatName = "modelkit-npz"
    static let version = 1
    /// Zip timestamps are fixed, so the same model always gives the same bytes.
    static let timestamp = Date(timeIntervalSince1970: 315_532_800)  // 1980-01-01, the zip epoch

    // MARK: Writing

    public static func write(_ model: Model, path: String, options: WriteOptions) throws {
        try model.validate()
        let tensors = DumpTensor.ordered(model)
        var state: [(String, JSONValue)] = [("format", .string(formatName)), ("version", .integer(Int64(version)))]
        state += DumpTensor.stateMembers(model)
        let bfloat16 = tensors.filter { $0.tensor.dtype == .bf16 }.map(\.name)
        if !bfloat16.isEmpty { state.append(("bfloat16", .array(bfloat16.map { .string($0) }))) }
        let stateBytes = JSONValue.object(state).serialized()
        // Plain arrays (weights only, no metadata, nothing numpy cannot type) need no state member: numpy.load sees
        // exactly the arrays.
        let plain = model.engineArchitecture == nil && model.graph == nil && model.optimizer == nil && model.training == nil
            && model.metadata.isEmpty && bfloat16.isEmpty

        try AtomicFile.write(path: path, throughTemporaryPath: { temporary in
            do {
                let archive = try Archive(url: URL(fileURLWithPath: temporary), accessMode: .create)
                func add(_ name: String, _ header: [UInt8], _ data: UnsafeRawBufferPointer) throws {
                    let total = header.count + data.count
                    try archive.addEntry(with: "\(name).npy", type: .file, uncompressedSize: Int64(total), modificationDate: timestamp,
                                         compressionMethod: .none) { position, size in
                        var chunk = Data(capacity: size)
                        var p = Int(position)
                        let end = p + size
                        if p < header.count { chunk.append(contentsOf: header[p..<min(end, header.count)]); p = min(end, header.count) }
                        if p < end { chunk.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[(p - header.count)..<(end - header.count)])) }
                        return chunk
                    }
                }
                for t in tensors {
                    try add(t.name, NPY.header(dtype: t.tensor.dtype, shape: t.tensor.shape), t.tensor.bytes)
                }
                if !plain { try stateBytes.withUnsafeBytes { try add(stateMember, NPY.header(dtype: .u8, shape: [stateBytes.count]), $0) } }
            } catch let error as ModelError { throw error } catch {
                throw ModelError.io(path: path, message: "cannot write the zip archive: \(error)")
            }
        })
    }

    // MARK: Reading

    public static func read(path: String, options: ReadOptions) throws -> Model {
        let zip = try SafeZip(path: path)
        var tensors: [String: Tensor] = [:]
        var order: [String] = []
        var stateJSON: JSONValue?
        for member in zip.members {
            guard member.hasSuffix(".npy") else {
                if member.hasSuffix("/") { continue }
                throw ModelError.unexpectedTensor("\(path): zip member '\(member)' is not a .npy array")
            }
            let name = String(member.dropLast(4))
            let bytes = try zip.read(member, limit: SafeZip.maxMemberBytes)
            let array = try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws(ModelError) in try NPY.decode(raw, source: "\(path): \(member)") }
            if name == stateMember {
                guard array.dtype == .u8, array.shape.count == 1 else {
                    throw ModelError.invalidHeader(offset: 0, message: "\(path): \(stateMember) must be a 1-D uint8 array of UTF-8 JSON")
                }
                stateJSON = try ModelState.parseJSON(String(decoding: array.bytes, as: UTF8.self), what: "\(path): \(stateMember)")
                continue
            }
            guard tensors[name] == nil else { throw ModelError.duplicateName("\(path): array '\(name)'") }
            tensors[name] = array
            order.append(name)
        }
        guard let stateJSON else {
            // Written by numpy.savez: its arrays in archive order.
            return try ForeignWeights.model(tensors, order: order, options: options) { "array '\($0)'" }
        }
        let root = HeaderSchema.Reader(value: stateJSON, path: stateMember)
        guard try root.string("format") == formatName else {
            throw ModelError.invalidHeader(offset: 0, message: "\(path): \(stateMember).format must be \"\(formatName)\"")
        }
        let v = try root.int("version")
        guard v == version else { throw ModelError.unsupportedVersion(format: formatName, found: "\(v)", supported: "\(version)") }
        if let names = root.optional("bfloat16") {
            guard case .array(let list) = names else { throw ModelError.invalidHeader(offset: 0, message: "\(stateMember).bfloat16 must be an array of names") }
            for item in list {
                guard case .string(let name) = item, let t = tensors[name] else {
                    throw ModelError.missingTensor("\(path): \(stateMember).bfloat16 lists \(item.text), which is not an array in the file")
                }
                guard t.dtype == .i16 else {
                    throw ModelError.unknownDType(t.dtype.rawValue, location: "\(path): '\(name)' is listed as bfloat16 but is not stored as <u2")
                }
                tensors[name] = Tensor(dtype: .bf16, shape: t.shape, storage: t.storage)
            }
        }
        func member(_ key: String) -> String? { root.optional(key).map(\.text) }
        var strings: [String: String] = [:]
        for key in ["optimizer", "training", "metadata"] { if let s = member(key) { strings[key] = s } }
        for key in ["architecture", "graph"] { if let s = member(key) { strings[key] = s } }
        return try ModelState.assemble(metadataStrings: strings, tensors: tensors, order: order, source: "\(path): \(stateMember)")
    }
}

/// The `.npy` format, versions 1.0, 2.0 and 3.0 (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
/// magic `\x93NUMPY`, major, minor, header length (u16 for 1.0, u32 for 2.0/3.0), then a Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (4, 16), }` padded with spaces and `\n` so the data starts at a
/// multiple of 64, then the raw data.
enum NPY {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    /// Header cap: numpy itself refuses headers over 10 000 bytes by default (`max_header_size`).
    static let maxHeaderLength = 100_000

    static let descriptors: [(DType, String)] = [(.f16, "<f2"), (.f32, "<f4"), (.f64, "<f8"), (.i8, "|i1"), (.u8, "|u1"),
                                                 (.i16, "<i2"), (.i32, "<i4"), (.i64, "<i8"), (.bool, "|b1"), (.bf16, "<u2")]

    /// A version 1.0 header for data of `dtype` and `shape` (bfloat16 as `<u2`).
    static func header(dtype: DType, shape: [Int]) -> [UInt8] {
        let descr = descriptors.first { $0.0 == dtype }!.1
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        let unpadded = magic.count + 4 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let n = UInt16(dict.utf8.count)
        return magic + [1, 0, UInt8(n & 0xff), UInt8(n >> 8)] + Array(dict.utf8)
    }

    /// Decodes one `.npy`, validating the whole header: magic, version, length, the dict's exact keys and value types,
    /// a known little-endian (or byte-order-free) descriptor, non-negative dimensions, and a data length equal to
    /// dtype size × shape. Big-endian data is byte-swapped; Fortran-order data is reordered to row-major.
    static func decode(_ bytes: UnsafeRawBufferPointer, source: String) throws(ModelError) -> Tensor {
        guard bytes.count >= 10, bytes.prefix(6).elementsEqual(magic) else {
            throw ModelError.badMagic(format: ".npy (\(source))", found: bytes.prefix(6).map { String($0, radix: 16) }.joined(separator: " "))
        }
        let major = bytes[6], minor = bytes[7]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw ModelError.truncated(offset: 8, needed: 4, available: bytes.count - 8, what: "\(source) header length") }
            headerLength = Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian); headerStart = 12
        default:
            throw ModelError.unsupportedVersion(format: ".npy (\(source))", found: "\(major).\(minor)", supported: "1.0, 2.0, 3.0")
        }
        guard headerLength <= maxHeaderLength else { throw ModelError.headerTooLarge(size: UInt64(headerLength), limit: maxHeaderLength) }
        guard headerStart + headerLength <= bytes.count else {
            throw ModelError.truncated(offset: headerStart, needed: headerLength, available: bytes.count - headerStart, what: "\(source) header")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[headerStart..<(headerStart + headerLength)])
        let (descr, fortran, shape) = try parseDict(headerBytes, source: source, offset: headerStart)
        guard let (dtype, swap) = dtype(descr) else {
            throw ModelError.unknownDType(descr, location: "\(source) (ModelKit reads \(descriptors.map(\.1).joined(separator: ", ")), also big-endian)")
        }
        guard let size = Tensor.byteCount(dtype: dtype, shape: shape) else {
            throw ModelError.shapeMismatch(name: source, expected: shape, detail: "the size overflows")
        }
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart == size else {
            throw ModelError.shapeMismatch(name: source, expected: shape,
                                           detail: "'\(descr)' \(shape) needs \(size) bytes of data, the array has \(bytes.count - dataStart)")
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[dataStart...])
        let element = dtype.byteSize
        let count = shape.reduce(1, *)
        let storage = TensorStorage(count: size) { out in
            if !fortran || shape.count < 2 {
                if size > 0 { out.copyMemory(from: data) }
            } else {
                // Fortran order: element (i0, i1, …) is at Σ ik·(d0·…·d(k−1)); write it at its row-major place.
                var index = [Int](repeating: 0, count: shape.count)
                for f in 0..<count {
                    var c = 0
                    for k in 0..<shape.count { c = c * shape[k] + index[k] }
                    for b in 0..<element { out[c * element + b] = data[f * element + b] }
                    var k = 0
                    while k < shape.count { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k += 1 }
                }
            }
            if swap { for i in 0..<count { var lo = i * element, hi = lo + element - 1; while lo < hi { out.swapAt(lo, hi); lo += 1; hi -= 1 } } }
        }
        return Tensor(dtype: dtype, shape: shape, storage: storage)
    }

    /// Descriptor → dtype and whether to byte-swap. `<u2` gives i16 storage (bfloat16 bits are relabelled by the
    /// caller; other uint16 arrays are refused later as non-float weights).
    static func dtype(_ descr: String) -> (DType, Bool)? {
        if descr == "<u2" { return (.i16, false) }
        if let d = descriptors.first(where: { $0.1 == descr })?.0 { return (d, false) }
        let body = descr.dropFirst()
        if descr.first == ">" || descr.first == "=" {
            if let d = descriptors.first(where: { $0.1.dropFirst() == body })?.0 { return (d, descr.first == ">" && d.byteSize > 1) }
        }
        if descr.first == "<" || descr.first == "|", let d = descriptors.first(where: { $0.1.dropFirst() == body })?.0 { return (d, false) }
        return nil
    }

    /// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (4, 16), }` strictly: those three keys exactly once,
    /// nothing else, trailing spaces and one `\n`.
    static func parseDict(_ h: UnsafeRawBufferPointer, source: String, offset: Int) throws(ModelError) -> (String, Bool, [Int]) {
        var i = 0
        func fail(_ message: String) -> ModelError { .invalidHeader(offset: offset + i, message: "\(source): \(message)") }
        func skipSpaces() { while i < h.count, h[i] == 0x20 { i += 1 } }
        func expect(_ c: Character) throws(ModelError) {
            skipSpaces()
            guard i < h.count, h[i] == c.asciiValue! else { throw fail("expected '\(c)' in the header dict") }
            i += 1
        }
        func quoted() throws(ModelError) -> String {
            skipSpaces()
            guard i < h.count, h[i] == UInt8(ascii: "'") || h[i] == UInt8(ascii: "\"") else { throw fail("expected a quoted string") }
            let q = h[i]; i += 1
            let start = i
            while i < h.count, h[i] != q { i += 1 }
            guard i < h.count else { throw fail("unterminated string") }
            defer { i += 1 }
            return String(decoding: UnsafeRawBufferPointer(rebasing: h[start..<i]), as: UTF8.self)
        }
        try expect("{")
        var descr: String?, fortran: Bool?, shape: [Int]?
        while true {
            skipSpaces()
            if i < h.count, h[i] == UInt8(ascii: "}") { i += 1; break }
            let key = try quoted()
            try expect(":")
            skipSpaces()
            switch key {
            case "descr" where descr == nil: descr = try quoted()
            case "fortran_order" where fortran == nil:
                if h[i...].starts(with: "True".utf8) { fortran = true; i += 4 } else if h[i...].starts(with: "False".utf8) { fortran = false; i += 5 } else {
                    throw fail("fortran_order must be True or False")
                }
            case "shape" where shape == nil:
                try expect("(")
                var dims: [Int] = []
                while true {
                    skipSpaces()
                    if i < h.count, h[i] == UInt8(ascii: ")") { i += 1; break }
                    let start = i
                    var v = 0
                    while i < h.count, (48...57).contains(h[i]) {
                        v = v * 10 + Int(h[i] - 48); i += 1
                        guard v <= Int(Int32.max) else { throw fail("dimension too large") }
                    }
                    guard i > start else { throw fail("shape must be a tuple of non-negative integers") }
                    if i < h.count, h[i] == UInt8(ascii: "L") { i += 1 }  // Python 2 longs
                    dims.append(v)
                    skipSpaces()
                    if i < h.count, h[i] == UInt8(ascii: ",") { i += 1; continue }
                    try expect(")"); break
                }
                shape = dims
            default: throw fail("unexpected or repeated key '\(key)' (a .npy header has descr, fortran_order and shape)")
            }
            skipSpaces()
            if i < h.count, h[i] == UInt8(ascii: ",") { i += 1; continue }
            try expect("}"); break
        }
        while i < h.count, h[i] == 0x20 { i += 1 }
        guard i < h.count, h[i] == 0x0a else { throw fail("the header must end in spaces and a newline") }
        i += 1
        while i < h.count, h[i] == 0x20 || h[i] == 0x0a { i += 1 }
        guard i == h.count else { throw fail("unexpected text after the header dict") }
        guard let descr, let fortran, let shape else { throw fail("the header dict needs descr, fortran_order and shape") }
        return (descr, fortran, shape)
    }
}
