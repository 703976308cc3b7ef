import Foundation
import Testing

/// Issue 9.3: options are typed on every command; a flag with no effect is refused; help reads well at 80 columns.
@Suite struct TypedOptionsTests {
    static let readers = ["inspect", "check", "convert", "predict", "train", "verify", "diff"]

    static func model(in dir: URL) throws -> String {
        #expect(try CLI.run(["init", "--arch", "4-3softmax", "--loss", "mse", "-o", "m.mkf"], in: dir).status == 0)
        return "m.mkf"
    }

    /// The arguments each command needs besides the model and the flag under test.
    static func arguments(_ command: String, _ model: String) -> [String] {
        switch command {
        case "convert": return [command, model, "out.safetensors"]
        case "predict": return [command, model, "--input", "x.csv"]
        case "train": return [command, model, "--x", "x.csv", "--y", "y.csv", "--steps", "1", "-o", "t.mkf"]
        case "verify", "diff": return [command, model, model]
        default: return [command, model]
        }
    }

    @Test(arguments: readers)
    func badEnumValuesAreUsageErrorsListingTheChoices(command: String) throws {
        let dir = try CLI.temporaryDirectory()
        let model = try Self.model(in: dir)
        let layout = try CLI.run(Self.arguments(command, model) + ["--layout", "bogus"], in: dir)
        #expect(layout.status == 2, "\(command): \(layout.stderr)")
        #expect(layout.stderr.contains("'keras'") && layout.stderr.contains("'torch'"), "\(layout.stderr)")
        let from = try CLI.run(Self.arguments(command, model) + ["--from", "bogus"], in: dir)
        #expect(from.status == 2, "\(command): \(from.stderr)")
        #expect(from.stderr.contains("- safetensors\n"), "\(from.stderr)")
    }

    @Test(arguments: readers)
    func archAndLayoutForAFileWithItsOwnArchitectureAreRefused(command: String) throws {
        let dir = try CLI.temporaryDirectory()
        let model = try Self.model(in: dir)
        try "1,2,3,4\n".write(to: dir.appendingPathComponent("x.csv"), atomically: true, encoding: .utf8)
        try "1,0,0\n".write(to: dir.appendingPathComponent("y.csv"), atomically: true, encoding: .utf8)
        let arch = try CLI.run(Self.arguments(command, model) + ["--arch", "4-3"], in: dir)
        #expect(arch.status == 1, "\(command): \(arch.stderr)")
        #expect(arch.stderr.contains("--arch does not apply to m.mkf"), "\(arch.stderr)")
        let layout = try CLI.run(Self.arguments(command, model) + ["--layout", "torch"], in: dir)
        #expect(layout.status == 1, "\(command): \(layout.stderr)")
        #expect(layout.stderr.contains("--layout torch does not apply to m.mkf"), "\(layout.stderr)")
    }

    /// The case: a Keras file converted with --layout torch used to exit 0 with Keras names.
    @Test func layoutOnAKerasFileIsRefused() throws {
        let dir = try CLI.temporaryDirectory()
        let source = CLI.repoRoot.appendingPathComponent("Fixtures/keras/adam-classifier/model.h5").path
        let r = try CLI.run(["convert", source, "out.safetensors", "--layout", "torch"], in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("--layout torch does not apply"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.safetensors").path))
    }

    @Test func flagsTheCommandCannotUseAreUsageErrors() throws {
        let dir = try CLI.temporaryDirectory()
        let model = try Self.model(in: dir)
        #expect(try CLI.run(["convert", model, "c.mkf", "--compress"], in: dir).status == 2)
        #expect(try CLI.run(["convert", model, "c.h5", "--compress"], in: dir).status == 0)
        #expect(try CLI.run(["init", "--arch", "4-3", "--dtype", "f16", "-o", "x.mkf"], in: dir).status == 2)
        #expect(try CLI.run(["convert", model, "c.json", "--to", "bogus"], in: dir).status == 2)
        #expect(try CLI.run(["train", model, "--x", "x.csv", "--y", "y.csv", "--steps", "1", "-o", "t.mkf", "--optimizer", "adam:bogus=1"], in: dir).status == 2)
    }

    @Test func lossContradictingTheStoredOneIsRefused() throws {
        let dir = try CLI.temporaryDirectory()
        let model = try Self.model(in: dir)
        try "1,2,3,4\n".write(to: dir.appendingPathComponent("x.csv"), atomically: true, encoding: .utf8)
        try "1,0,0\n".write(to: dir.appendingPathComponent("y.csv"), atomically: true, encoding: .utf8)
        let r = try CLI.run(["train", model, "--x", "x.csv", "--y", "y.csv", "--steps", "1", "-o", "t.mkf", "--loss", "mae"], in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("records the loss mean_squared_error; --loss gives mean_absolute_error"), "\(r.stderr)")
        #expect(try CLI.run(["train", model, "--x", "x.csv", "--y", "y.csv", "--steps", "1", "-o", "t.mkf", "--loss", "mse"], in: dir).status == 0)
    }

    /// Paragraphs are left to swift-argument-parser's wrapping (lines of at most 79 characters): every line but a
    /// paragraph's last is filled, i.e. the next line's first word would not have fitted.
    @Test(arguments: ["init", "inspect", "check", "convert", "predict", "train", "verify", "diff"])
    func helpParagraphsAreNotHardWrapped(command: String) throws {
        let help = try CLI.run([command, "--help"]).stdout
        let intro = help.components(separatedBy: "USAGE:")[0]
        let lines = intro.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (line, next) in zip(lines, lines.dropFirst()) where !line.isEmpty && !next.isEmpty {
            let word = next.split(separator: " ").first.map(String.init) ?? ""
            #expect(line.count + 1 + word.count > 79, "\(command): '\(line)' is broken before '\(word)'")
        }
    }
}
