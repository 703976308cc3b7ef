import ArgumentParser

// Placeholder until `modelkit predict` lands; replaced wholesale by its implementation.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Not implemented yet.")
    func run() throws { throw CommandFailure(message: "modelkit predict is not implemented yet") }
}
