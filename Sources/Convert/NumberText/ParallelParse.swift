import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import ModelFormat

/// Parsing large flat number arrays on every core. The text is cut at separators into parts, each part is parsed
/// into its own buffer concurrently, and the parts are copied into place once their counts are known. Only the
/// plain case is handled here (numbers and quoted non-finite values, nothing else); whenever a part holds anything
/// else, or the counts disagree with the shape, the caller parses the text again sequentially, so errors keep their
/// exact line and column and the result never depends on the number of threads.
enum ParallelParse {
    /// Below this many values one thread is as fast.
    static let minimumValues = 1 << 16
    static let parts = 8

    struct Shared: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
        let buffers: [UnsafeMutableRawPointer]
        let counts: UnsafeMutablePointer<Int>
    }

    /// Parses the flat JSON array whose '[' is at `open` into `base` (f32 or f64, `count` values). Returns the index
    /// after the closing ']', or nil to ask for the sequential parser.
    static func flatJSON(_ bytes: UnsafeRawBufferPointer, open: Int, count: Int, dtype: DType, into base: UnsafeMutableRawPointer) -> Int? {
        // A flat array of numbers holds no ']': its end is the first one. (Were the array nested after all, the part
        // holding the inner '[' fails to parse and the caller starts over sequentially.)
        guard let text = bytes.baseAddress, open + 1 < bytes.count,
              let found = memchr(text + open + 1, Int32(UInt8(ascii: "]")), bytes.count - open - 1) else { return nil }
        let close = text.distance(to: UnsafeRawPointer(found))
        // Cut [open + 1, close) after commas near equal shares.
        var cuts = [open + 1]
        let share = (close - open - 1) / parts
        for p in 1..<parts {
            var c = max(cuts.last!, open + 1 + p * share)
            while c < close, bytes[c] != UInt8(ascii: ",") { c += 1 }
            guard c < close else { break }
            cuts.append(c + 1)
        }
        cuts.append(close)
        let bounds = cuts
        let n = bounds.count - 1
        let size = dtype.byteSize
        let shared = Shared(bytes: bytes,
                            buffers: (0..<n).map { k in .allocate(byteCount: ((bounds[k + 1] - bounds[k]) / 2 + 1) * size, alignment: 8) },
                            counts: .allocate(capacity: n))
        defer { shared.buffers.forEach { $0.deallocate() }; shared.counts.deallocate() }
        DispatchQueue.concurrentPerform(iterations: n) { k in
            shared.counts[k] = part(shared.bytes, from: bounds[k], to: bounds[k + 1], last: k == n - 1, dtype: dtype, into: shared.buffers[k])
        }
        var total = 0
        for k in 0..<n {
            guard shared.counts[k] >= 0 else { return nil }
            total += shared.counts[k]
        }
        guard total == count else { return nil }
        var offset = 0
        for k in 0..<n {
            (base + offset).copyMemory(from: shared.buffers[k], byteCount: shared.counts[k] * size)
            offset += shared.counts[k] * size
        }
        return close + 1
    }

    /// Values in [from, to): `v,v,…,v,` (or without the final ',' for the last part). Returns the count, or -1.
    static func part(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int, last: Bool, dtype: DType, into out: UnsafeMutableRawPointer) -> Int {
        var i = from
        var k = 0
        let view = UnsafeRawBufferPointer(rebasing: bytes[0..<to])
        @inline(__always) func skip() { while i < to, view[i] == 0x20 || view[i] == 0x0a || view[i] == 0x0d || view[i] == 0x09 { i += 1 } }
        skip()
        if i == to { return last ? 0 : -1 }
        while true {
            skip()
            if dtype == .f32, let (v, end) = NumberScan.parse(view, at: i, json: true, as: Float.self) {
                out.storeBytes(of: v, toByteOffset: k &* 4, as: Float.self)
                i = end
            } else if dtype == .f64, let (v, end) = NumberScan.parse(view, at: i, json: true, as: Double.self) {
                out.storeBytes(of: v, toByteOffset: k &* 8, as: Double.self)
                i = end
            } else if i < to, view[i] == UInt8(ascii: "\""), let (v, end) = NumberScan.scanNonFinite(view, at: i + 1, json: true),
                      end < to, view[end] == UInt8(ascii: "\"") {
                if dtype == .f32 { out.storeBytes(of: Float(v), toByteOffset: k &* 4, as: Float.self) } else {
                    out.storeBytes(of: v, toByteOffset: k &* 8, as: Double.self)
                }
                i = end + 1
            } else {
                return -1
            }
            k += 1
            skip()
            if i == to { return last ? k : -1 }
            guard view[i] == UInt8(ascii: ",") else { return -1 }
            i += 1
            skip()
            if i == to { return last ? -1 : k }
        }
    }
}

extension ParallelParse {
    /// Parses a numeric CSV file of exactly `rows` × `columns` f32 or f64 values into `base`, cutting the text at line
    /// ends into parts parsed concurrently. Returns false (the caller then parses sequentially, reporting any error
    /// with its line and column) when a part fails to parse or the shape disagrees.
    static func csv(_ bytes: UnsafeRawBufferPointer, rows: Int, columns: Int, dtype: DType, into base: UnsafeMutableRawPointer) -> Bool {
        var cuts = [0]
        let share = bytes.count / parts
        for p in 1..<parts {
            var c = max(cuts.last!, p * share)
            while c < bytes.count, bytes[c] != 0x0a { c += 1 }
            guard c + 1 < bytes.count else { break }
            cuts.append(c + 1)
        }
        cuts.append(bytes.count)
        let bounds = cuts
        let n = bounds.count - 1
        let size = dtype.byteSize
        let shared = Shared(bytes: bytes,
                            buffers: (0..<n).map { k in .allocate(byteCount: ((bounds[k + 1] - bounds[k]) / 2 + 1) * size, alignment: 8) },
                            counts: .allocate(capacity: 2 * n))
        defer { shared.buffers.forEach { $0.deallocate() }; shared.counts.deallocate() }
        DispatchQueue.concurrentPerform(iterations: n) { k in
            let slice = UnsafeRawBufferPointer(rebasing: shared.bytes[bounds[k]..<bounds[k + 1]])
            let out = shared.buffers[k]
            var count = 0
            do {
                let shape: (rows: Int, columns: Int)
                if dtype == .f32 {
                    shape = try NumericCSV.scan(slice, source: "", as: Float.self) { (v: Float) throws(ModelError) in
                        out.storeBytes(of: v, toByteOffset: count &* 4, as: Float.self)
                        count += 1
                    }
                } else {
                    shape = try NumericCSV.scan(slice, source: "", as: Double.self) { (v: Double) throws(ModelError) in
                        out.storeBytes(of: v, toByteOffset: count &* 8, as: Double.self)
                        count += 1
                    }
                }
                shared.counts[2 * k] = shape.rows
                shared.counts[2 * k + 1] = shape.columns
            } catch {
                shared.counts[2 * k] = -1
            }
        }
        var total = 0
        for k in 0..<n {
            guard shared.counts[2 * k] >= 0, shared.counts[2 * k + 1] == columns else { return false }
            total += shared.counts[2 * k]
        }
        guard total == rows else { return false }
        var offset = 0
        for k in 0..<n {
            let byteCount = shared.counts[2 * k] * columns * size
            (base + offset).copyMemory(from: shared.buffers[k], byteCount: byteCount)
            offset += byteCount
        }
        return true
    }
}
