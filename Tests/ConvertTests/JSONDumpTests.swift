import Foundation
import Testing
@testable import Convert
import ModelFormat

@Suite struct JSONDumpTests {
    func decode(_ text: String) throws -> Model {
        try Array(text.utf8).withUnsafeBytes { try JSONDump.decode($0, source: "m.json") }
    }

    func decodeError(_ text: String) -> ModelError? {
        do { _ = try decode(text); return nil } catch { return error as? ModelError }
    }

    @Test(arguments: [DType.f32, .f64, .f16, .bf16])
    func roundTripIsBitForBit(dtype: DType) throws {
        for model in [TestModels.plain(dtype), TestModels.checkpoint(dtype)] {
            let bytes = try JSONDump.encode(model)
            let back = try bytes.withUnsafeBytes { try JSONDump.decode($0, source: "m.json") }
            #expect(back == model)
            // Writing again gives the same bytes: the writer is deterministic.
            #expect(try JSONDump.encode(back) == bytes)
        }
    }

    /// Our output is JSON that the independent strict tree parser accepts, and every number in it is the shortest
    /// text of its value (checked with Swift's own description and parser).
    @Test func outputIsStrictJSONWithShortestNumbers() throws {
        let model = TestModels.checkpoint(.f32)
        let bytes = try JSONDump.encode(model)
        let tree = try JSONParser.parse(bytes)
        #expect(tree["format"] == .string("modelkit-json"))
        #expect(tree["version"] == .integer(1))
        guard case .array(let tensors) = tree["tensors"] else { Issue.record("no tensors"); return }
        #expect(tensors.count == 11 + 9 * 3)
        let kernel = tensors[0]
        #expect(kernel["name"] == .string("dense/kernel") && kernel["dtype"] == .string("f32") && kernel["shape"] == .array([.integer(5), .integer(4)]))
        guard case .array(let data) = kernel["data"] else { Issue.record("no data"); return }
        let expected = model.weights["dense/kernel"]!.floats()
        #expect(data.count == expected.count)
        for (v, f) in zip(data, expected) {
            switch v {
            case .string(let s): #expect((s == "NaN" && f.isNaN) || (s == "Infinity" && f == .infinity) || (s == "-Infinity" && f == -.infinity))
            case .number(let d): #expect(Float(d.description) == f && Float(d) == f)
            case .integer(let i): #expect(Float(i) == f)
            default: Issue.record("unexpected \(v)")
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"data\":[-0.0,1e-45,-3.4028235e+38,\"Infinity\",\"NaN\",0.1,1e-40,"))
    }

    @Test func halfPrecisionTextIsShortest() throws {
        // f16 0x3555 is 0.33325195...: 0.3333 reads back to it, 0.333 does not. bf16 0x3DCD is 0.10009765625, the
        // bfloat16 nearest to 0.1; bf16 0x007F is 127 × 2^-133 = 1.1663e-38, and 1.2e-38 would be 130.7 × 2^-133.
        let text = String(decoding: try JSONDump.encode(TestModels.plain(.f16)), as: UTF8.self)
        #expect(text.contains("\"data\":[-0.0,6e-08,65504.0,\"-Infinity\",\"NaN\",6.1e-05,0.3333,"))
        let btext = String(decoding: try JSONDump.encode(TestModels.plain(.bf16)), as: UTF8.self)
        #expect(btext.contains("\"data\":[-0.0,9e-41,3.39e+38,\"-Infinity\",\"NaN\",1.17e-38,0.1,"))
    }

    /// Every finite f16 and bf16 value (both signs) survives text and back, checked against Swift's own parser.
    @Test(arguments: [DType.f16, .bf16])
    func everyHalfPrecisionValueRoundTrips(dtype: DType) throws {
        let bits = (0...UInt16.max).filter { b in
            dtype == .f16 ? (b & 0x7C00 != 0x7C00) : (b & 0x7F80 != 0x7F80)
        }
        let tensor = try bits.withUnsafeBytes { try Tensor(dtype: dtype, shape: [bits.count], bytes: $0) }
        let sink = ByteSink()
        var cache: [UInt16: [UInt8]] = [:]
        try sink.append("[")
        try TensorText.write(tensor, range: 0..<bits.count, separator: UInt8(ascii: ","), terminator: UInt8(ascii: "]"),
                             quoteNonFinite: true, to: sink, bfloat16Cache: &cache)
        let text = sink.bytes()
        let back = try text.withUnsafeBytes { raw in
            var s = JSONStream(bytes: raw, source: "t")
            return try s.tensorData(dtype: dtype, shape: [bits.count], name: "t")
        }
        #expect(back == tensor)
        // Swift's parser (independent of ours) reads each text to a Double that converts back to the same bits.
        let texts = String(decoding: text.dropFirst().dropLast(), as: UTF8.self).split(separator: ",")
        #expect(texts.count == bits.count)
        var bad = 0
        for (b, t) in zip(bits, texts) {
            let d = Double(t)!
            if (dtype == .f16 ? Float16(d).bitPattern : BFloat16.bits(from: Float(d))) != b { bad += 1 }
        }
        #expect(bad == 0)
    }

    @Test func acceptsNestedDataAndAnyMemberOrder() throws {
        let text = """
        {"tensors":[{"data":[[1,2],[3,4],[5,6]],"shape":[3,2],"dtype":"f64","role":"weight","name":"dense/kernel"},
                    {"name":"dense/bias","role":"weight","dtype":"f32","shape":[2],"data":[0.5,"-Infinity"]}],
         "architecture":{"input_shape":[3],"layers":[{"name":"dense","type":"dense","units":2,"activation":"linear","use_bias":true}]},
         "version":1,"format":"modelkit-json"}
        """
        let m = try decode(text)
        #expect(m.weights["dense/kernel"]!.doubles() == [1, 2, 3, 4, 5, 6])
        #expect(m.weights["dense/bias"]!.floats() == [0.5, -.infinity])
    }

    static let head = #"{"format":"modelkit-json","version":1,"architecture":{"input_shape":[2],"layers":[{"name":"d","type":"dense","units":1,"activation":"linear"}]},"#

    /// The 1-based line and column of the `occurrence`-th (1-based) appearance of `marker` in `text`.
    func location(of marker: String, in text: String, occurrence: Int = 1) -> (Int, Int) {
        var range = text.startIndex..<text.startIndex
        for _ in 0..<occurrence { range = text.range(of: marker, range: range.upperBound..<text.endIndex)! }
        let before = text[..<range.lowerBound]
        let line = before.filter { $0 == "\n" }.count + 1
        let lineStart = before.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex
        return (line, text.utf8.distance(from: lineStart, to: range.lowerBound) + 1)
    }

    func expectParseError(_ text: String, at marker: String, occurrence: Int = 1, _ message: String) {
        let (line, column) = location(of: marker, in: text, occurrence: occurrence)
        #expect(decodeError(text) == .parse(source: "m.json", line: line, column: column, message: message))
    }

    @Test func malformedJSONReportsLineAndColumn() {
        expectParseError("{\"format\":\"modelkit-json\",\n  \"version\" 1}", at: "1}", "expected ':', found '1'")
        let badNumber = Self.head + "\n\"tensors\":[{\"name\":\"d/kernel\",\"role\":\"weight\",\"dtype\":\"f32\",\"shape\":[2,1],\"data\":[1,x]}]}"
        expectParseError(badNumber, at: "x]", "tensor 'd/kernel': expected a number or \"NaN\", \"Infinity\", \"-Infinity\", found 'x'")
        #expect(decodeError("") == .parse(source: "m.json", line: 1, column: 1, message: "empty input, expected a JSON object"))
        let unclosed = Self.head + "\"tensors\":[]"
        #expect(decodeError(unclosed) == .parse(source: "m.json", line: 1, column: unclosed.utf8.count + 1,
                                                message: "expected ',' or '}' in the document, found the end of the input"))
        // Malformed JSON inside the architecture goes through the strict parser, still located in the whole file.
        expectParseError("{\n\"architecture\":{\"input_shape\":[2,],\"layers\":[]}}", at: "],\"layers", "unexpected character ']', expected a value")
    }

    @Test func wrongCountsAndShapesAreRefused() {
        let tensor = { (data: String, shape: String) in
            Self.head + "\"tensors\":[{\"name\":\"d/kernel\",\"role\":\"weight\",\"dtype\":\"f32\",\"shape\":\(shape),\"data\":\(data)}]}"
        }
        expectParseError(tensor("[1]", "[2,1]"), at: "[1]", "tensor 'd/kernel': data has 1 values, shape [2, 1] needs 2")
        expectParseError(tensor("[1,2,3]", "[2,1]"), at: "3]", "tensor 'd/kernel': more than the 2 values its shape holds")
        // A shape far beyond the data is refused before anything is allocated.
        expectParseError(tensor("[1,2]", "[100000000,100000]"), at: "[1,2]",
                         "tensor 'd/kernel': shape [100000000, 100000] declares 10000000000000 values but only 8 bytes of input remain")
        expectParseError(tensor("[[1],[2],[3]]", "[2,1]"), at: "3]", "tensor 'd/kernel': more values than shape [2, 1] holds")
        // The architecture wants d/kernel as [2, 1].
        #expect(decodeError(tensor("[1,2,3]", "[3,1]")) == .shapeMismatch(name: "d/kernel", expected: [2, 1], detail: "found [3, 1]"))
        let badDType = tensor("[1,2]", "[2,1]").replacingOccurrences(of: "\"f32\"", with: "\"f24\"")
        let (line, column) = location(of: "\"f24\"", in: badDType)
        #expect(decodeError(badDType) == .unknownDType("f24", location: "tensor 'd/kernel' (m.json:\(line):\(column))"))
        expectParseError(tensor("[1,2e999999]", "[2,1]").replacingOccurrences(of: "\"f32\"", with: "\"i8\""), at: "2e999999",
                         "tensor 'd/kernel': '2e999999' is not a whole number within 64 bits (i8 tensor)")
        expectParseError(tensor("[1,300]", "[2,1]").replacingOccurrences(of: "\"f32\"", with: "\"i8\""), at: "300",
                         "tensor 'd/kernel': 300 is out of range for i8")
    }

    @Test func fileRoundTripThroughModelFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jsondump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.json").path
        let model = TestModels.checkpoint(.f64)
        try ModelFiles.save(model, path: path, format: .json)
        #expect(try ModelFiles.load(path: path) == model)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.json"])
    }
}

@Suite struct ParallelFormattingTests {
    /// The chunked, multi-threaded writer gives exactly the bytes of the one-value-at-a-time writer, at chunk edges
    /// and with rows that straddle chunks.
    @Test(arguments: [DType.f32, .f64])
    func chunkedOutputEqualsSequentialOutput(dtype: DType) throws {
        let count = 3 * TensorText.chunk * TensorText.chunksPerBatch / 2 + 123
        let tensor = TestModels.tensor(dtype, shape: [count], seed: 42)
        for (rowLength, rowEnd) in [(count, UInt8(0)), (1000, UInt8(0x0a)), (TensorText.chunk + 1, UInt8(0x0a))] {
            let parallel = ByteSink()
            try TensorText.writeFloats(tensor, rowLength: rowLength, rowEnd: rowEnd, quoteNonFinite: rowEnd == 0, to: parallel)
            let sequential = ByteSink()
            var cache: [UInt16: [UInt8]] = [:]
            var lo = 0
            while lo < count {
                let hi = min(count, lo + rowLength)
                try TensorText.write(tensor, range: lo..<hi, separator: UInt8(ascii: ","), terminator: rowEnd,
                                     quoteNonFinite: rowEnd == 0, to: sequential, bfloat16Cache: &cache)
                if hi < count && rowEnd == 0 { try sequential.append(UInt8(ascii: ",")) }
                lo = hi
            }
            let (a, b) = (parallel.bytes(), sequential.bytes())
            let firstDifference = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? (a.count == b.count ? nil : min(a.count, b.count))
            #expect(firstDifference == nil, "row length \(rowLength): differs at byte \(firstDifference ?? -1): \(String(decoding: a[max(0, (firstDifference ?? 0) - 30)..<min(a.count, (firstDifference ?? 0) + 30)], as: UTF8.self)) vs \(String(decoding: b[max(0, (firstDifference ?? 0) - 30)..<min(b.count, (firstDifference ?? 0) + 30)], as: UTF8.self))")
        }
    }
}

@Suite struct ParallelParseTests {
    func text(_ tensor: Tensor) throws -> [UInt8] {
        let sink = ByteSink()
        try sink.append("[")
        try TensorText.writeFloats(tensor, rowLength: tensor.elementCount, rowEnd: 0, quoteNonFinite: true, to: sink)
        try sink.append("]")
        return sink.bytes()
    }

    func parse(_ bytes: [UInt8], dtype: DType, count: Int) throws -> Tensor {
        try bytes.withUnsafeBytes { raw in
            var s = JSONStream(bytes: raw, source: "big.json")
            return try s.tensorData(dtype: dtype, shape: [count], name: "t")
        }
    }

    @Test(arguments: [DType.f32, .f64])
    func largeArraysRoundTrip(dtype: DType) throws {
        let count = 5 * ParallelParse.minimumValues + 7
        let tensor = TestModels.tensor(dtype, shape: [count], seed: 7)
        var bytes = try text(tensor)
        #expect(try parse(bytes, dtype: dtype, count: count) == tensor)
        // The parallel path itself takes this text (rather than handing it back to the sequential parser).
        let direct = Tensor.zeros(dtype: dtype, shape: [count])
        let end = bytes.withUnsafeBytes { raw in
            ParallelParse.flatJSON(raw, open: 0, count: count, dtype: dtype, into: UnsafeMutableRawPointer(mutating: direct.storage.base))
        }
        #expect(end == bytes.count)
        #expect(direct == tensor)
        // Whitespace after commas (as other writers produce) changes nothing.
        bytes = Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: ",", with: ", \n").utf8)
        #expect(try parse(bytes, dtype: dtype, count: count) == tensor)
    }

    @Test func errorsInLargeArraysKeepTheirLocation() throws {
        let count = 4 * ParallelParse.minimumValues
        let tensor = TestModels.tensor(.f32, shape: [count], seed: 8)
        var bytes = try text(tensor)
        // Corrupt the first byte of the value after the 200 000th comma.
        var commas = 0, at = 0
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: ",") { commas += 1; if commas == 200_000 { at = i + 1; break } }
        bytes[at] = UInt8(ascii: "x")
        #expect(throws: ModelError.parse(source: "big.json", line: 1, column: at + 1,
                                         message: "tensor 't': expected a number or \"NaN\", \"Infinity\", \"-Infinity\", found 'x'")) {
            try parse(bytes, dtype: .f32, count: count)
        }
        // A count that disagrees with the shape is reported by the sequential parser.
        let good = try text(tensor)
        #expect(throws: ModelError.parse(source: "big.json", line: 1, column: 1, message: "tensor 't': data has \(count) values, shape [\(count + 1)] needs \(count + 1)")) {
            try parse(good, dtype: .f32, count: count + 1)
        }
    }
}
