import Dispatch
import ModelFormat

/// Tensor elements as text, for the JSON and CSV dumps. Floats are written as the shortest decimal that reads back to
/// the same value in the tensor's own dtype (f16, bf16, f32, f64); integers in decimal; bool as 0 or 1.
enum TensorText {
    /// Writes elements `range` of `tensor`, separated by `separator`, with `terminator` after the last one (0: none).
    /// JSON quotes non-finite floats (`"NaN"`); CSV does not.
    static func write(_ tensor: Tensor, range: Range<Int>, separator: UInt8, terminator: UInt8, quoteNonFinite: Bool,
                      to sink: ByteSink, bfloat16Cache: inout [UInt16: [UInt8]]) throws(ModelError) {
        let raw = tensor.bytes
        let q = quoteNonFinite
        func emit(_ body: (Int, UnsafeMutablePointer<UInt8>) -> Int) throws(ModelError) {
            for i in range {
                try sink.reserve(NumberFormat.maxWidth + 2)
                let p = sink.cursor
                var n = body(i, p)
                p[n] = i + 1 == range.upperBound ? terminator : separator
                if p[n] != 0 { n += 1 }
                try sink.advance(n)
            }
        }
        switch tensor.dtype {
        case .f32: try emit { i, p in NumberFormat.write(raw.loadUnaligned(fromByteOffset: i * 4, as: Float.self), to: p, quoteNonFinite: q) }
        case .f64: try emit { i, p in NumberFormat.write(raw.loadUnaligned(fromByteOffset: i * 8, as: Double.self), to: p, quoteNonFinite: q) }
        case .f16: try emit { i, p in NumberFormat.write(half: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self), to: p, quoteNonFinite: q) }
        case .bf16:
            // At most 65536 distinct values, and finding the shortest text takes several tries: remember each.
            var cache = bfloat16Cache
            try emit { i, p in
                let bits = raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
                if let text = cache[bits] {
                    for (k, b) in text.enumerated() { p[k] = b }
                    return text.count
                }
                let n = NumberFormat.write(bfloat16: bits, to: p, quoteNonFinite: q)
                cache[bits] = Array(UnsafeBufferPointer(start: p, count: n))
                return n
            }
            bfloat16Cache = cache
        case .i8: try emit { i, p in writeInteger(Int64(raw.loadUnaligned(fromByteOffset: i, as: Int8.self)), to: p) }
        case .u8, .bool: try emit { i, p in writeInteger(Int64(raw[i]), to: p) }
        case .i16: try emit { i, p in writeInteger(Int64(raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)), to: p) }
        case .i32: try emit { i, p in writeInteger(Int64(raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)), to: p) }
        case .i64: try emit { i, p in writeInteger(raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self), to: p) }
        }
    }

    /// A raw pointer that may cross into `concurrentPerform`'s workers; each worker writes only its own buffer and
    /// reads the tensor, which nothing writes.
    struct SharedPointer: @unchecked Sendable { let raw: UnsafeRawPointer? }
    struct SharedBuffers: @unchecked Sendable { let pointers: [UnsafeMutablePointer<UInt8>] }
    struct SharedLengths: @unchecked Sendable { let lengths: UnsafeMutablePointer<Int> }

    /// Values per formatting chunk, and chunks formatted at once across threads.
    static let chunk = 1 << 15
    static let chunksPerBatch = 8

    /// Writes a whole f32 or f64 tensor: after element i a ',' or, when (i + 1) is a multiple of `rowLength` or i is
    /// the last element, `rowEnd` (0: nothing; JSON data ends without a separator). Large tensors are formatted in 32K-value chunks on
    /// every core (`DispatchQueue.concurrentPerform`), then appended in order; the output is the same bytes as the
    /// one-value-at-a-time path.
    static func writeFloats(_ tensor: Tensor, rowLength: Int, rowEnd: UInt8, quoteNonFinite: Bool, to sink: ByteSink) throws(ModelError) {
        precondition(tensor.dtype == .f32 || tensor.dtype == .f64)
        let count = tensor.elementCount
        let isDouble = tensor.dtype == .f64
        let source = SharedPointer(raw: tensor.bytes.baseAddress)
        let width = NumberFormat.maxWidth + 1
        @Sendable func format(_ lo: Int, _ hi: Int, into start: UnsafeMutablePointer<UInt8>) -> Int {
            guard let raw = source.raw else { return 0 }
            var p = start
            var column = lo % rowLength
            for i in lo..<hi {
                p += isDouble ? NumberFormat.write(raw.loadUnaligned(fromByteOffset: i &* 8, as: Double.self), to: p, quoteNonFinite: quoteNonFinite)
                              : NumberFormat.write(raw.loadUnaligned(fromByteOffset: i &* 4, as: Float.self), to: p, quoteNonFinite: quoteNonFinite)
                column += 1
                if column == rowLength || i == count - 1 {
                    column = 0
                    if rowEnd != 0 { p.pointee = rowEnd; p += 1 }
                } else {
                    p.pointee = UInt8(ascii: ","); p += 1
                }
            }
            return p - start
        }
        if count < 2 * chunk {
            var lo = 0
            while lo < count {
                let hi = min(count, lo + 4096)
                try sink.reserve((hi - lo) * width)
                try sink.advance(format(lo, hi, into: sink.cursor))
                lo = hi
            }
            return
        }
        let buffers = SharedBuffers(pointers: (0..<chunksPerBatch).map { _ in .allocate(capacity: chunk * width) })
        defer { buffers.pointers.forEach { $0.deallocate() } }
        let lengths = SharedLengths(lengths: .allocate(capacity: chunksPerBatch))
        defer { lengths.lengths.deallocate() }
        var first = 0
        while first < count {
            let n = min(chunksPerBatch, (count - first + chunk - 1) / chunk)
            let base = first
            DispatchQueue.concurrentPerform(iterations: n) { k in
                let lo = base + k * chunk, hi = min(count, lo + chunk)
                lengths.lengths[k] = format(lo, hi, into: buffers.pointers[k])
            }
            for k in 0..<n { try sink.append(UnsafeRawBufferPointer(start: buffers.pointers[k], count: lengths.lengths[k])) }
            first += n * chunk
        }
    }

    @inline(__always)
    static func writeInteger(_ v: Int64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0
        if v < 0 { p[0] = UInt8(ascii: "-"); n = 1 }
        let start = n
        var m = v.magnitude
        repeat {
            p[n] = UInt8(48 + m % 10)
            m /= 10
            n += 1
        } while m > 0
        var (i, j) = (start, n - 1)
        while i < j { let t = p[i]; p[i] = p[j]; p[j] = t; i += 1; j -= 1 }
        return n
    }
}

/// Stores parsed values into a tensor's bytes, converting to its dtype: floats rounded once from the text to the
/// dtype, integers checked to be whole and in range.
struct ElementStore {
    let dtype: DType
    let base: UnsafeMutableRawPointer

    /// Stores a scanned decimal at element `k`; returns an error message when the dtype cannot hold it.
    @inline(__always)
    func store(_ s: NumberScan.Scanned, in bytes: UnsafeRawBufferPointer, at k: Int) -> String? {
        switch dtype {
        case .f32: base.storeBytes(of: NumberScan.float(s, in: bytes), toByteOffset: k * 4, as: Float.self)
        case .f64: base.storeBytes(of: NumberScan.double(s, in: bytes), toByteOffset: k * 8, as: Double.self)
        case .f16: base.storeBytes(of: NumberScan.halfBits(NumberScan.double(s, in: bytes)), toByteOffset: k * 2, as: UInt16.self)
        case .bf16: base.storeBytes(of: NumberScan.bfloat16Bits(NumberScan.double(s, in: bytes)), toByteOffset: k * 2, as: UInt16.self)
        default:
            guard let v = ElementStore.integer(s) else {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[s.start..<s.end]), as: UTF8.self)
                return "'\(text)' is not a whole number within 64 bits (\(dtype.rawValue) tensor)"
            }
            return storeInteger(v, at: k)
        }
        return nil
    }

    /// Stores NaN or ±infinity (floating-point dtypes only).
    func store(nonFinite v: Double, at k: Int) -> String? {
        switch dtype {
        case .f32: base.storeBytes(of: Float(v), toByteOffset: k * 4, as: Float.self)
        case .f64: base.storeBytes(of: v, toByteOffset: k * 8, as: Double.self)
        case .f16: base.storeBytes(of: NumberScan.halfBits(v), toByteOffset: k * 2, as: UInt16.self)
        case .bf16: base.storeBytes(of: NumberScan.bfloat16Bits(v), toByteOffset: k * 2, as: UInt16.self)
        default: return "\(v) in a \(dtype.rawValue) tensor (integer dtypes hold no NaN or infinity)"
        }
        return nil
    }

    private func storeInteger(_ v: Int64, at k: Int) -> String? {
        func outOfRange() -> String { "\(v) is out of range for \(dtype.rawValue)" }
        switch dtype {
        case .i8: guard let x = Int8(exactly: v) else { return outOfRange() }; base.storeBytes(of: x, toByteOffset: k, as: Int8.self)
        case .u8: guard let x = UInt8(exactly: v) else { return outOfRange() }; base.storeBytes(of: x, toByteOffset: k, as: UInt8.self)
        case .bool: guard v == 0 || v == 1 else { return "\(v) is not 0 or 1 (bool tensor)" }; base.storeBytes(of: UInt8(v), toByteOffset: k, as: UInt8.self)
        case .i16: guard let x = Int16(exactly: v) else { return outOfRange() }; base.storeBytes(of: x, toByteOffset: k * 2, as: Int16.self)
        case .i32: guard let x = Int32(exactly: v) else { return outOfRange() }; base.storeBytes(of: x, toByteOffset: k * 4, as: Int32.self)
        case .i64: base.storeBytes(of: v, toByteOffset: k * 8, as: Int64.self)
        default: break
        }
        return nil
    }

    /// The exact integer a scanned decimal denotes, or nil when it is not whole or does not fit Int64.
    static func integer(_ s: NumberScan.Scanned) -> Int64? {
        guard !s.truncated else { return nil }
        var m = s.mantissa
        var e = s.exponent
        while e < 0 {
            guard m % 10 == 0 else { return m == 0 ? 0 : nil }
            m /= 10; e += 1
        }
        while e > 0, m != 0 {
            let (x, o) = m.multipliedReportingOverflow(by: 10)
            if o { return nil }
            m = x; e -= 1
        }
        if s.negative {
            guard m <= UInt64(Int64.max) + 1 else { return nil }
            return m == UInt64(Int64.max) + 1 ? Int64.min : -Int64(m)
        }
        guard m <= UInt64(Int64.max) else { return nil }
        return Int64(m)
    }
}
