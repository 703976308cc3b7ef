import ArgumentParser

// Placeholder until `modelkit verify` lands; replaced wholesale by its implementation.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Not implemented yet.")
    func run() throws { throw CommandFailure(message: "modelkit verify is not implemented yet") }
}
