import CHDF5
import Foundation
import ModelFormat

/// A small binding of libhdf5 for ModelKit's HDF5 layout and Keras files.
///
/// - libhdf5 (serial build) is not thread-safe: every call runs under one process-wide recursive lock. Callers wrap a
///   whole file operation in `HDF5.locked { ... }`; handle deinits take the lock too.
/// - HDF5's automatic printing of error stacks is turned off once; a failed call throws `ModelError.format` carrying
///   HDF5's own messages from the error stack (`H5Fopen(): unable to open file; ...`).
public enum HDF5 {
    private static let lock = NSRecursiveLock()
    private static let initialized: Bool = {
        H5open()
        mk_silence_errors()
        return true
    }()

    /// Runs `body` holding the libhdf5 lock.
    public static func locked<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = initialized
        // Error-printing settings are per thread in thread-safe builds of libhdf5 (Debian's is one).
        mk_silence_errors()
        return try body()
    }

    /// HDF5's message for the last failed call, cleared afterwards.
    static func stackMessage() -> String {
        var buffer = [CChar](repeating: 0, count: 2048)
        buffer.withUnsafeMutableBufferPointer { mk_error_message($0.baseAddress, $0.count) }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? "no message from HDF5" : text
    }

    static func failure(_ what: String) -> ModelError {
        .format("HDF5: \(what): \(stackMessage())")
    }

    @discardableResult
    static func check(_ id: hid_t, _ what: @autoclosure () -> String) throws(ModelError) -> hid_t {
        if id < 0 { throw failure(what()) }
        return id
    }

    static func check(_ status: herr_t, _ what: @autoclosure () -> String) throws(ModelError) {
        if status < 0 { throw failure(what()) }
    }

    fileprivate static func release(_ id: hid_t) {
        guard id >= 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        mk_silence_errors()
        _ = H5Idec_ref(id)
        H5Eclear2(mk_H5E_DEFAULT())
    }

    /// A limit on the elements of one attribute, so a hostile file cannot make us allocate gigabytes for a name list.
    public static let maxAttributeElements = 1 << 22
    /// A limit on one string attribute's bytes (a model config of a few MB is large already).
    public static let maxStringBytes = 64 << 20
}

/// Owns one HDF5 identifier and releases it on deinit.
public class H5Handle {
    public let id: hid_t
    /// The object's path in the file, for messages.
    public let path: String
    /// False once closed explicitly (a file), so deinit does not release the identifier twice.
    var isOpen = true
    init(id: hid_t, path: String) { self.id = id; self.path = path }
    deinit { if isOpen { HDF5.release(id) } }
}

/// The values attributes hold. Scalar attributes give the scalar cases, one-dimensional ones the array cases.
public enum H5Value: Sendable, Equatable {
    case string(String)
    case strings([String])
    case int(Int64)
    case ints([Int64])
    case uints([UInt64])
    case float(Double)
    case floats([Double])
    case bool(Bool)

    /// The value as a list of strings (a scalar string is a one-element list; an empty numeric array is empty,
    /// as h5py writes `[]`).
    public var stringList: [String]? {
        switch self {
        case .string(let s): return [s]
        case .strings(let a): return a
        case .floats(let a) where a.isEmpty: return []
        case .ints(let a) where a.isEmpty: return []
        default: return nil
        }
    }
}

/// An object (group or dataset) that can carry attributes.
public class H5Object: H5Handle {
    public func hasAttribute(_ name: String) throws -> Bool {
        let r = H5Aexists(id, name)
        if r < 0 { throw HDF5.failure("checking attribute '\(name)' of \(path)") }
        return r > 0
    }

    public func attribute(_ name: String) throws -> H5Value {
        guard try hasAttribute(name) else { throw ModelError.format("HDF5: \(path) has no attribute '\(name)'") }
        let attr = H5Handle(id: try HDF5.check(H5Aopen(id, name, mk_H5P_DEFAULT()), "opening attribute '\(name)' of \(path)"),
                            path: "\(path)@\(name)")
        let type = H5Handle(id: try HDF5.check(H5Aget_type(attr.id), "reading the type of \(attr.path)"), path: attr.path)
        let space = H5Handle(id: try HDF5.check(H5Aget_space(attr.id), "reading the shape of \(attr.path)"), path: attr.path)
        let rank = H5Sget_simple_extent_ndims(space.id)
        guard rank >= 0 else { throw HDF5.failure("reading the shape of \(attr.path)") }
        guard rank <= 1 else { throw ModelError.format("HDF5: attribute \(attr.path) has \(rank) dimensions (expected a scalar or a list)") }
        let count = Int(H5Sget_simple_extent_npoints(space.id))
        guard count >= 0, count <= HDF5.maxAttributeElements else {
            throw ModelError.format("HDF5: attribute \(attr.path) has \(count) elements (limit \(HDF5.maxAttributeElements))")
        }
        let scalar = rank == 0
        let typeClass = H5Tget_class(type.id)
        switch typeClass {
        case H5T_STRING:
            let strings = try readStrings(attr: attr, type: type, count: count)
            return scalar ? .string(strings.first ?? "") : .strings(strings)
        case H5T_INTEGER:
            if H5Tget_sign(type.id) == H5T_SGN_NONE && H5Tget_size(type.id) == 8 {
                var values = [UInt64](repeating: 0, count: count)
                try HDF5.check(values.withUnsafeMutableBytes { H5Aread(attr.id, mk_H5T_NATIVE_UINT64(), $0.baseAddress) }, "reading \(attr.path)")
                return scalar ? .int(Int64(bitPattern: values.first ?? 0)) : .uints(values)
            }
            var values = [Int64](repeating: 0, count: count)
            try HDF5.check(values.withUnsafeMutableBytes { H5Aread(attr.id, mk_H5T_NATIVE_INT64(), $0.baseAddress) }, "reading \(attr.path)")
            return scalar ? .int(values.first ?? 0) : .ints(values)
        case H5T_FLOAT:
            var values = [Double](repeating: 0, count: count)
            try HDF5.check(values.withUnsafeMutableBytes { H5Aread(attr.id, mk_H5T_NATIVE_DOUBLE(), $0.baseAddress) }, "reading \(attr.path)")
            return scalar ? .float(values.first ?? 0) : .floats(values)
        case H5T_ENUM:
            guard scalar, count == 1, H5Tget_size(type.id) == 1 else {
                throw ModelError.format("HDF5: attribute \(attr.path) is an enum ModelKit does not read (only h5py's scalar bool)")
            }
            var raw: Int8 = 0
            try HDF5.check(H5Aread(attr.id, type.id, &raw), "reading \(attr.path)")
            return .bool(raw != 0)
        default:
            throw ModelError.format("HDF5: attribute \(attr.path) has a type ModelKit does not read (class \(typeClass.rawValue))")
        }
    }

    /// Reads variable- or fixed-length strings (h5py writes `str` as variable-length UTF-8 and numpy `S` arrays as
    /// fixed-length, NUL-padded).
    private func readStrings(attr: H5Handle, type: H5Handle, count: Int) throws -> [String] {
        if count == 0 { return [] }
        let variable = H5Tis_variable_str(type.id)
        guard variable >= 0 else { throw HDF5.failure("reading the string type of \(attr.path)") }
        let memType = H5Handle(id: try HDF5.check(H5Tcopy(mk_H5T_C_S1()), "making a string type"), path: attr.path)
        if variable > 0 {
            try HDF5.check(H5Tset_size(memType.id, mk_H5T_VARIABLE()), "making a string type")
            try HDF5.check(H5Tset_cset(memType.id, H5Tget_cset(type.id)), "making a string type")
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try HDF5.check(pointers.withUnsafeMutableBytes { H5Aread(attr.id, memType.id, $0.baseAddress) }, "reading \(attr.path)")
            defer { for p in pointers where p != nil { H5free_memory(p) } }
            var out: [String] = []
            var total = 0
            for p in pointers {
                guard let p else { out.append(""); continue }
                let length = strlen(p)
                total += length
                guard total <= HDF5.maxStringBytes else {
                    throw ModelError.format("HDF5: attribute \(attr.path) holds more than \(HDF5.maxStringBytes) bytes of text")
                }
                out.append(String(decoding: UnsafeRawBufferPointer(start: p, count: length), as: UTF8.self))
            }
            return out
        }
        let size = H5Tget_size(type.id)
        let (total, overflow) = size.multipliedReportingOverflow(by: count)
        guard size > 0, !overflow, total <= HDF5.maxStringBytes else {
            throw ModelError.format("HDF5: attribute \(attr.path) holds \(count) strings of \(size) bytes (limit \(HDF5.maxStringBytes) bytes)")
        }
        try HDF5.check(H5Tset_size(memType.id, size), "making a string type")
        try HDF5.check(H5Tset_strpad(memType.id, H5T_STR_NULLPAD), "making a string type")
        try HDF5.check(H5Tset_cset(memType.id, H5Tget_cset(type.id)), "making a string type")
        var bytes = [UInt8](repeating: 0, count: total)
        try HDF5.check(bytes.withUnsafeMutableBytes { H5Aread(attr.id, memType.id, $0.baseAddress) }, "reading \(attr.path)")
        return (0..<count).map { i in
            let slice = bytes[(i * size)..<((i + 1) * size)]
            let end = slice.firstIndex(of: 0) ?? slice.endIndex
            // Space-padded (Fortran-style) strings end in spaces; NUL-padded ones at the first NUL.
            var text = String(decoding: slice[slice.startIndex..<end], as: UTF8.self)
            if H5Tget_strpad(type.id) == H5T_STR_SPACEPAD { while text.hasSuffix(" ") { text.removeLast() } }
            return text
        }
    }

    /// Writes (replacing) an attribute. Strings are variable-length UTF-8; bools use h5py's enum.
    public func setAttribute(_ name: String, _ value: H5Value) throws {
        if try hasAttribute(name) { try HDF5.check(H5Adelete(id, name), "replacing attribute '\(name)' of \(path)") }
        let count: Int
        var scalar = false
        switch value {
        case .string, .int, .float, .bool: count = 1; scalar = true
        case .strings(let a): count = a.count
        case .ints(let a): count = a.count
        case .uints(let a): count = a.count
        case .floats(let a): count = a.count
        }
        var dims = [hsize_t(count)]
        let space = H5Handle(id: try HDF5.check(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil),
                                                "making the shape of attribute '\(name)'"), path: path)
        let type: H5Handle
        switch value {
        case .string, .strings:
            type = H5Handle(id: try HDF5.check(H5Tcopy(mk_H5T_C_S1()), "making a string type"), path: path)
            try HDF5.check(H5Tset_size(type.id, mk_H5T_VARIABLE()), "making a string type")
            try HDF5.check(H5Tset_cset(type.id, H5T_CSET_UTF8), "making a string type")
        case .int, .ints: type = H5Handle(id: H5Tcopy(mk_H5T_STD_I64LE()), path: path)
        case .uints: type = H5Handle(id: H5Tcopy(mk_H5T_STD_U64LE()), path: path)
        case .float, .floats: type = H5Handle(id: H5Tcopy(mk_H5T_IEEE_F64LE()), path: path)
        case .bool: type = H5Handle(id: try HDF5.check(mk_create_bool_type(), "making the bool type"), path: path)
        }
        let attr = H5Handle(id: try HDF5.check(H5Acreate2(id, name, type.id, space.id, mk_H5P_DEFAULT(), mk_H5P_DEFAULT()),
                                               "creating attribute '\(name)' of \(path)"), path: path)
        let what = "writing attribute '\(name)' of \(path)"
        switch value {
        case .string(let s): try Self.writeStrings(attr.id, type.id, [s], what)
        case .strings(let a): try Self.writeStrings(attr.id, type.id, a, what)
        case .int(let v): var x = v; try HDF5.check(H5Awrite(attr.id, mk_H5T_NATIVE_INT64(), &x), what)
        case .ints(let a): try HDF5.check(a.withUnsafeBytes { H5Awrite(attr.id, mk_H5T_NATIVE_INT64(), $0.baseAddress) }, what)
        case .uints(let a): try HDF5.check(a.withUnsafeBytes { H5Awrite(attr.id, mk_H5T_NATIVE_UINT64(), $0.baseAddress) }, what)
        case .float(let v): var x = v; try HDF5.check(H5Awrite(attr.id, mk_H5T_NATIVE_DOUBLE(), &x), what)
        case .floats(let a): try HDF5.check(a.withUnsafeBytes { H5Awrite(attr.id, mk_H5T_NATIVE_DOUBLE(), $0.baseAddress) }, what)
        case .bool(let b): var x: Int8 = b ? 1 : 0; try HDF5.check(H5Awrite(attr.id, type.id, &x), what)
        }
    }

    private static func writeStrings(_ attr: hid_t, _ type: hid_t, _ strings: [String], _ what: String) throws {
        // Each C string must stay alive during H5Awrite: strdup them and free afterwards.
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { for p in pointers { free(p) } }
        try HDF5.check(pointers.withUnsafeMutableBytes { H5Awrite(attr, type, $0.baseAddress) }, what)
    }
}

/// How a dataset's elements are stored, as far as ModelKit reads them.
public struct H5DatasetInfo: Sendable {
    /// The ModelKit dtype matching the stored type, or nil with `typeDescription` saying what it is.
    public var dtype: DType?
    /// True for 16-bit unsigned integers, which the layout uses for bf16 (with a `dtype` attribute saying so).
    public var isUInt16: Bool
    public var typeDescription: String
    public var shape: [Int]
    /// Bytes the data takes in the file (compressed size for chunked datasets; 0 when never written).
    public var storageSize: Int
    /// Byte offset of contiguous data in the file, or nil (chunked, or not yet allocated).
    public var fileOffset: Int?
}

public final class H5Dataset: H5Object {
    public func info() throws -> H5DatasetInfo {
        let type = H5Handle(id: try HDF5.check(H5Dget_type(id), "reading the type of \(path)"), path: path)
        let space = H5Handle(id: try HDF5.check(H5Dget_space(id), "reading the shape of \(path)"), path: path)
        let rank = H5Sget_simple_extent_ndims(space.id)
        guard rank >= 0, rank <= 32 else { throw ModelError.format("HDF5: dataset \(path) has \(rank) dimensions") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        if rank > 0 { guard H5Sget_simple_extent_dims(space.id, &dims, nil) >= 0 else { throw HDF5.failure("reading the shape of \(path)") } }
        let shape = try dims.map { d -> Int in
            guard d <= UInt64(Int32.max) else { throw ModelError.format("HDF5: dataset \(path) has a dimension of \(d)") }
            return Int(d)
        }
        let size = H5Tget_size(type.id)
        let cls = H5Tget_class(type.id)
        var dtype: DType? = nil
        var isUInt16 = false
        var description = "class \(cls.rawValue), \(size) bytes"
        switch cls {
        case H5T_FLOAT:
            description = "\(size * 8)-bit float"
            if size == 4 { dtype = .f32 } else if size == 8 { dtype = .f64 } else if size == 2 {
                var spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0
                H5Tget_fields(type.id, &spos, &epos, &esize, &mpos, &msize)
                if spos == 15, epos == 10, esize == 5, mpos == 0, msize == 10, H5Tget_ebias(type.id) == 15 { dtype = .f16 }
                else { description = "16-bit float that is not IEEE binary16" }
            }
        case H5T_INTEGER:
            let signed = H5Tget_sign(type.id) == H5T_SGN_2
            description = "\(signed ? "" : "unsigned ")\(size * 8)-bit integer"
            switch (size, signed) {
            case (1, true): dtype = .i8
            case (1, false): dtype = .u8
            case (2, true): dtype = .i16
            case (2, false): isUInt16 = true
            case (4, true): dtype = .i32
            case (8, true): dtype = .i64
            default: break
            }
        case H5T_ENUM:
            if size == 1 { dtype = .bool; description = "bool enum" }
        case H5T_STRING: description = "text (\(size)-byte strings)"
        case H5T_COMPOUND: description = "compound records"
        default: break
        }
        return H5DatasetInfo(dtype: dtype, isUInt16: isUInt16, typeDescription: description, shape: shape,
                             storageSize: Int(clamping: H5Dget_storage_size(id)),
                             fileOffset: { let o = H5Dget_offset(id); H5Eclear2(mk_H5E_DEFAULT()); return o == mk_HADDR_UNDEF() ? nil : Int(clamping: o) }())
    }

    /// Deflate cannot expand data by more than about 1032×: a chunked dataset claiming more bytes than this many
    /// times what it stores is forged, and reading it would allocate far more than the file's size.
    public static let maxExpansion = 1100

    /// Refuses a dataset that cannot hold `byteCount` bytes of data, before anything is allocated: contiguous data
    /// must take exactly that many bytes in the file, chunked (compressed) data at least `byteCount / maxExpansion`.
    public func checkHoldsData(_ info: H5DatasetInfo, byteCount: Int, name: String) throws {
        guard byteCount > 0 else { return }
        let enough: Bool
        if info.fileOffset != nil {
            enough = info.storageSize == byteCount
        } else {
            let (bound, overflow) = info.storageSize.multipliedReportingOverflow(by: Self.maxExpansion)
            enough = info.storageSize > 0 && (overflow || bound >= byteCount)
        }
        guard enough else {
            throw ModelError.truncated(offset: info.fileOffset ?? 0, needed: byteCount, available: info.storageSize,
                                       what: "data of tensor '\(name)' (\(path))")
        }
    }

    /// Reads the whole dataset converted to `dtype`'s little-endian layout (bf16 from 16-bit unsigned integers).
    /// The caller has checked the shape; `byteCount` is dtype × shape, computed with overflow checks.
    public func read(as dtype: DType, byteCount: Int) throws -> TensorStorage {
        let memType = H5Handle(id: try HDF5.memoryType(dtype), path: path)
        return try TensorStorage(count: byteCount) { buffer in
            if byteCount == 0 { return }
            try HDF5.check(H5Dread(id, memType.id, mk_H5S_ALL(), mk_H5S_ALL(), mk_H5P_DEFAULT(), buffer.baseAddress),
                           "reading dataset \(path)")
        }
    }
}

public final class H5Group: H5Object {
    /// Whether `name` (one link, no `/`) exists here.
    public func has(_ name: String) throws -> Bool {
        var location = self
        let parts = name.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        for (i, part) in parts.enumerated() {
            let r = H5Lexists(location.id, part, mk_H5P_DEFAULT())
            if r < 0 { throw HDF5.failure("looking up '\(part)' in \(location.path)") }
            if r == 0 { return false }
            if i < parts.count - 1 {
                guard let next = try? location.group(part) else { return false }
                location = next
            }
        }
        return !parts.isEmpty
    }

    private func child(_ name: String) -> String { path == "/" ? "/\(name)" : "\(path)/\(name)" }

    private func openObject(_ name: String) throws -> (hid_t, H5I_type_t) {
        guard try has(name) else { throw ModelError.format("HDF5: \(child(name)) is missing") }
        let object = try HDF5.check(H5Oopen(id, name, mk_H5P_DEFAULT()), "opening \(child(name))")
        return (object, H5Iget_type(object))
    }

    public func group(_ name: String) throws -> H5Group {
        let (object, type) = try openObject(name)
        guard type == H5I_GROUP else {
            HDF5.release(object)
            throw ModelError.format("HDF5: \(child(name)) is not a group")
        }
        return H5Group(id: object, path: child(name))
    }

    public func dataset(_ name: String) throws -> H5Dataset {
        let (object, type) = try openObject(name)
        guard type == H5I_DATASET else {
            HDF5.release(object)
            throw ModelError.format("HDF5: \(child(name)) is not a dataset")
        }
        return H5Dataset(id: object, path: child(name))
    }

    public func createGroup(_ name: String) throws -> H5Group {
        let gcpl = H5Handle(id: try HDF5.check(H5Pcreate(mk_H5P_GROUP_CREATE()), "making group properties"), path: path)
        try HDF5.check(H5Pset_obj_track_times(gcpl.id, false), "turning off timestamps")
        return H5Group(id: try HDF5.check(H5Gcreate2(id, name, mk_H5P_DEFAULT(), gcpl.id, mk_H5P_DEFAULT()), "creating group \(child(name))"),
                       path: child(name))
    }

    /// The names of the group's links, in name order. Refuses groups with more than `limit` members.
    public func members(limit: Int = 1 << 20) throws -> [String] {
        var info = H5G_info_t()
        try HDF5.check(H5Gget_info(id, &info), "listing \(path)")
        guard info.nlinks <= UInt64(limit) else { throw ModelError.format("HDF5: \(path) has \(info.nlinks) members (limit \(limit))") }
        var names: [String] = []
        for i in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, mk_H5P_DEFAULT())
            guard length >= 0, length < 1 << 16 else { throw HDF5.failure("listing \(path)") }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            guard H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, mk_H5P_DEFAULT()) >= 0 else {
                throw HDF5.failure("listing \(path)")
            }
            names.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    /// Writes a tensor as a dataset in its own dtype (bf16 as 16-bit unsigned integers). With `compress`, non-empty
    /// tensors of rank ≥ 1 are chunked (about 1 MiB a chunk, along the first axis) with shuffle + deflate level 4 (h5py's default gzip level).
    @discardableResult
    public func createDataset(_ name: String, tensor: Tensor, compress: Bool) throws -> H5Dataset {
        var dims = tensor.shape.map { hsize_t($0) }
        let space = H5Handle(id: try HDF5.check(tensor.shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), &dims, nil),
                                                "making the shape of \(child(name))"), path: path)
        let fileType = H5Handle(id: try HDF5.fileType(tensor.dtype), path: path)
        let dcpl = H5Handle(id: try HDF5.check(H5Pcreate(mk_H5P_DATASET_CREATE()), "making dataset properties"), path: path)
        try HDF5.check(H5Pset_obj_track_times(dcpl.id, false), "turning off timestamps")
        if compress && !tensor.shape.isEmpty && tensor.elementCount > 0 {
            var chunk = dims
            let rowBytes = max(1, tensor.byteCount / tensor.shape[0])
            chunk[0] = hsize_t(max(1, min(tensor.shape[0], (1 << 20) / rowBytes)))
            try HDF5.check(H5Pset_chunk(dcpl.id, Int32(chunk.count), &chunk), "chunking \(child(name))")
            try HDF5.check(H5Pset_shuffle(dcpl.id), "setting the shuffle filter on \(child(name))")
            try HDF5.check(H5Pset_deflate(dcpl.id, 4), "setting deflate on \(child(name))")
        }
        let dataset = H5Dataset(id: try HDF5.check(H5Dcreate2(id, name, fileType.id, space.id, mk_H5P_DEFAULT(), dcpl.id, mk_H5P_DEFAULT()),
                                                   "creating dataset \(child(name))"), path: child(name))
        if tensor.elementCount > 0 {
            let memType = H5Handle(id: try HDF5.memoryType(tensor.dtype), path: path)
            try HDF5.check(H5Dwrite(dataset.id, memType.id, mk_H5S_ALL(), mk_H5S_ALL(), mk_H5P_DEFAULT(), tensor.bytes.baseAddress),
                           "writing dataset \(child(name))")
        }
        return dataset
    }
}

public final class H5File: H5Handle {
    /// Creates (truncating) a file. Object timestamps are off so the same content gives the same bytes; the v1.8
    /// object format lets attributes exceed 64 KiB (a large architecture JSON) by storing them densely.
    public static func create(path: String) throws -> H5File {
        let fapl = H5Handle(id: try HDF5.check(H5Pcreate(mk_H5P_FILE_ACCESS()), "making file access properties"), path: path)
        try HDF5.check(H5Pset_libver_bounds(fapl.id, H5F_LIBVER_V18, H5F_LIBVER_V18), "setting the file format version")
        // The root group is created with the file; the file creation list is also an object creation list, so this
        // keeps the root group's timestamps out too (they made two saves of one model differ, found by the kill test).
        let fcpl = H5Handle(id: try HDF5.check(H5Pcreate(mk_H5P_FILE_CREATE()), "making file creation properties"), path: path)
        try HDF5.check(H5Pset_obj_track_times(fcpl.id, false), "turning off the root group's timestamps")
        let id = try HDF5.check(H5Fcreate(path, mk_H5F_ACC_TRUNC(), fcpl.id, fapl.id), "creating \(path)")
        return H5File(id: id, path: path)
    }

    public static func open(path: String) throws -> H5File {
        let mapped = try MappedFile(path: path)
        try HDF5.checkGlobalHeaps(mapped.bytes, source: path)
        return H5File(id: try HDF5.check(H5Fopen(path, mk_H5F_ACC_RDONLY(), mk_H5P_DEFAULT()), "opening \(path)"), path: path)
    }

    /// Opens an HDF5 file held in memory (the core driver with a file image; no temporary file).
    public static func open(image: [UInt8], name: String) throws -> H5File {
        try image.withUnsafeBytes { try HDF5.checkGlobalHeaps($0, source: name) }
        let fapl = H5Handle(id: try HDF5.check(H5Pcreate(mk_H5P_FILE_ACCESS()), "making file access properties"), path: name)
        try HDF5.check(H5Pset_fapl_core(fapl.id, 1 << 16, false), "selecting the in-memory driver")
        try HDF5.check(image.withUnsafeBytes { H5Pset_file_image(fapl.id, UnsafeMutableRawPointer(mutating: $0.baseAddress), $0.count) },
                       "loading the image of \(name)")
        return H5File(id: try HDF5.check(H5Fopen(name, mk_H5F_ACC_RDONLY(), fapl.id), "opening \(name)"), path: name)
    }

    public func root() throws -> H5Group {
        H5Group(id: try HDF5.check(H5Gopen2(id, "/", mk_H5P_DEFAULT()), "opening the root group of \(path)"), path: "/")
    }

    /// Flushes and closes; other handles to objects in the file must be released first for the close to complete.
    public func close() throws {
        guard isOpen else { return }
        isOpen = false
        try HDF5.check(H5Fflush(id, H5F_SCOPE_LOCAL), "flushing \(path)")
        try HDF5.check(H5Fclose(id), "closing \(path)")
    }
}

extension HDF5 {
    /// The type tensors of `dtype` are stored as in a file (little-endian).
    static func fileType(_ dtype: DType) throws -> hid_t {
        switch dtype {
        case .f16: return try check(mk_create_f16_type(), "making the float16 type")
        case .bf16: return H5Tcopy(mk_H5T_STD_U16LE())
        case .f32: return H5Tcopy(mk_H5T_IEEE_F32LE())
        case .f64: return H5Tcopy(mk_H5T_IEEE_F64LE())
        case .i8: return H5Tcopy(mk_H5T_STD_I8LE())
        case .u8: return H5Tcopy(mk_H5T_STD_U8LE())
        case .i16: return H5Tcopy(mk_H5T_STD_I16LE())
        case .i32: return H5Tcopy(mk_H5T_STD_I32LE())
        case .i64: return H5Tcopy(mk_H5T_STD_I64LE())
        case .bool: return try check(mk_create_bool_type(), "making the bool type")
        }
    }

    /// The in-memory type for `dtype` (ModelKit tensors are little-endian; this machine is too).
    static func memoryType(_ dtype: DType) throws -> hid_t {
        try fileType(dtype)
    }
}
