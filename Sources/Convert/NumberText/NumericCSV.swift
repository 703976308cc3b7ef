import ModelFormat

/// A rows × columns grid of numbers, row-major.
public struct NumericGrid<Scalar: BinaryFloatingPoint & Sendable>: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    /// `rows × columns` values, row by row.
    public var values: [Scalar]
    public init(rows: Int, columns: Int, values: [Scalar]) {
        precondition(values.count == rows * columns, "values must hold rows × columns numbers")
        self.rows = rows; self.columns = columns; self.values = values
    }
}

/// A matrix of Doubles read from a numeric CSV file.
public typealias NumericMatrix = NumericGrid<Double>
/// A matrix of Floats read from a numeric CSV file (each value rounded once, from its text, to Float).
public typealias FloatMatrix = NumericGrid<Float>

/// The element types NumericCSV reads and writes: Double and Float.
protocol CSVScalar: BinaryFloatingPoint, Sendable {
    /// Converts a scanned number, rounding once to this type.
    static func csvValue(_ s: NumberScan.Scanned, in bytes: UnsafeRawBufferPointer) -> Self
    /// Writes the shortest text that reads back to the same value; returns the bytes written.
    static func csvWrite(_ value: Self, to p: UnsafeMutablePointer<UInt8>) -> Int
}

extension Double: CSVScalar {
    @inline(__always)
    static func csvValue(_ s: NumberScan.Scanned, in bytes: UnsafeRawBufferPointer) -> Double { NumberScan.double(s, in: bytes) }
    @inline(__always)
    static func csvWrite(_ value: Double, to p: UnsafeMutablePointer<UInt8>) -> Int {
        NumberFormat.write(value, to: p, quoteNonFinite: false)
    }
}

extension Float: CSVScalar {
    @inline(__always)
    static func csvValue(_ s: NumberScan.Scanned, in bytes: UnsafeRawBufferPointer) -> Float { NumberScan.float(s, in: bytes) }
    @inline(__always)
    static func csvWrite(_ value: Float, to p: UnsafeMutablePointer<UInt8>) -> Int {
        NumberFormat.write(value, to: p, quoteNonFinite: false)
    }
}

/// Plain numeric CSV: one row per line, values separated by commas, no header, no quoting (spec/csv-format.md).
///
/// Reading works on the file's bytes directly (no `String` per field). It accepts what numpy.savetxt and
/// pandas.to_csv(header=False, index=False) write: optional spaces around values, `\n` or `\r\n` line ends, blank
/// lines and `#` comment lines skipped, a leading `+`, `5.` and `.5`, and `NaN`, `Infinity`, `-Infinity`
/// (numpy's `nan`, `inf`, `-inf` too, in any case). Every row must have the same number of values. Errors are
/// `ModelError.parse` with the 1-based line and byte column.
///
/// Writing gives each value's shortest round-trip text (Swift's `description`), `NaN`/`Infinity`/`-Infinity` for
/// non-finite values, commas between values and `\n` after each row.
public enum NumericCSV {
    /// Reads a file of numbers as Doubles.
    public static func readMatrix(path: String) throws(ModelError) -> NumericMatrix {
        try read(path: path, as: Double.self)
    }

    /// Reads a file of numbers as Floats, each rounded once from its text (never through Double).
    public static func readFloatMatrix(path: String) throws(ModelError) -> FloatMatrix {
        try read(path: path, as: Float.self)
    }

    /// Parses CSV text held in memory as Doubles; `source` names it in errors.
    public static func parseMatrix(_ bytes: UnsafeRawBufferPointer, source: String) throws(ModelError) -> NumericMatrix {
        try parse(bytes, source: source, as: Double.self)
    }

    /// Parses CSV text held in memory as Floats; `source` names it in errors.
    public static func parseFloatMatrix(_ bytes: UnsafeRawBufferPointer, source: String) throws(ModelError) -> FloatMatrix {
        try parse(bytes, source: source, as: Float.self)
    }

    static func read<Scalar: CSVScalar>(path: String, as: Scalar.Type) throws(ModelError) -> NumericGrid<Scalar> {
        let file = try InputFile(path: path)
        return try parse(file.bytes, source: path, as: Scalar.self)
    }

    static func parse<Scalar: CSVScalar>(_ bytes: UnsafeRawBufferPointer, source: String,
                                                as: Scalar.Type) throws(ModelError) -> NumericGrid<Scalar> {
        var values: [Scalar] = []
        // A value takes at least two bytes ("1,"), so this never over-reserves beyond the input's size.
        values.reserveCapacity(min(bytes.count / 2 + 1, 1 << 24))
        let shape = try scan(bytes, source: source, as: Scalar.self) { (v: Scalar) throws(ModelError) in values.append(v) }
        return NumericGrid(rows: shape.rows, columns: shape.columns, values: values)
    }

    /// Parses CSV text, handing each value to `emit` in row-major order: a scanned decimal, or nil and a
    /// non-finite value. Returns rows and columns. Internal so that dump readers can convert to any dtype.
    @inline(__always)
    static func scan(_ bytes: UnsafeRawBufferPointer, source: String,
                     emit: (NumberScan.Scanned?, Double) throws(ModelError) -> Void) throws(ModelError) -> (rows: Int, columns: Int) {
        try scanValues(bytes, source: source,
                       value: { i in NumberScan.scan(bytes, at: i, json: false).map { (($0, 0.0), $0.end) } },
                       nonFinite: { v in (nil, v) },
                       emit: { (v: (NumberScan.Scanned?, Double)) throws(ModelError) in try emit(v.0, v.1) })
    }

    /// The same rows and columns, each value converted straight to `T` (Float or Double) by the fused
    /// `NumberScan.parse`: the hot path for f32/f64 data.
    @inline(__always)
    static func scan<T: BinaryFloatingPoint>(_ bytes: UnsafeRawBufferPointer, source: String, as: T.Type,
                                             emit: (T) throws(ModelError) -> Void) throws(ModelError) -> (rows: Int, columns: Int) {
        try scanValues(bytes, source: source, value: { i in NumberScan.parse(bytes, at: i, json: false, as: T.self) },
                       nonFinite: { v in T(v) }, emit: emit)
    }

    /// Rows of values: `value(i)` reads a number at offset i (or nil), `nonFinite` makes NaN and the infinities.
    @inline(__always)
    static func scanValues<V>(_ bytes: UnsafeRawBufferPointer, source: String, value: (Int) -> (V, Int)?, nonFinite: (Double) -> V,
                              emit: (V) throws(ModelError) -> Void) throws(ModelError) -> (rows: Int, columns: Int) {
        let count = bytes.count
        var i = 0
        var line = 1
        var lineStart = 0
        var rows = 0
        var columns = -1
        var firstRowLine = 0
        func fail(_ at: Int, _ message: String) -> ModelError {
            .parse(source: source, line: line, column: at - lineStart + 1, message: message)
        }
        func token(_ at: Int) -> String {
            var j = at
            while j < count, j - at < 24, bytes[j] != UInt8(ascii: ","), bytes[j] != 0x0a, bytes[j] != 0x0d { j += 1 }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[at..<j]), as: UTF8.self)
        }
        while i < count {
            // Start of a line: skip blank and comment lines.
            while i < count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
            if i == count { break }
            if bytes[i] == 0x0a || bytes[i] == 0x0d || bytes[i] == UInt8(ascii: "#") {
                while i < count, bytes[i] != 0x0a { i += 1 }
                if i < count { i += 1; line += 1; lineStart = i }
                continue
            }
            var fields = 0
            while true {
                while i < count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
                if let (v, end) = value(i) {
                    try emit(v)
                    i = end
                } else if let (v, end) = NumberScan.scanNonFinite(bytes, at: i, json: false) {
                    try emit(nonFinite(v))
                    i = end
                } else if i == count || bytes[i] == UInt8(ascii: ",") || bytes[i] == 0x0a || bytes[i] == 0x0d {
                    throw fail(i, "empty field \(fields + 1) (expected a number)")
                } else {
                    throw fail(i, "'\(token(i))' is not a number")
                }
                fields += 1
                while i < count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
                if i < count, bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if i == count || bytes[i] == 0x0a || (bytes[i] == 0x0d && (i + 1 == count || bytes[i + 1] == 0x0a)) { break }
                throw fail(i, "unexpected '\(token(i))' after a number (expected ',' or the end of the line)")
            }
            if columns < 0 {
                columns = fields; firstRowLine = line
            } else if fields != columns {
                throw fail(lineStart, "row has \(fields) values but the first row (line \(firstRowLine)) has \(columns)")
            }
            rows += 1
            if i < count, bytes[i] == 0x0d { i += 1 }
            if i < count { i += 1; line += 1; lineStart = i }
        }
        guard rows > 0 else { throw ModelError.parse(source: source, line: 1, column: 1, message: "no numbers (empty input)") }
        return (rows, columns)
    }

    /// Writes `rows × columns` Doubles (row-major) as CSV to `path`, each as its shortest round-trip text,
    /// streaming through a small buffer.
    public static func write(rows: Int, columns: Int, values: [Double], to path: String) throws(ModelError) {
        try write(rows: rows, columns: columns, values: values, to: path, as: Double.self)
    }

    /// Writes `rows × columns` Floats (row-major) as CSV to `path`, each as its shortest Float text.
    public static func write(rows: Int, columns: Int, values: [Float], to path: String) throws(ModelError) {
        try write(rows: rows, columns: columns, values: values, to: path, as: Float.self)
    }

    static func write<Scalar: CSVScalar>(rows: Int, columns: Int, values: [Scalar], to path: String, as: Scalar.Type) throws(ModelError) {
        precondition(values.count == rows * columns, "values must hold rows × columns numbers")
        let sink = try ByteSink(path: path)
        try values.withUnsafeBufferPointer { (v: UnsafeBufferPointer<Scalar>) throws(ModelError) in
            try write(rows: rows, columns: columns, values: v, to: sink)
        }
        try sink.finish()
    }

    /// Writes Doubles with the precision of `dtype`: `.f32` writes each value's shortest Float text (rounding it to
    /// Float first), `.f64` its shortest Double text.
    public static func write(rows: Int, columns: Int, values: [Double], dtype: DType, to path: String) throws(ModelError) {
        switch dtype {
        case .f32: try write(rows: rows, columns: columns, values: values.map { Float($0) }, to: path)
        case .f64: try write(rows: rows, columns: columns, values: values, to: path)
        default: throw ModelError.unknownDType(dtype.rawValue, location: "NumericCSV.write (f32 or f64)")
        }
    }

    /// The CSV text of `rows × columns` Doubles, in memory.
    public static func encode(rows: Int, columns: Int, values: [Double]) -> [UInt8] { encode(rows: rows, columns: columns, values: values, as: Double.self) }

    /// The CSV text of `rows × columns` Floats, in memory.
    public static func encode(rows: Int, columns: Int, values: [Float]) -> [UInt8] { encode(rows: rows, columns: columns, values: values, as: Float.self) }

    static func encode<Scalar: CSVScalar>(rows: Int, columns: Int, values: [Scalar], as: Scalar.Type) -> [UInt8] {
        precondition(values.count == rows * columns, "values must hold rows × columns numbers")
        let sink = ByteSink()
        values.withUnsafeBufferPointer { v in
            // A memory sink never fails.
            try? write(rows: rows, columns: columns, values: v, to: sink)
        }
        return sink.bytes()
    }

    static func write<Scalar: CSVScalar>(rows: Int, columns: Int, values: UnsafeBufferPointer<Scalar>, to sink: ByteSink) throws(ModelError) {
        var k = 0
        for _ in 0..<rows {
            for c in 0..<columns {
                try sink.reserve(NumberFormat.maxWidth + 2)
                var p = sink.cursor
                p += Scalar.csvWrite(values[k], to: p)
                p.pointee = c + 1 == columns ? 0x0a : UInt8(ascii: ",")
                try sink.advance(p - sink.cursor + 1)
                k += 1
            }
        }
    }
}
