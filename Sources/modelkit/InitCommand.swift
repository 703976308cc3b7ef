import ArgumentParser
import Convert
import ModelFormat
import ReferenceEngine

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a model with seeded initialisation (Glorot-uniform kernels, zero biases).",
        discussion: """
        SPEC is a chain: the input width, then one Dense layer per item, its width followed by its activation:
        4-8relu-6tanh-3softmax, 784-256relu-10 (no activation means linear). Also: bn, ln, dropout0.5, or a bare
        activation name as its own layer.
        """)

    @Option(name: .customLong("arch"), help: "Architecture chain, e.g. 4-8relu-3softmax.")
    var architecture: String

    @Option(help: "Loss to store for training (mse, mae, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy[:from_logits=true]).")
    var loss: String?

    @Option(help: "Optimizer to store, e.g. adam, adam:lr=0.001,beta1=0.9, sgd:lr=0.1,momentum=0.9,nesterov=true, rmsprop:lr=0.001.")
    var optimizer: String?

    @Option(help: "Seed for the initial weights.")
    var seed: UInt64 = 0

    @Option(help: "Weight dtype: f32 or f64.")
    var dtype: String = "f32"

    @Option(name: .shortAndLong, help: "Output file (format from the extension; .mkf by default).")
    var output: String

    func run() throws {
        guard let dtype = DType(rawValue: dtype), dtype == .f32 || dtype == .f64 else {
            throw ValidationError("--dtype must be f32 or f64")
        }
        let architecture = try ArchitectureSpec.parse(architecture)
        var model = ModelInitializer.initialize(architecture: architecture, seed: seed, dtype: dtype)
        if let optimizer { model.optimizer = OptimizerState(config: try OptimizerSpec.parse(optimizer)) }
        if let loss {
            model.training = TrainingState(loss: try LossSpec.parse(loss), rng: RNGState(algorithm: CounterRNG.algorithm, state: [seed]))
        }
        try ModelFiles.save(model, path: output, format: try OutputFormat.resolve(path: output, requested: nil))
        print("wrote \(output): \(architecture.parameterCount) parameters")
    }
}

/// Chooses the output format: `--to` when given, else the path's extension (`.mkf` when it has none it knows).
enum OutputFormat {
    static func resolve(path: String, requested: String?) throws -> FileFormat {
        if let requested {
            guard let format = FileFormat(rawValue: requested) else {
                throw ValidationError("unknown format '\(requested)' (\(FileFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return format
        }
        return FileFormat.forOutput(path: path)
    }
}
