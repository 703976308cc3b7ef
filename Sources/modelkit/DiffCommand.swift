import ArgumentParser

// Placeholder until `modelkit diff` lands; replaced wholesale by its implementation.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Not implemented yet.")
    func run() throws { throw CommandFailure(message: "modelkit diff is not implemented yet") }
}
