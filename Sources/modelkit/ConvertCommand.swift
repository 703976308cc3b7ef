import ArgumentParser

// Placeholder until `modelkit convert` lands; replaced wholesale by its implementation.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "convert", abstract: "Not implemented yet.")
    func run() throws { throw CommandFailure(message: "modelkit convert is not implemented yet") }
}
