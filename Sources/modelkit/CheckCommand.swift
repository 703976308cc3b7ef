import ArgumentParser
import Convert
import ModelFormat

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify a model file: every checksum, every structure. Exit 0 when intact, 1 naming what is damaged.")

    @Argument(help: "The file to check.")
    var file: String

    @OptionGroup var input: ModelInput

    func run() throws {
        let options = input.readOptions()
        let summary = try ModelFiles.check(path: file, format: try input.format(of: file), options: options)
        try input.refuseUnusedFlags(file, used: options.usage)
        print("\(file): ok (\(summary))")
    }
}
