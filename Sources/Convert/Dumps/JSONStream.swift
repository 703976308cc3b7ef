import ModelFormat

/// A cursor over JSON bytes for documents too large to hold as a `JSONValue` tree: the caller walks the structure it
/// expects, hands small values (strings, the architecture) to the strict `JSONParser`, and reads tensor data arrays
/// straight into tensor storage. Errors are `ModelError.parse` with the line and column in the whole document.
struct JSONStream {
    let bytes: UnsafeRawBufferPointer
    let source: String
    var index = 0

    init(bytes: UnsafeRawBufferPointer, source: String) { self.bytes = bytes; self.source = source }

    func fail(_ message: String, at offset: Int? = nil) -> ModelError {
        let (line, column) = JSONParser.location(of: offset ?? index, in: bytes)
        return .parse(source: source, line: line, column: column, message: message)
    }

    var atEnd: Bool { index >= bytes.count }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            let b = bytes[index]
            if b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09 { index += 1 } else { return }
        }
    }

    /// The next non-whitespace byte, or nil at the end.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return index < bytes.count ? bytes[index] : nil
    }

    func describe(_ b: UInt8?) -> String {
        guard let b else { return "the end of the input" }
        return b >= 0x20 && b < 0x7f ? "'\(Unicode.Scalar(b))'" : String(format: b)
    }

    private func String(format b: UInt8) -> Swift.String { "byte 0x" + Swift.String(b, radix: 16) }

    mutating func expect(_ c: UInt8, _ what: String) throws(ModelError) {
        let b = peek()
        guard b == c else { throw fail("expected \(what), found \(describe(b))") }
        index += 1
    }

    /// After a member or element: true on ',' (another follows), false on `close`.
    mutating func separator(close: UInt8, in what: String) throws(ModelError) -> Bool {
        let b = peek()
        if b == UInt8(ascii: ",") { index += 1; return true }
        if b == close { index += 1; return false }
        throw fail("expected ',' or '\(Unicode.Scalar(close))' in \(what), found \(describe(b))")
    }

    /// Reads a string (through `JSONParser` for escapes and UTF-8 validation).
    mutating func string(_ what: String) throws(ModelError) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string for \(what), found \(describe(peek()))") }
        let start = index
        index += 1
        var plain = true
        var closed = false
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") { index += 1; closed = true; break }
            if b == UInt8(ascii: "\\") { plain = false; index += 2; continue }
            if b < 0x20 || b >= 0x80 { plain = false }
            index += 1
        }
        // `closed`, not the last byte: a lone opening quote at the very end is also a quote.
        guard closed, index <= bytes.count else { throw fail("unterminated string", at: start) }
        if plain { return Swift.String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(index - 1)]), as: UTF8.self) }
        guard case .string(let s) = try parseSlice(start..<index) else { throw fail("expected a string", at: start) }
        return s
    }

    /// Skips one value of any kind (brackets and strings matched; the slice is validated by `JSONParser` later when
    /// used) and returns its byte range.
    mutating func skipValue() throws(ModelError) -> Range<Int> {
        skipWhitespace()
        let start = index
        guard index < bytes.count else { throw fail("unexpected end of input, expected a value") }
        func skipString(_ s: inout JSONStream) throws(ModelError) {
            let open = s.index
            s.index += 1
            while s.index < s.bytes.count, s.bytes[s.index] != UInt8(ascii: "\"") {
                s.index += s.bytes[s.index] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard s.index < s.bytes.count else { throw s.fail("unterminated string", at: open) }
            s.index += 1
        }
        let first = bytes[index]
        if first == UInt8(ascii: "\"") {
            try skipString(&self)
            return start..<index
        }
        if first == UInt8(ascii: "[") || first == UInt8(ascii: "{") {
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""): try skipString(&self); continue
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    guard depth <= JSONParser.maxDepth else { throw fail("nesting deeper than \(JSONParser.maxDepth)") }
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    depth -= 1
                    if depth == 0 { index += 1; return start..<index }
                default: break
                }
                index += 1
            }
            throw fail("unexpected end of input: '\(Unicode.Scalar(first))' is never closed", at: start)
        }
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: ",") || b == UInt8(ascii: "]") || b == UInt8(ascii: "}") || b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09 { break }
            index += 1
        }
        guard index > start else { throw fail("expected a value, found \(describe(bytes[start]))") }
        return start..<index
    }

    /// Parses a byte range with the strict tree parser; errors point into the whole document.
    func parseSlice(_ range: Range<Int>) throws(ModelError) -> JSONValue {
        do {
            return try JSONParser.parse(UnsafeRawBufferPointer(rebasing: bytes[range]))
        } catch {
            throw fail(error.message, at: range.lowerBound + error.offset)
        }
    }

    /// Reads the next value as a tree (small values only).
    mutating func value() throws(ModelError) -> JSONValue {
        let range = try skipValue()
        return try parseSlice(range)
    }

    /// Reads a data array (flat, or nested to match `shape`) of `dtype` straight into a new tensor. The element count
    /// is checked against what the rest of the input could hold before anything is allocated.
    mutating func tensorData(dtype: DType, shape: [Int], name: String) throws(ModelError) -> Tensor {
        guard let byteCount = Tensor.byteCount(dtype: dtype, shape: shape) else {
            throw fail("tensor '\(name)': shape \(shape) has a negative dimension or is too large")
        }
        let count = shape.reduce(1, *)
        skipWhitespace()
        // Each value takes at least one byte and one separator: refuse shapes the input cannot possibly fill.
        let remaining = bytes.count - index
        guard count <= remaining / 2 + 1 else {
            throw fail("tensor '\(name)': shape \(shape) declares \(count) values but only \(remaining) bytes of input remain")
        }
        let start = index
        guard peek() == UInt8(ascii: "[") else { throw fail("tensor '\(name)': expected '[' to start the data, found \(describe(peek()))") }
        var this = self
        let storage: TensorStorage
        do {
            storage = try TensorStorage(count: byteCount) { (buffer: UnsafeMutableRawBufferPointer) throws(ModelError) in
                let store = ElementStore(dtype: dtype, base: buffer.baseAddress ?? UnsafeMutableRawPointer(mutating: bytes.baseAddress!))
                var k = 0
                if this.nestedAfterBracket() {
                    try this.nestedLevel(depth: 0, shape: shape, store: store, k: &k, name: name)
                } else if (dtype == .f32 || dtype == .f64) && count >= ParallelParse.minimumValues,
                          let end = ParallelParse.flatJSON(this.bytes, open: this.index, count: count, dtype: dtype, into: store.base) {
                    // Parsed on every core; anything unusual (an error, a miscount) falls through to the
                    // sequential parser below, which reports it with its line and column.
                    this.index = end
                    k = count
                } else {
                    try this.flatData(count: count, store: store, k: &k, name: name)
                }
                if k != count { throw this.fail("tensor '\(name)': data has \(k) values, shape \(shape) needs \(count)", at: start) }
            }
        } catch let error as ModelError { throw error } catch { throw fail("\(error)") }
        self = this
        return Tensor(dtype: dtype, shape: shape, storage: storage)
    }

    /// Whether the '[' at the cursor is followed by another '[' (nested data).
    private mutating func nestedAfterBracket() -> Bool {
        var j = index + 1
        while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x0a || bytes[j] == 0x0d || bytes[j] == 0x09 { j += 1 }
        return j < bytes.count && bytes[j] == UInt8(ascii: "[")
    }

    private mutating func nestedLevel(depth: Int, shape: [Int], store: ElementStore, k: inout Int, name: String) throws(ModelError) {
        guard depth < shape.count else { throw fail("tensor '\(name)': data nests deeper than shape \(shape)") }
        let open = index
        try expect(UInt8(ascii: "["), "'['")
        var n = 0
        if peek() == UInt8(ascii: "]") { index += 1 } else {
            repeat {
                if depth + 1 < shape.count {
                    guard peek() == UInt8(ascii: "[") else { throw fail("tensor '\(name)': expected a nested array at depth \(depth + 1) (shape \(shape))") }
                    try nestedLevel(depth: depth + 1, shape: shape, store: store, k: &k, name: name)
                } else {
                    guard k < shape.reduce(1, *) else { throw fail("tensor '\(name)': more values than shape \(shape) holds") }
                    try element(store: store, k: k, name: name)
                    k += 1
                }
                n += 1
            } while try separator(close: UInt8(ascii: "]"), in: "tensor '\(name)' data")
        }
        guard n == shape[depth] else {
            throw fail("tensor '\(name)': array at depth \(depth) has \(n) entries, shape \(shape) needs \(shape[depth])", at: open)
        }
    }

    private mutating func flatData(count: Int, store: ElementStore, k: inout Int, name: String) throws(ModelError) {
        index += 1  // '['
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return }
        while true {
            skipWhitespace()
            guard k < count else { throw fail("tensor '\(name)': more than the \(count) values its shape holds") }
            // The hot path: a plain number into an f32 or f64 tensor. Anything else takes the general path.
            if store.dtype == .f32, let (v, end) = NumberScan.parse(bytes, at: index, json: true, as: Float.self) {
                store.base.storeBytes(of: v, toByteOffset: k &* 4, as: Float.self)
                index = end
            } else if store.dtype == .f64, let (v, end) = NumberScan.parse(bytes, at: index, json: true, as: Double.self) {
                store.base.storeBytes(of: v, toByteOffset: k &* 8, as: Double.self)
                index = end
            } else {
                try element(store: store, k: k, name: name)
            }
            k += 1
            // The common case, a ',' right after the number, without the general separator path.
            if index < bytes.count, bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if !(try separator(close: UInt8(ascii: "]"), in: "tensor '\(name)' data")) { return }
        }
    }

    @inline(__always)
    private mutating func element(store: ElementStore, k: Int, name: String) throws(ModelError) {
        if let s = NumberScan.scan(bytes, at: index, json: true) {
            if let message = store.store(s, in: bytes, at: k) { throw fail("tensor '\(name)': \(message)") }
            index = s.end
            return
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "\""),
           let (v, end) = NumberScan.scanNonFinite(bytes, at: index + 1, json: true), end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            if let message = store.store(nonFinite: v, at: k) { throw fail("tensor '\(name)': \(message)") }
            index = end + 1
            return
        }
        throw fail("tensor '\(name)': expected a number or \"NaN\", \"Infinity\", \"-Infinity\", found \(describe(index < bytes.count ? bytes[index] : nil))")
    }
}
