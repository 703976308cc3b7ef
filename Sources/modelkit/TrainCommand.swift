import ArgumentParser

// Placeholder until `modelkit train` lands; replaced wholesale by its implementation.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Not implemented yet.")
    func run() throws { throw CommandFailure(message: "modelkit train is not implemented yet") }
}
