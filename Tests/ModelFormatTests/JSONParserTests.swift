import Foundation
import Testing
import ModelFormat

@Suite struct JSONParserTests {
    func parse(_ s: String) throws(JSONParser.Failure) -> JSONValue { try JSONParser.parse(Array(s.utf8)) }

    @Test func valuesAndOrder() throws {
        let v = try parse(#" {"b": [1, -2.5e3, true, null, "x\u00e9\n"], "a": {"c": -0}} "#)
        #expect(v == .object([("b", .array([.integer(1), .number(-2500), .bool(true), .null, .string("xé\n")])),
                              ("a", .object([("c", .integer(0))]))]))
        #expect(try parse(v.text) == v)
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func errorsCarryLineAndColumn() {
        for (text, line, column) in [("{\n  \"a\": [1,\n  2,,]\n}", 3, 5), ("[1 2]", 1, 4), ("{\"a\":1,\"a\":2}", 1, 8), ("\"abc", 1, 1),
                                     ("01", 1, 1), ("[1.]", 1, 4), ("tru", 1, 1), ("{\"x\":\"\u{01}\"}", 1, 7)] {
            do {
                _ = try parse(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect((error.line, error.column) == (line, column), "\(text): \(error.message) at \(error.line):\(error.column)")
            }
        }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParser.Failure.self) { try parse(deep) }
    }

    /// Found by tools/fuzz (json_parser): a literal beyond Double's range parsed to infinity, and writing it back trapped.
    @Test func numbersBeyondDoubleRangeAreRefused() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("fuzz/regressions/json-number-overflows-to-infinity.json")))
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([UInt8](data)) }
        #expect(throws: JSONParser.Failure.self) { try parse("1e400") }
        #expect(try parse("1e-400") == .number(0))
    }
}
