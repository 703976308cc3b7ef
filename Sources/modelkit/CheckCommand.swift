import ArgumentParser
import Convert
import ModelFormat

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify a model file: every checksum, every structure. Exit 0 when intact, 1 naming what is damaged.")

    @Argument(help: "The file to check.")
    var file: String

    @Option(help: "Format, when the extension does not tell.")
    var from: String?

    func run() throws {
        let format = try from.map { try OutputFormat.resolve(path: file, requested: $0) } ?? ModelFiles.detect(path: file)
        let summary = try ModelFiles.check(path: file, format: format)
        print("\(file): ok (\(summary))")
    }
}
