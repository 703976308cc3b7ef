#if canImport(Glibc)
import Glibc
#endif
import CFloatText
import ModelFormat

// Shortest round-trip decimal text of floating-point values, straight into a byte buffer, and decimal text parsed
// straight from bytes. Shared by the JSON dump, the CSV dump and NumericCSV, so every text format writes and reads
// numbers the same way. See spec/json-format.md ("Numbers").

// Doubles: `Double.description` (shortest digits that read back), copied into the buffer. Most texts fit Swift's
// inline small strings (15 bytes), so no allocation is made for them; binding the runtime's internal formatter
// (`swift_float64ToString`) would avoid the copy but ties the package to a private symbol.
// Floats: CFloatText (Schubfach in C), 1.2-1.35× faster than the runtime's formatter and byte-identical to it on all
// 2^32 bit patterns (tools/floattext/check); the float tensors of the dumps spend most of their time here.

/// Formatting numbers as text.
enum NumberFormat {
    /// Bytes that `write` may need for one value (sign, 17 digits, point, exponent, quotes for "-Infinity"); also
    /// covers the 32 bytes CFloatText may use past a Float's text as scratch.
    static let maxWidth = 40

    /// Writes `value.description` (shortest digits that read back to the same Double) at `p`; returns bytes written.
    /// Non-finite values are written as `NaN`, `Infinity`, `-Infinity` (quoted when `quoteNonFinite`).
    @inline(__always)
    static func write(_ value: Double, to p: UnsafeMutablePointer<UInt8>, quoteNonFinite: Bool) -> Int {
        if !value.isFinite { return writeNonFinite(isNaN: value.isNaN, negative: value < 0, to: p, quote: quoteNonFinite) }
        var text = value.description
        return text.withUTF8 { bytes in
            p.update(from: bytes.baseAddress!, count: bytes.count)
            return bytes.count
        }
    }

    @inline(__always)
    static func write(_ value: Float, to p: UnsafeMutablePointer<UInt8>, quoteNonFinite: Bool) -> Int {
        if !value.isFinite { return writeNonFinite(isNaN: value.isNaN, negative: value < 0, to: p, quote: quoteNonFinite) }
        return mk_float32_text(value, p)
    }

    /// The shortest decimal that reads back (rounded to nearest) to the same binary16 value.
    static func write(half bits: UInt16, to p: UnsafeMutablePointer<UInt8>, quoteNonFinite: Bool) -> Int {
        let value = Float16(bitPattern: bits)
        if !value.isFinite { return writeNonFinite(isNaN: value.isNaN, negative: value < 0, to: p, quote: quoteNonFinite) }
        return copy(value.description, to: p)
    }

    /// The shortest decimal that reads back (rounded to nearest even) to the same bfloat16 value: the fewest
    /// significant digits, 1 to 9, whose correctly rounded text converts back to these 16 bits.
    static func write(bfloat16 bits: UInt16, to p: UnsafeMutablePointer<UInt8>, quoteNonFinite: Bool) -> Int {
        let value = BFloat16.float(fromBits: bits)
        if !value.isFinite { return writeNonFinite(isNaN: value.isNaN, negative: value < 0, to: p, quote: quoteNonFinite) }
        if value == 0 { return copy(value.sign == .minus ? "-0.0" : "0.0", to: p) }
        var text = [CChar](repeating: 0, count: 48)
        for digits in 1...9 {
            let n = text.withUnsafeMutableBufferPointer { buffer in
                withVaList([Int32(digits - 1), Double(value)]) { vsnprintf(buffer.baseAddress, 48, "%.*e", $0) }
            }
            let candidate = text.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: Int(n)) { UnsafeBufferPointer(start: $0, count: Int(n)) }
            }
            guard let scanned = NumberScan.scan(UnsafeRawBufferPointer(candidate), at: 0, json: false),
                  NumberScan.bfloat16Bits(scanned.double(in: UnsafeRawBufferPointer(candidate))) == bits else { continue }
            return writeDigits(scanned, source: UnsafeRawBufferPointer(candidate), to: p)
        }
        return copy(value.description, to: p)
    }

    /// Rewrites scanned `d.ddde±x` digits in the style of `description`: plain decimals for 1e-4 ≤ |x| < 1e16,
    /// exponent form otherwise.
    private static func writeDigits(_ s: NumberScan.Scanned, source: UnsafeRawBufferPointer, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var digits = Array(String(s.mantissa).utf8)
        while digits.count > 1, digits.last == UInt8(ascii: "0") { digits.removeLast() }
        // value = 0.d1d2d3... × 10^point
        let point = s.exponent + String(s.mantissa).utf8.count
        var out: [UInt8] = s.negative ? [UInt8(ascii: "-")] : []
        if point > -4 && point <= 16 {
            if point <= 0 {
                out += Array("0.".utf8) + [UInt8](repeating: UInt8(ascii: "0"), count: -point) + digits
            } else if point >= digits.count {
                out += digits + [UInt8](repeating: UInt8(ascii: "0"), count: point - digits.count) + Array(".0".utf8)
            } else {
                out += digits[..<point] + [UInt8(ascii: ".")] + digits[point...]
            }
        } else {
            out.append(digits[0])
            if digits.count > 1 { out += [UInt8(ascii: ".")] + digits[1...] }
            let e = point - 1
            out += Array((e < 0 ? "e-" : "e+").utf8) + Array((abs(e) < 10 ? "0\(abs(e))" : "\(abs(e))").utf8)
        }
        for (i, b) in out.enumerated() { p[i] = b }
        return out.count
    }

    private static func copy(_ s: String, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0
        for b in s.utf8 { p[n] = b; n += 1 }
        return n
    }

    private static func writeNonFinite(isNaN: Bool, negative: Bool, to p: UnsafeMutablePointer<UInt8>, quote: Bool) -> Int {
        var n = 0
        if quote { p[n] = UInt8(ascii: "\""); n += 1 }
        n += copy(isNaN ? "NaN" : (negative ? "-Infinity" : "Infinity"), to: p + n)
        if quote { p[n] = UInt8(ascii: "\""); n += 1 }
        return n
    }
}

/// Parsing decimal numbers from bytes without creating a `String`.
///
/// A number is scanned into up to 19 significant digits and a decimal exponent. When the digits fit 2^53 and the
/// exponent is within ±22, the Double is computed exactly with one correctly rounded multiplication or division
/// (Clinger's fast path); otherwise the text goes to the C library's `strtod`/`strtof`, which round correctly.
/// Float results from the fast path are checked for the one case where rounding twice (decimal → Double → Float)
/// could differ from rounding once: a Double that falls exactly on a midpoint between two Floats.
enum NumberScan {
    struct Scanned {
        var negative: Bool
        /// Up to 19 significant digits.
        var mantissa: UInt64
        /// value = mantissa × 10^exponent (when not truncated).
        var exponent: Int
        /// More than 19 significant digits were present; the extra ones were dropped from `mantissa`.
        var truncated: Bool
        /// Byte range of the number's text.
        var start: Int
        var end: Int
    }

    /// Scans a decimal number at `offset`. JSON mode follows RFC 8259 strictly (no '+', no leading zeros, digits on
    /// both sides of '.'); CSV mode also accepts a leading '+', `5.` and `.5`. Returns nil when no number starts here.
    @inline(__always)
    static func scan(_ bytes: UnsafeRawBufferPointer, at offset: Int, json: Bool) -> Scanned? {
        // The common case, at most 19 digits in all: every digit goes into the mantissa, no per-digit bookkeeping.
        // Longer numbers are rescanned by `scanCareful`, which keeps 19 significant digits.
        let count = bytes.count
        var i = offset
        var negative = false
        if i < count {
            let c = bytes[i]
            if c == UInt8(ascii: "-") { negative = true; i += 1 } else if !json && c == UInt8(ascii: "+") { i += 1 }
        }
        var mantissa: UInt64 = 0
        let intStart = i
        while i < count {
            let d = bytes[i] &- 48
            if d > 9 { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        let intDigits = i - intStart
        if json {
            if intDigits == 0 { return nil }
            if intDigits > 1, bytes[intStart] == UInt8(ascii: "0") { return nil }
        }
        var fracDigits = 0
        if i < count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            while i < count {
                let d = bytes[i] &- 48
                if d > 9 { break }
                mantissa = mantissa &* 10 &+ UInt64(d)
                i += 1
            }
            fracDigits = i - fracStart
            if json && fracDigits == 0 { return nil }
        }
        if intDigits == 0 && fracDigits == 0 { return nil }
        if intDigits + fracDigits > 19 { return scanCareful(bytes, at: offset, json: json) }
        var exponent = -fracDigits
        if i < count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            guard let (e, end) = scanExponent(bytes, after: i) else { return nil }
            exponent += e
            i = end
        }
        return Scanned(negative: negative, mantissa: mantissa, exponent: exponent, truncated: false, start: offset, end: i)
    }

    /// Scans and converts in one step, for the hot loops: the value rounded once to `T` (Float or Double) and the end
    /// offset, or nil when no number starts at `offset`. Its digit loop repeats `scan`'s on purpose: a shared helper
    /// returning a tuple measured 5–10% slower on CSV and JSON loads (median of 7 interleaved runs). Takes Clinger's fast path when it can and otherwise goes
    /// through `scan` and the general conversion, so results are the same as theirs.
    @inline(__always)
    static func parse<T: BinaryFloatingPoint>(_ bytes: UnsafeRawBufferPointer, at offset: Int, json: Bool, as: T.Type) -> (T, Int)? {
        let count = bytes.count
        var i = offset
        var negative = false
        if i < count {
            let c = bytes[i]
            if c == UInt8(ascii: "-") { negative = true; i += 1 } else if !json && c == UInt8(ascii: "+") { i += 1 }
        }
        var mantissa: UInt64 = 0
        let intStart = i
        while i < count {
            let d = bytes[i] &- 48
            if d > 9 { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        let intDigits = i - intStart
        var fracDigits = 0
        if i < count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            while i < count {
                let d = bytes[i] &- 48
                if d > 9 { break }
                mantissa = mantissa &* 10 &+ UInt64(d)
                i += 1
            }
            fracDigits = i - fracStart
        }
        // Anything unusual (JSON leading zeros, empty parts, long digit strings, exponents) takes the general path.
        let plain = intDigits > 0 && fracDigits > 0 && intDigits + fracDigits <= 15 && (i >= count || bytes[i] | 0x20 != UInt8(ascii: "e"))
            && !(json && intDigits > 1 && bytes[intStart] == UInt8(ascii: "0"))
        if plain && fracDigits <= 22 {
            var d = Double(mantissa) / powerOfTen(fracDigits)
            if negative { d = -d }
            if T.self == Double.self { return (T(d), i) }
            let f = Float(d)
            let low = d.bitPattern & 0x1FFF_FFFF
            if (low != 0x1000_0000 && Swift.abs(d) >= Double(Float.leastNormalMagnitude)) || Double(f) == d { return (T(f), i) }
        }
        guard let s = scan(bytes, at: offset, json: json) else { return nil }
        if T.self == Double.self { return (T(double(s, in: bytes)), s.end) }
        return (T(float(s, in: bytes)), s.end)
    }

    /// `scan` for numbers of more than 19 digits: keeps the first 19 significant digits and notes any dropped.
    static func scanCareful(_ bytes: UnsafeRawBufferPointer, at offset: Int, json: Bool) -> Scanned? {
        let count = bytes.count
        var i = offset
        var negative = false
        if i < count, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        else if !json, i < count, bytes[i] == UInt8(ascii: "+") { i += 1 }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var truncated = false
        let intStart = i
        while i < count {
            let d = bytes[i] &- 48
            if d > 9 { break }
            if significant < 19 {
                mantissa = mantissa &* 10 &+ UInt64(d)
                if mantissa != 0 { significant += 1 }
            } else {
                exponent += 1
                if d != 0 { truncated = true }
            }
            i += 1
        }
        let intDigits = i - intStart
        if json {
            if intDigits == 0 { return nil }
            if intDigits > 1, bytes[intStart] == UInt8(ascii: "0") { return nil }
        }
        var fracDigits = 0
        if i < count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            while i < count {
                let d = bytes[i] &- 48
                if d > 9 { break }
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    exponent -= 1
                    if mantissa != 0 { significant += 1 }
                } else if d != 0 {
                    truncated = true
                }
                i += 1
            }
            fracDigits = i - fracStart
            if json && fracDigits == 0 { return nil }
        }
        if intDigits == 0 && fracDigits == 0 { return nil }
        if i < count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            guard let (e, end) = scanExponent(bytes, after: i) else { return nil }
            exponent += e
            i = end
        }
        return Scanned(negative: negative, mantissa: mantissa, exponent: exponent, truncated: truncated, start: offset, end: i)
    }

    /// The exponent after an `e` or `E` at `i` (sign optional, at least one digit; magnitudes saturate at about
    /// 10^5, far past any double) and the offset after it; nil when no digit follows.
    @inline(__always)
    static func scanExponent(_ bytes: UnsafeRawBufferPointer, after i: Int) -> (Int, Int)? {
        let count = bytes.count
        var j = i + 1
        var negative = false
        if j < count, bytes[j] == UInt8(ascii: "-") || bytes[j] == UInt8(ascii: "+") {
            negative = bytes[j] == UInt8(ascii: "-"); j += 1
        }
        let start = j
        var e = 0
        while j < count {
            let d = bytes[j] &- 48
            if d > 9 { break }
            if e < 100_000 { e = e * 10 + Int(d) }
            j += 1
        }
        return j == start ? nil : (negative ? -e : e, j)
    }

    /// 10^e for 0 ≤ e ≤ 22, all exact doubles. A literal table (statically initialised, no lazy-initialisation
    /// check) rather than a switch, whose indirect jump mispredicts when exponents vary from number to number.
    static let powersOfTen: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

    @inline(__always)
    static func powerOfTen(_ e: Int) -> Double { powersOfTen[e] }

    /// The exactly computable cases (Clinger's fast path), or nil.
    @inline(__always)
    static func fastDouble(_ s: Scanned) -> Double? {
        if s.mantissa == 0 { return s.negative ? -0.0 : 0.0 }
        guard !s.truncated, s.mantissa <= 1 << 53, s.exponent >= -22, s.exponent <= 22 else { return nil }
        var d = Double(s.mantissa)
        d = s.exponent < 0 ? d / powerOfTen(-s.exponent) : d * powerOfTen(s.exponent)
        return s.negative ? -d : d
    }

    @inline(__always)
    static func double(_ s: Scanned, in bytes: UnsafeRawBufferPointer) -> Double {
        if let d = fastDouble(s) { return d }
        if !s.truncated, let d = EiselLemire.double(mantissa: s.mantissa, exponent: s.exponent, negative: s.negative) { return d }
        return slowParse(bytes, s) { strtod($0, nil) }
    }

    @inline(__always)
    static func float(_ s: Scanned, in bytes: UnsafeRawBufferPointer) -> Float {
        if let d = fastDouble(s) {
            let f = Float(d)
            // A Float midpoint in the normal range is a Double whose low 29 bits are exactly 1 << 28; anything else
            // (the common case) cannot have been rounded twice wrongly.
            let low = d.bitPattern & 0x1FFF_FFFF
            if low != 0x1000_0000 && Swift.abs(d) >= Double(Float.leastNormalMagnitude) { return f }
            if Double(f) == d || !isFloatMidpoint(d, f) { return f }
        }
        return slowParse(bytes, s) { strtof($0, nil) }
    }

    /// Whether `d` lies exactly halfway between `f` (its rounding to Float) and the Float on d's other side.
    private static func isFloatMidpoint(_ d: Double, _ f: Float) -> Bool {
        let other = Double(f) < d ? f.nextUp : f.nextDown
        guard other.isFinite else { return false }
        return (Double(f) + Double(other)) / 2 == d
    }

    /// Hands the number's text to the C library. The text is copied so that it ends in a NUL (the buffer may end
    /// right after the number).
    private static func slowParse<T>(_ bytes: UnsafeRawBufferPointer, _ s: Scanned, _ parse: (UnsafePointer<CChar>) -> T) -> T {
        let length = s.end - s.start
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer in
            for k in 0..<length { buffer[k] = CChar(bitPattern: bytes[s.start + k]) }
            buffer[length] = 0
            return parse(buffer.baseAddress!)
        }
    }

    /// Rounds a Double to binary16 once (Swift's conversion rounds to nearest even directly).
    static func halfBits(_ d: Double) -> UInt16 { Float16(d).bitPattern }

    /// Rounds a Double to bfloat16 once, to nearest even, avoiding the double rounding through Float.
    static func bfloat16Bits(_ d: Double) -> UInt16 {
        if d.isNaN { return 0x7fc0 }
        let f = Float(d)
        let bits = f.bitPattern
        // Float(d) may itself have rounded onto a bfloat16 midpoint; then the direction d lay in decides.
        if bits & 0xffff == 0x8000, Double(f) != d, f.isFinite {
            let up = (Double(f) < d) != (f < 0)   // away from zero?
            return UInt16(bits >> 16) &+ (up ? 1 : 0)
        }
        return BFloat16.bits(from: f)
    }

    /// `NaN`, `Infinity`, `-Infinity` (and in CSV mode also numpy's `nan`, `inf`, `-inf`, any case, optional '+').
    /// Returns the value and the end offset.
    static func scanNonFinite(_ bytes: UnsafeRawBufferPointer, at offset: Int, json: Bool) -> (Double, Int)? {
        func matches(_ word: String, at i: Int) -> Int? {
            var j = i
            for c in word.utf8 {
                guard j < bytes.count else { return nil }
                let b = bytes[j]
                if json ? b != c : (b | 0x20) != (c | 0x20) { return nil }
                j += 1
            }
            return j
        }
        if json {
            if let e = matches("NaN", at: offset) { return (.nan, e) }
            if let e = matches("Infinity", at: offset) { return (.infinity, e) }
            if let e = matches("-Infinity", at: offset) { return (-.infinity, e) }
            return nil
        }
        var i = offset
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-"); i += 1
        }
        if let e = matches("nan", at: i) { return (.nan, e) }
        if let e = matches("infinity", at: i) { return (negative ? -.infinity : .infinity, e) }
        if let e = matches("inf", at: i) { return (negative ? -.infinity : .infinity, e) }
        return nil
    }
}

extension NumberScan.Scanned {
    func double(in bytes: UnsafeRawBufferPointer) -> Double { NumberScan.double(self, in: bytes) }
}
