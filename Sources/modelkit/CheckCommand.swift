import ArgumentParser

// Placeholder until `modelkit check` lands; replaced wholesale by its implementation.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Not implemented yet.")
    func run() throws { throw CommandFailure(message: "modelkit check is not implemented yet") }
}
