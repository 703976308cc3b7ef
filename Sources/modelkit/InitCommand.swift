import ArgumentParser

// Placeholder until `modelkit init` lands; replaced wholesale by its implementation.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Not implemented yet.")
    func run() throws { throw CommandFailure(message: "modelkit init is not implemented yet") }
}
