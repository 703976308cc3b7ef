#if canImport(Glibc)
import Glibc
#endif

/// Immutable bytes behind a tensor: either owned (allocated here) or a slice of a memory-mapped file,
/// kept alive by `owner` so that tensors handed out by a mapped load stay valid after the loader returns.
public final class TensorStorage: @unchecked Sendable {
    // @unchecked: the bytes are never written after init, so sharing across threads is safe.
    public let base: UnsafeRawPointer
    public let count: Int
    private let owner: AnyObject?
    private let ownsAllocation: Bool

    /// Copies `bytes`.
    public init(copying bytes: UnsafeRawBufferPointer) {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        if let src = bytes.baseAddress, bytes.count > 0 { memory.copyMemory(from: src, byteCount: bytes.count) }
        base = UnsafeRawPointer(memory)
        count = bytes.count
        owner = nil
        ownsAllocation = true
    }

    /// Takes ownership of `count` bytes that `fill` writes into fresh memory.
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        do { try fill(UnsafeMutableRawBufferPointer(start: memory, count: count)) } catch {
            memory.deallocate(); throw error
        }
        base = UnsafeRawPointer(memory)
        self.count = count
        owner = nil
        ownsAllocation = true
    }

    /// Borrows `count` bytes at `base`, which `owner` keeps valid (a mapped file).
    public init(borrowing base: UnsafeRawPointer, count: Int, owner: AnyObject) {
        self.base = base
        self.count = count
        self.owner = owner
        ownsAllocation = false
    }

    deinit { if ownsAllocation { UnsafeMutableRawPointer(mutating: base).deallocate() } }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

/// A dense tensor: dtype, shape and contiguous row-major little-endian bytes.
/// Equality compares dtype, shape and bytes bit for bit (so NaN == NaN with the same payload, and -0.0 != 0.0).
public struct Tensor: Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let storage: TensorStorage

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { storage.count }
    public var bytes: UnsafeRawBufferPointer { storage.bytes }

    /// Number of bytes a tensor of this dtype and shape takes, or nil on negative dimensions or overflow.
    public static func byteCount(dtype: DType, shape: [Int]) -> Int? {
        var total = dtype.byteSize
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// Wraps existing storage; the caller guarantees `storage.count` matches dtype and shape.
    public init(dtype: DType, shape: [Int], storage: TensorStorage) {
        precondition(Tensor.byteCount(dtype: dtype, shape: shape) == storage.count, "tensor bytes disagree with shape")
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
    }

    /// Copies raw little-endian bytes; throws when their count disagrees with dtype × shape.
    public init(dtype: DType, shape: [Int], bytes: UnsafeRawBufferPointer) throws {
        guard let expected = Tensor.byteCount(dtype: dtype, shape: shape), expected == bytes.count else {
            throw ModelError.shapeMismatch(name: "", expected: shape, detail: "\(bytes.count) bytes for \(dtype.rawValue) \(shape)")
        }
        self.init(dtype: dtype, shape: shape, storage: TensorStorage(copying: bytes))
    }

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) throws {
        try self.init(dtype: dtype, shape: shape, bytes: bytes.withUnsafeBytes { $0 }.self)
    }

    /// A tensor of zeros.
    public static func zeros(dtype: DType, shape: [Int]) -> Tensor {
        let count = Tensor.byteCount(dtype: dtype, shape: shape) ?? 0
        return Tensor(dtype: dtype, shape: shape, storage: TensorStorage(count: count) { $0.initializeMemory(as: UInt8.self, repeating: 0) })
    }

    public init(_ values: [Float], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *))
        self.init(dtype: .f32, shape: shape, storage: values.withUnsafeBytes { TensorStorage(copying: $0) })
    }

    public init(_ values: [Double], shape: [Int]) {
        precondition(values.count == shape.reduce(1, *))
        self.init(dtype: .f64, shape: shape, storage: values.withUnsafeBytes { TensorStorage(copying: $0) })
    }

    /// Values as Double, converting from any dtype (bool as 0/1). Exact for every dtype but i64/u64 beyond 2^53.
    public func doubles() -> [Double] {
        let n = elementCount
        let raw = bytes
        var out = [Double](repeating: 0, count: n)
        switch dtype {
        case .f64: for i in 0..<n { out[i] = raw.loadUnaligned(fromByteOffset: i * 8, as: Double.self) }
        case .f32: for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: i * 4, as: Float.self)) }
        case .f16: for i in 0..<n { out[i] = Double(HalfFloat.float(fromBits: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) }
        case .bf16: for i in 0..<n { out[i] = Double(Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) << 16)) }
        case .i8: for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: i, as: Int8.self)) }
        case .u8, .bool: for i in 0..<n { out[i] = Double(raw[i]) }
        case .i16: for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)) }
        case .i32: for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
        case .i64: for i in 0..<n { out[i] = Double(raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
        }
        return out
    }

    /// Values as Float (f32 exact; f64 rounded; others converted).
    public func floats() -> [Float] {
        if dtype == .f32 {
            return [Float](unsafeUninitializedCapacity: elementCount) { buffer, initialized in
                if byteCount > 0 { UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: storage.base, byteCount: byteCount) }
                initialized = elementCount
            }
        }
        return doubles().map { Float($0) }
    }

    /// Converts values into a tensor of `dtype` (rounding to nearest for floats).
    public static func fromDoubles(_ values: [Double], dtype: DType, shape: [Int]) -> Tensor {
        let count = Tensor.byteCount(dtype: dtype, shape: shape) ?? 0
        let storage = TensorStorage(count: count) { out in
            for (i, v) in values.enumerated() {
                switch dtype {
                case .f64: out.storeBytes(of: v, toByteOffset: i * 8, as: Double.self)
                case .f32: out.storeBytes(of: Float(v), toByteOffset: i * 4, as: Float.self)
                case .f16: out.storeBytes(of: HalfFloat.bits(from: Float(v)), toByteOffset: i * 2, as: UInt16.self)
                case .bf16: out.storeBytes(of: BFloat16.bits(from: Float(v)), toByteOffset: i * 2, as: UInt16.self)
                case .i8: out.storeBytes(of: Int8(clamping: Int64(v)), toByteOffset: i, as: Int8.self)
                case .u8: out.storeBytes(of: UInt8(clamping: Int64(v)), toByteOffset: i, as: UInt8.self)
                case .bool: out.storeBytes(of: UInt8(v != 0 ? 1 : 0), toByteOffset: i, as: UInt8.self)
                case .i16: out.storeBytes(of: Int16(clamping: Int64(v)), toByteOffset: i * 2, as: Int16.self)
                case .i32: out.storeBytes(of: Int32(clamping: Int64(v)), toByteOffset: i * 4, as: Int32.self)
                case .i64: out.storeBytes(of: Int64(v), toByteOffset: i * 8, as: Int64.self)
                }
            }
        }
        return Tensor(dtype: dtype, shape: shape, storage: storage)
    }
}

extension Tensor: Equatable {
    public static func == (a: Tensor, b: Tensor) -> Bool {
        guard a.dtype == b.dtype, a.shape == b.shape, a.byteCount == b.byteCount else { return false }
        if a.storage === b.storage || a.byteCount == 0 { return true }
        return memcmp(a.storage.base, b.storage.base, a.byteCount) == 0
    }
}

/// IEEE 754 binary16 conversions (round to nearest even), since Float16 is not available on every x86 toolchain path.
public enum HalfFloat {
    public static func float(fromBits h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1f)
        let mantissa = UInt32(h & 0x3ff)
        if exponent == 0 {
            // Zero or subnormal: mantissa × 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
    }

    public static func bits(from value: Float) -> UInt16 {
        let x = value.bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exponent = Int((x >> 23) & 0xff)
        var mantissa = x & 0x7f_ffff
        if exponent == 0xff { return sign | 0x7c00 | (mantissa != 0 ? UInt16(0x200 | (mantissa >> 13)) : 0) }
        let e = exponent - 127 + 15
        if e >= 31 { return sign | 0x7c00 }
        if e <= 0 {
            if e < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - e)
            let halfway = UInt32(1) << (shift - 1)
            var result = mantissa >> shift
            let remainder = mantissa & ((UInt32(1) << shift) - 1)
            if remainder > halfway || (remainder == halfway && (result & 1) == 1) { result += 1 }
            return sign | UInt16(result)
        }
        var result = UInt32(e) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1fff
        if remainder > 0x1000 || (remainder == 0x1000 && (result & 1) == 1) { result += 1 }
        return sign | UInt16(result)
    }
}

/// bfloat16: the top 16 bits of an f32, rounded to nearest even.
public enum BFloat16 {
    public static func float(fromBits b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
    public static func bits(from value: Float) -> UInt16 {
        let x = value.bitPattern
        if value.isNaN { return UInt16(x >> 16) | 0x40 }
        let rounding = 0x7fff + ((x >> 16) & 1)
        return UInt16((x &+ rounding) >> 16)
    }
}
