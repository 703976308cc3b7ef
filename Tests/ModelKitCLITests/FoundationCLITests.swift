import Foundation
import Testing

@Suite struct FoundationCLITests {
    @Test func initCheckInspect() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["init", "--arch", "4-8relu-3softmax", "--seed", "1", "-o", "m.mkf"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try CLI.run(["check", "m.mkf"], in: dir).status == 0)
        let inspect = try CLI.run(["inspect", "m.mkf"], in: dir)
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains("Total params: 67"))
        let json = try CLI.run(["inspect", "m.mkf", "--json"], in: dir)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["total_params"] as? Int == 67)
        #expect(object?["format"] as? String == "mkf")
    }

    @Test func initIsDeterministic() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["a.mkf", "b.mkf"] {
            #expect(try CLI.run(["init", "--arch", "6-16tanh-8relu-3softmax", "--seed", "3", "--optimizer", "adam:lr=0.01",
                                 "--loss", "categorical_crossentropy", "-o", name], in: dir).status == 0)
        }
        let a = try Data(contentsOf: dir.appendingPathComponent("a.mkf"))
        let b = try Data(contentsOf: dir.appendingPathComponent("b.mkf"))
        #expect(a == b)
        #expect(try CLI.run(["init", "--arch", "6-16tanh-8relu-3softmax", "--seed", "4", "-o", "c.mkf"], in: dir).status == 0)
        #expect(try Data(contentsOf: dir.appendingPathComponent("c.mkf")) != a)
    }

    @Test func damagedCopyFailsCheckWithAMessage() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLI.run(["init", "--arch", "4-8relu-3softmax", "--seed", "1", "-o", "m.mkf"], in: dir).status == 0)
        var bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("m.mkf")))
        // Sample offsets across the whole file (every offset is tried in-process by MKFTests).
        for offset in stride(from: 0, to: bytes.count, by: 37) + [bytes.count - 1] {
            let saved = bytes[offset]
            bytes[offset] ^= 0x01
            try Data(bytes).write(to: dir.appendingPathComponent("bad.mkf"))
            bytes[offset] = saved
            let r = try CLI.run(["check", "bad.mkf"], in: dir)
            #expect(r.status == 1, "offset \(offset): \(r.stderr)")
            #expect(r.stderr.hasPrefix("modelkit: error: ") && r.stderr.split(separator: "\n").count == 1, "offset \(offset): \(r.stderr)")
        }
        try Data(bytes[0..<(bytes.count / 2)]).write(to: dir.appendingPathComponent("short.mkf"))
        let r = try CLI.run(["check", "short.mkf"], in: dir)
        #expect(r.status == 1)
        #expect(!r.stderr.isEmpty)
    }

    @Test func newerMajorVersionNamesBothVersions() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLI.run(["init", "--arch", "2-1", "-o", "m.mkf"], in: dir).status == 0)
        var bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("m.mkf")))
        bytes[8] = 3  // major version 3 (2.0 is read since issue 10)
        try Data(bytes).write(to: dir.appendingPathComponent("v3.mkf"))
        let r = try CLI.run(["check", "v3.mkf"], in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("3.0") && r.stderr.contains("1.x and 2.x"), "\(r.stderr)")
    }

    /// One rule: 2 when the command line alone is wrong (unknown flag, bad value), 1 when the file's content is.
    @Test func usageErrorsAndBadValuesExitTwo() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try CLI.run(["init", "--bogus"], in: dir).status == 2)
        #expect(try CLI.run(["init", "-o", "x.mkf"], in: dir).status == 2)
        let bad = try CLI.run(["init", "--arch", "4-8relu-x3", "-o", "x.mkf"], in: dir)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("item 3 'x3'"), "\(bad.stderr)")
        #expect(try CLI.run(["check", "missing.mkf"], in: dir).status == 1)
        #expect(try CLI.run(["init", "--arch", "4-2", "--optimizer", "adam:lr=nan", "-o", "x.mkf"], in: dir).status == 2)
    }
}
