import Foundation
import Testing
@testable import Convert
import ModelFormat

/// Values that stress shortest-digit printing and correct rounding on reading: signed zeros, subnormals, extremes,
/// powers of ten and random bit patterns.
func edgeDoubles(count: Int, seed: UInt64) -> [Double] {
    var fixed: [Double] = [0, -0.0, 1, -1, 0.1, 1e-5, 123456.789, 1e16, 1e22, 1e23, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                           .leastNormalMagnitude, Double.leastNormalMagnitude.nextDown, .greatestFiniteMagnitude,
                           -.greatestFiniteMagnitude, 9007199254740994, 0.30000000000000004, 7100271, -6423381]
    // Integral values and halves: the runtime formatter leaves their last digit to the buffer (see NumberText.swift).
    fixed += (0..<300).map { Double($0) * 0.5 - 20 }
    var state = seed
    while fixed.count < count {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let d = Double(bitPattern: state)
        if d.isFinite { fixed.append(d) }
    }
    return fixed
}

func edgeFloats(count: Int, seed: UInt64) -> [Float] {
    var fixed: [Float] = [0, -0.0, 1, -1, 0.1, 1e-5, 16777216, 16777218, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                          .leastNormalMagnitude, .greatestFiniteMagnitude, Float.leastNormalMagnitude.nextDown, 7.038531e-26]
    fixed += (0..<300).map { Float($0) * 0.5 - 20 }
    var state = seed
    while fixed.count < count {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let f = Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32))
        if f.isFinite { fixed.append(f) }
    }
    return fixed
}

@Suite struct NumericCSVTests {
    @Test func doublesRoundTripBitForBit() throws {
        let values = edgeDoubles(count: 3000, seed: 7)
        let text = NumericCSV.encode(rows: 1000, columns: 3, values: values)
        let m = try text.withUnsafeBytes { try NumericCSV.parseMatrix($0, source: "mem") }
        #expect(m.rows == 1000 && m.columns == 3)
        #expect(m.values.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func textIsSwiftsDescription() throws {
        let values = edgeDoubles(count: 600, seed: 3)
        let text = String(decoding: NumericCSV.encode(rows: 600, columns: 1, values: values), as: UTF8.self)
        #expect(text == values.map { $0.description + "\n" }.joined())
        let floats = edgeFloats(count: 600, seed: 4)
        let ftext = String(decoding: NumericCSV.encode(rows: 300, columns: 2, values: floats), as: UTF8.self)
        let expected = stride(from: 0, to: 600, by: 2).map { "\(floats[$0].description),\(floats[$0 + 1].description)\n" }.joined()
        #expect(ftext == expected)
    }

    @Test func floatsRoundTripBitForBit() throws {
        let values = edgeFloats(count: 4000, seed: 11)
        let text = NumericCSV.encode(rows: 2000, columns: 2, values: values)
        let m = try text.withUnsafeBytes { try NumericCSV.parseFloatMatrix($0, source: "mem") }
        #expect(m.values.map(\.bitPattern) == values.map(\.bitPattern))
    }

    /// Foreign texts (long digit strings, exponents, forms numpy writes) must round like Swift's own parser,
    /// which is an independent implementation.
    @Test func parsingAgreesWithSwiftsParser() throws {
        var texts = ["1.000000000000000000000000001", "0.1e1", "+3.5", "5.", ".5", "-0", "1E5", "123456789012345678901234",
                     "2.4703282292062327e-324", "2.4703282292062328e-324", "1e-400", "1e400", "-1e400",
                     "9007199254740993", "0.000000000000000000000000000000000000000001", "1.5e+300", "7.038531e-26"]
        var state: UInt64 = 99
        for _ in 0..<500 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let digits = String(state % 1_000_000_000_000_000_000)
            let e = Int((state >> 20) % 80) - 40
            texts.append("\(digits)e\(e)")
            texts.append("0.\(digits)")
        }
        let csv = Array(texts.joined(separator: "\n").utf8)
        let d = try csv.withUnsafeBytes { try NumericCSV.parseMatrix($0, source: "mem") }
        let f = try csv.withUnsafeBytes { try NumericCSV.parseFloatMatrix($0, source: "mem") }
        for (i, t) in texts.enumerated() {
            #expect(d.values[i].bitPattern == Double(t)!.bitPattern, "\(t)")
            #expect(f.values[i].bitPattern == Float(t)!.bitPattern, "\(t)")
        }
    }

    @Test func acceptsWhatNumpyAndPandasWrite() throws {
        let text = "# comment\n1.0 , 2\r\n\n nan,-inf\r\n+inf,NaN\n-Infinity,Infinity"
        let m = try Array(text.utf8).withUnsafeBytes { try NumericCSV.parseMatrix($0, source: "mem") }
        #expect(m.rows == 4 && m.columns == 2)
        #expect(m.values[0] == 1 && m.values[1] == 2 && m.values[2].isNaN && m.values[3] == -.infinity)
        #expect(m.values[4] == .infinity && m.values[5].isNaN && m.values[6] == -.infinity && m.values[7] == .infinity)
    }

    func parseError(_ text: String) -> ModelError? {
        do {
            _ = try Array(text.utf8).withUnsafeBytes { try NumericCSV.parseMatrix($0, source: "x.csv") }
            return nil
        } catch { return error as? ModelError }
    }

    @Test func raggedRowsNameLineAndColumn() {
        #expect(parseError("1,2,3\n4,5,6\n7,8\n") == .parse(source: "x.csv", line: 3, column: 1,
                                                            message: "row has 2 values but the first row (line 1) has 3"))
    }

    @Test func nonNumbersNameLineAndColumn() {
        #expect(parseError("1,2\n3,abc\n") == .parse(source: "x.csv", line: 2, column: 3, message: "'abc' is not a number"))
        #expect(parseError("1,2\n3,4x\n") == .parse(source: "x.csv", line: 2, column: 4,
                                                    message: "unexpected 'x' after a number (expected ',' or the end of the line)"))
        #expect(parseError("1,,2\n") == .parse(source: "x.csv", line: 1, column: 3, message: "empty field 2 (expected a number)"))
        #expect(parseError("1,2,\n") == .parse(source: "x.csv", line: 1, column: 5, message: "empty field 3 (expected a number)"))
    }

    @Test func emptyInputIsRefused() {
        #expect(parseError("") == .parse(source: "x.csv", line: 1, column: 1, message: "no numbers (empty input)"))
        #expect(parseError("\n  \n# only a comment\n") == .parse(source: "x.csv", line: 1, column: 1, message: "no numbers (empty input)"))
    }

    @Test func fileRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("numericcsv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.csv").path
        let values = edgeDoubles(count: 600, seed: 5)
        try NumericCSV.write(rows: 200, columns: 3, values: values, to: path)
        let m = try NumericCSV.readMatrix(path: path)
        #expect(m.values.map(\.bitPattern) == values.map(\.bitPattern))
        try NumericCSV.write(rows: 200, columns: 3, values: values, dtype: .f32, to: path)
        let f = try NumericCSV.readFloatMatrix(path: path)
        #expect(f.values.map(\.bitPattern) == values.map { Float($0).bitPattern })
        #expect(throws: ModelError.self) { try NumericCSV.readMatrix(path: dir.appendingPathComponent("missing.csv").path) }
    }
}


@Suite struct FusedParseTests {
    /// `NumberScan.parse` (the hot loops' fused scan and conversion) gives exactly what `scan` then `float`/`double`
    /// give, and what Swift's own parser gives, on short and long numbers, signs, zeros and exponents.
    @Test func agreesWithScanAndSwift() {
        var texts = ["0.0", "-0.0", "1.5", "0.1", "123.456", "-7.25e-3", "1e5", "0.000001", "3.4028235e+38", "1.17549435e-38",
                     "0.30000000000000004", "12345678901234567890.5", "9007199254740993.0", "1.0000000000000002", "5e-324"]
        var state: UInt64 = 12345
        for _ in 0..<20_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32))
            let d = Double(bitPattern: state)
            if f.isFinite { texts.append(f.description) }
            if d.isFinite { texts.append(d.description) }
            texts.append("\(state % 100_000).\(state >> 40)")
        }
        var mismatches: [String] = []
        for t in texts {
            let bytes = Array(t.utf8)
            bytes.withUnsafeBytes { raw in
                let s = NumberScan.scan(raw, at: 0, json: true)!
                let (f, fe) = NumberScan.parse(raw, at: 0, json: true, as: Float.self)!
                let (d, de) = NumberScan.parse(raw, at: 0, json: true, as: Double.self)!
                if f.bitPattern != NumberScan.float(s, in: raw).bitPattern || f.bitPattern != Float(t)!.bitPattern || fe != s.end {
                    mismatches.append("f32 \(t)")
                }
                if d.bitPattern != NumberScan.double(s, in: raw).bitPattern || d.bitPattern != Double(t)!.bitPattern || de != s.end {
                    mismatches.append("f64 \(t)")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        // Not numbers in JSON: leading zeros, a bare '.', a leading '+'.
        for bad in ["01.5", ".5", "+1.5", "-", "x"] {
            Array(bad.utf8).withUnsafeBytes { raw in
                #expect(NumberScan.parse(raw, at: 0, json: true, as: Float.self) == nil, "\(bad)")
            }
        }
    }
}

@Suite struct EiselLemireTests {
    /// 17- to 19-digit decimals (beyond Clinger's fast path) across the table's exponent range, and exact halfway
    /// points between doubles, read like Swift's own parser reads them.
    @Test func agreesWithSwiftsParser() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        var texts: [String] = []
        for _ in 0..<30_000 {
            let d = Double(bitPattern: next())
            if d.isFinite { texts.append(d.description) }
            texts.append("\(next() % 10_000_000_000_000_000_000)e\(Int(next() % 230) - 115)")
        }
        for k in 0..<5_000 { texts.append("\((UInt64(1) << 53) + UInt64(k) * 7919).5") }
        var bad: [String] = []
        var decided = 0
        for t in texts {
            Array(t.utf8).withUnsafeBytes { raw in
                let s = NumberScan.scan(raw, at: 0, json: false)!
                if !s.truncated, NumberScan.fastDouble(s) == nil,
                   EiselLemire.double(mantissa: s.mantissa, exponent: s.exponent, negative: s.negative) != nil { decided += 1 }
                if NumberScan.double(s, in: raw).bitPattern != Double(t)!.bitPattern { bad.append(t) }
            }
        }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
        #expect(decided > texts.count / 2)  // the algorithm, not strtod, decided most of them
    }
}
