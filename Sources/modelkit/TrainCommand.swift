import ArgumentParser
import Convert
import ModelFormat
import ReferenceEngine

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on CSV data; resume a checkpoint exactly where it stopped.",
        discussion: """
        The model's stored optimizer, loss and training state are used; a model without them takes --optimizer and \
        --loss (same strings as init; defaults: adam, and a loss chosen from the output activation). --y holds \
        one-hot rows (or one column per output) or, for the cross-entropies, one integer class label per row.

        A checkpoint's optimizer state is continued only with the settings it was made with: --optimizer must agree \
        with what the file records and supplies what it does not (a .keras file does not record Adam's betas or \
        SGD's momentum); when settings are missing, train exits 1 naming them and the flag to add. \
        --reset-optimizer starts fresh optimizer state instead.

        Without --shuffle batches are taken in file order; with it each epoch's order comes from the run's \
        counter-based RNG (seed --seed). A last, smaller batch ends each epoch. --resume continues CKPT's run: \
        --steps N more steps, or --epochs N up to epoch N in total; its stored batch size and shuffling are used \
        unless given here. Loss per epoch goes to stdout.
        """)

    @Argument(help: "The model or checkpoint to train.")
    var model: String

    @Option(help: "CSV of inputs, one sample per row.")
    var x: String

    @Option(help: "CSV of targets: one-hot rows, outputs, or integer labels.")
    var y: String

    @Option(help: "Train until this many epochs are complete (a fresh run: N epochs).")
    var epochs: Int64?

    @Option(help: "Train this many optimizer steps.")
    var steps: Int64?

    @Option(help: "Samples per batch (default 32, or the checkpoint's).")
    var batchSize: Int?

    @Flag(inversion: .prefixedNo, help: "Shuffle each epoch's samples (default off, or the checkpoint's setting).")
    var shuffle: Bool?

    @Option(help: "Seed of the run's RNG (shuffle order, dropout masks); a resumed run keeps its own.")
    var seed: UInt64?

    @Option(name: .shortAndLong, help: "Where to write the trained model (format from the extension).")
    var output: String

    @Option(help: "Also write a checkpoint every K steps, to OUT's name with -step<N> before the extension.")
    var checkpointEvery: Int64?

    @Flag(help: "Continue the checkpoint's run (counters, RNG, position in the epoch, loss history).")
    var resume = false

    @OptionGroup var source: ModelInput

    @Option(help: "Optimizer for a model that stores none (e.g. adam:lr=0.001, sgd:lr=0.1,momentum=0.9), or the settings a checkpoint keeps state for but does not record; it must agree with what the checkpoint records.",
            transform: OptionValue.optimizer)
    var optimizer: OptimizerSetting?

    @Flag(help: "Start fresh optimizer state (iteration 0, no slots) with --optimizer or the file's settings, e.g. to fine-tune at a new learning rate.")
    var resetOptimizer = false

    @Option(help: "Loss for a model that stores none, e.g. categorical_crossentropy, mse.", transform: OptionValue.loss)
    var loss: Loss?

    func validate() throws {
        guard (epochs == nil) != (steps == nil) else { throw ValidationError("give exactly one of --epochs N and --steps N") }
        if let epochs, epochs < 0 { throw ValidationError("--epochs must be ≥ 0") }
        if let steps, steps < 0 { throw ValidationError("--steps must be ≥ 0") }
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be positive") }
        if let checkpointEvery, checkpointEvery <= 0 { throw ValidationError("--checkpoint-every must be positive") }
    }

    func run() throws {
        // With --reset-optimizer the file's optimizer state is set aside, so --optimizer need not agree with it.
        var start = try source.load(model, optimizer: resetOptimizer ? nil : optimizer, use: .resume)
        if resetOptimizer {
            start.optimizer = try freshOptimizer(replacing: start.optimizer)
        } else if let state = start.optimizer, state.unrecorded != nil {
            throw state.unrecordedError(use: .resume)
        }
        if let loss, let stored = start.training?.loss, stored != loss {
            throw CommandFailure(message: "error: \(model) records the loss \(stored.kind.rawValue)\(stored.fromLogits ? " (from logits)" : ""); --loss gives \(loss.kind.rawValue)\(loss.fromLogits ? " (from logits)" : "")")
        }
        var options = TrainingOptions()
        options.resume = resume
        options.batchSize = batchSize
        options.shuffle = shuffle
        options.seed = seed
        options.checkpointEvery = checkpointEvery
        options.stop = steps.map { .steps($0) } ?? .epochs(epochs ?? 0)
        options.optimizer = optimizer?.config
        options.loss = loss
        let inputs = try EngineSupport.readInputs(x, for: try start.runnableArchitecture())
        let targets = try NumericCSV.readMatrix(path: y)
        guard targets.rows == inputs.rows else {
            throw ModelError.shapeMismatch(name: y, expected: [inputs.rows, targets.columns], detail: "\(targets.rows) rows of targets for \(inputs.rows) rows of inputs")
        }
        let data = TrainingSet(inputs: inputs.values, targets: targets.values, rows: inputs.rows, targetColumns: targets.columns)

        var progress = ProgressBar()
        let trained = try Training.run(start, data: data, options: options) { event in
            switch event {
            case .step(let done, let planned, let batchLoss):
                progress.update(done: done, total: planned, label: "loss \(batchLoss)")
            case .epoch(let number, let epochLoss):
                if progress.enabled { Console.write("\r\u{1B}[K") }
                print("epoch \(number): loss \(epochLoss)")
            case .checkpoint(let step, let checkpoint):
                let path = Self.checkpointPath(output, step: step)
                try EngineSupport.save(checkpoint, to: path)
                if progress.enabled { Console.write("\r\u{1B}[K") }
                print("checkpoint step \(step): \(path)")
            }
        }
        progress.finish()
        try EngineSupport.save(trained, to: output)
        let state = trained.training!
        func count(_ n: Int64, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        print("wrote \(output): step \(state.step), \(count(state.epoch, "epoch")) and \(count(state.positionInEpoch, "sample")) done")
    }

    /// `out.mkf` → `out-step12.mkf`; a path without an extension gets the suffix at its end.
    static func checkpointPath(_ output: String, step: Int64) -> String {
        let slash = output.lastIndex(of: "/")
        if let dot = output.lastIndex(of: "."), slash.map({ dot > $0 }) ?? true, dot != output.startIndex {
            return String(output[..<dot]) + "-step\(step)" + String(output[dot...])
        }
        return output + "-step\(step)"
    }

    /// `--reset-optimizer`: new state with `--optimizer`'s settings, or the file's when it records them all.
    func freshOptimizer(replacing stored: OptimizerState?) throws -> OptimizerState {
        guard let stored else {
            if let optimizer { return OptimizerState(config: optimizer.config) }
            throw CommandFailure(message: "error: --reset-optimizer does not apply to \(model): it holds no optimizer state (give --optimizer to choose one)")
        }
        guard let config = optimizer?.config ?? (stored.unrecorded == nil ? stored.config : nil) else {
            throw CommandFailure(message: "error: --reset-optimizer: \(model) does not record its optimizer's \(stored.unrecorded!.keys.joined(separator: ", ")); give the settings to start with, e.g. --optimizer \(stored.config.flagText)")
        }
        Console.note("--reset-optimizer: training starts fresh \(config.flagText) state; \(model)'s iteration \(stored.iteration) and \(stored.slotTensorCount) slot tensors are not used")
        return OptimizerState(config: config)
    }
}
