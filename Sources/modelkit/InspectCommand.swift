import ArgumentParser

// Placeholder until `modelkit inspect` lands; replaced wholesale by its implementation.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Not implemented yet.")
    func run() throws { throw CommandFailure(message: "modelkit inspect is not implemented yet") }
}
