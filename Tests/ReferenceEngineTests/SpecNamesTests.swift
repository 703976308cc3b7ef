import Foundation
import Testing
import ModelFormat
@testable import ReferenceEngine

/// The names the engine writes into model files are the ones spec/binary-format.md lists: RNG algorithms in the
/// training state and `modelkit.*` metadata keys.
@Suite struct SpecNamesTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func specSection(_ heading: String) throws -> String {
        let text = try String(contentsOf: repo.appendingPathComponent("spec/binary-format.md"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0 == heading }) else { return "" }
        return lines[(start + 1)...].prefix { !$0.hasPrefix("#") }.joined(separator: "\n")
    }

    @Test func rngAlgorithmsWrittenAreInTheSpec() throws {
        let training = try Self.specSection("### training")
        // ModelKit's own (init, train), and the placeholder of a training state that records no generator (Keras imports).
        for algorithm in [CounterRNG.algorithm, TrainingState(loss: Loss(kind: .mse)).rng.algorithm] {
            #expect(training.contains("`\(algorithm)`"), "RNG algorithm \(algorithm) is written but not in the spec")
        }
    }

    /// Every `"modelkit.<key>"` literal in the sources (but ONNX's `metadata_props`, spec/foreign-formats.md) is a
    /// metadata key the spec's metadata section lists, and it lists no other.
    @Test func modelkitMetadataKeysAreInTheSpec() throws {
        let pattern = try Regex(#""(modelkit\.[a-z_]+)""#)
        var written = Set<String>()
        let sources = Self.repo.appendingPathComponent("Sources")
        for case let url as URL in FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        where url.pathExtension == "swift" && url.lastPathComponent != "ONNXExport.swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            for match in text.matches(of: pattern) { written.insert(String(match.output[1].substring!)) }
        }
        #expect(written.contains(epochLossSumKey))
        let metadata = try Self.specSection("### metadata")
        let listed = Set(metadata.matches(of: try Regex(#"`(modelkit\.[a-z_]+)`"#)).map { String($0.output[1].substring!) })
        #expect(listed == written)
    }
}
