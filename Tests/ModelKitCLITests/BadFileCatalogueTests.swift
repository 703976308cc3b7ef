import Foundation
import Testing

/// The catalogue of handcrafted bad files: `Fixtures/bad/<format>/<case>.<ext>` beside `<case>.expect`, which holds
/// a fragment of the one-line error `modelkit check` must print. Every format's owner adds cases; this test runs all.
@Suite struct BadFileCatalogueTests {
    struct Case: CustomStringConvertible {
        var file: URL
        var expected: String
        var description: String { file.path.components(separatedBy: "Fixtures/").last ?? file.path }
    }

    static var cases: [Case] {
        let root = CLI.repoRoot.appendingPathComponent("Fixtures/bad")
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var out: [Case] = []
        for case let url as URL in walker where url.pathExtension == "expect" {
            let stem = url.deletingPathExtension().lastPathComponent
            let siblings = (try? FileManager.default.contentsOfDirectory(at: url.deletingLastPathComponent(), includingPropertiesForKeys: nil)) ?? []
            guard let file = siblings.first(where: { $0.deletingPathExtension().lastPathComponent == stem && $0.pathExtension != "expect" }),
                  let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            out.append(Case(file: file, expected: text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return out.sorted { $0.file.path < $1.file.path }
    }

    @Test func catalogueIsNotEmpty() {
        #expect(Self.cases.count >= 20)
    }

    @Test(arguments: cases) func badFileIsRefusedWithItsMessage(_ c: Case) throws {
        let r = try CLI.run(["check", c.file.path])
        #expect(r.status == 1, "\(c): exit \(r.status), \(r.stderr)")
        #expect(r.stderr.contains(c.expected), "\(c): expected '\(c.expected)' in: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(c): message is not one line: \(r.stderr)")
    }
}
