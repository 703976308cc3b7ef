import Foundation
import Testing
import Convert
import ModelFormat

/// Every format ModelKit reads has a libFuzzer harness in tools/fuzzing that says so with a `// reads: <format>` line
/// (tools/test builds every harness and runs each for a few seconds; tools/fuzz runs them longer). A format added to
/// `FileFormat` with a reader and no harness fails here.
@Suite struct FuzzHarnessTests {
    static let harnesses = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/fuzzing")

    /// Formats ModelKit writes but does not read (ModelFiles.loadInProcess refuses them as unsupported).
    static let writeOnly: Set<FileFormat> = [.onnx]

    /// The formats each harness declares, by harness file name.
    static func declared() throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: harnesses.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: harnesses.appendingPathComponent(file), encoding: .utf8)
            out[file] = text.split(separator: "\n").compactMap { line in
                line.hasPrefix("// reads: ") ? String(line.dropFirst("// reads: ".count)) : nil
            }
        }
        return out
    }

    @Test func everyReadableFormatHasAHarness() throws {
        let declared = try Self.declared()
        let covered = Set(declared.values.joined())
        for format in FileFormat.allCases where !Self.writeOnly.contains(format) {
            #expect(covered.contains(format.rawValue),
                    "no harness in tools/fuzzing declares '// reads: \(format.rawValue)': add one for the new reader")
        }
        for (file, formats) in declared {
            for name in formats {
                let format = FileFormat(rawValue: name)
                #expect(format != nil && !Self.writeOnly.contains(format!), "\(file): '// reads: \(name)' is not a format ModelKit reads")
            }
        }
    }

    @Test func writeOnlyFormatsAreRefused() {
        for format in Self.writeOnly {
            let error = #expect(throws: ModelError.self) {
                try ModelFiles.loadInProcess(path: "/nonexistent", format: format, options: ReadOptions())
            }
            guard case .unsupported? = error else { Issue.record("\(format): \(String(describing: error)), not unsupported"); continue }
        }
    }
}
