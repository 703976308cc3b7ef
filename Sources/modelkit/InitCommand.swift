import ArgumentParser
import Convert
import ModelFormat
import ReferenceEngine

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a model with seeded initialisation (Glorot-uniform kernels, zero biases).",
        discussion: """
        SPEC is a chain: the input width, then one Dense layer per item, its width followed by its activation: \
        4-8relu-6tanh-3softmax, 784-256relu-10 (no activation means linear). Also: bn, ln, dropout0.5, or a bare \
        activation name as its own layer.
        """)

    @Option(name: .customLong("arch"), help: "Architecture chain, e.g. 4-8relu-3softmax.", transform: { try ArchitectureSpec.parse($0) })
    var architecture: Architecture

    @Option(help: "Loss to store for training (mse, mae, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy[:from_logits=true]).",
            transform: OptionValue.loss)
    var loss: Loss?

    @Option(help: "Optimizer to store, e.g. adam, adam:lr=0.001,beta1=0.9, sgd:lr=0.1,momentum=0.9,nesterov=true, rmsprop:lr=0.001.",
            transform: OptionValue.optimizer)
    var optimizer: OptimizerSetting?

    @Option(help: "Seed for the initial weights.")
    var seed: UInt64 = 0

    @Option(help: "Weight dtype.")
    var dtype: WeightDType = .f32

    @Option(name: .shortAndLong, help: "Output file (format from the extension; .mkf by default).")
    var output: String

    func run() throws {
        var model = ModelInitializer.initialize(architecture: architecture, seed: seed, dtype: dtype.dtype)
        if let optimizer { model.optimizer = OptimizerState(config: optimizer.config) }
        if let loss {
            model.training = TrainingState(loss: loss, rng: RNGState(algorithm: CounterRNG.algorithm, state: [seed]))
        }
        try ModelFiles.save(model, path: output, format: FileFormat.forOutput(path: output))
        print("wrote \(output): \(architecture.parameterCount) parameters")
    }
}

/// The dtypes a new model's weights can have (the engine trains f32 and f64).
enum WeightDType: String, CaseIterable, ExpressibleByArgument {
    case f32, f64
    var dtype: DType { self == .f32 ? .f32 : .f64 }
}
