import ModelFormat

/// When a training run stops.
public enum TrainingStop: Sendable, Equatable {
    /// After this many optimizer steps (more steps, when resuming).
    case steps(Int64)
    /// When this many epochs are complete in total (a fresh run: N epochs; a resumed run: up to epoch N).
    case epochs(Int64)
}

/// How to train; what is nil comes from the model's stored state, then from the defaults.
public struct TrainingOptions: Sendable {
    /// Continue the stored run (counters, RNG, position in the epoch, loss history). Without it a run starts at
    /// epoch 0, step 0 with an empty history; the stored optimizer state (slots, iteration) is used either way.
    public var resume = false
    /// Used when the model stores no loss. Default: categorical cross-entropy after softmax, binary after sigmoid,
    /// mean squared error otherwise.
    public var loss: Loss?
    /// Used when the model stores no optimizer. Default: Adam with Keras's defaults.
    public var optimizer: OptimizerConfig?
    /// Default: the stored batch size when resuming, else 32.
    public var batchSize: Int?
    /// Default: the stored setting when resuming, else false.
    public var shuffle: Bool?
    /// Seed of a fresh run's counter-based RNG (default: the first word of a stored RNG state, as `init` stores
    /// its seed there, else 0); a resumed run keeps its stored seed.
    public var seed: UInt64?
    public var stop: TrainingStop = .epochs(1)
    /// Report a checkpoint every this many steps.
    public var checkpointEvery: Int64?
    public init() {}
}

/// Training samples: `rows` inputs of the model's input shape and their targets, `targetColumns` numbers per row:
/// either as many as the model's output width (one-hot rows, regression targets) or, for the cross-entropies of
/// several classes, one integer class label per row.
public struct TrainingSet: Sendable {
    public var inputs: [Double]
    public var targets: [Double]
    public var rows: Int
    public var targetColumns: Int
    public init(inputs: [Double], targets: [Double], rows: Int, targetColumns: Int) {
        self.inputs = inputs; self.targets = targets; self.rows = rows; self.targetColumns = targetColumns
    }
}

/// What a run reports while it runs.
public enum TrainingEvent {
    /// An optimizer step finished: its 1-based number within this run, the total planned (nil when run by epochs)
    /// and the batch's loss.
    case step(done: Int64, planned: Int64?, loss: Double)
    /// An epoch finished (1-based count of completed epochs) with its mean loss over the samples.
    case epoch(number: Int64, loss: Double)
    /// A checkpoint: the model as it stands after `step` total steps.
    case checkpoint(step: Int64, model: Model)
}

/// Where a training run keeps what `TrainingState` has no field for: the sum over the current, unfinished epoch of
/// each batch's loss × its rows (the epoch's loss is that sum / the epoch's rows, as Keras's loss tracker weighs
/// batches). A metadata entry, so that a run stopped mid-epoch reports the same epoch loss when resumed.
public let epochLossSumKey = "modelkit.epoch_loss_sum"

public enum Training {
    /// Trains `model` on `data` and returns the model after it: weights, optimizer state (slots created lazily as
    /// zeros) and training state. Arithmetic in the model's precision (f32 or f64; f16/bf16 are refused).
    /// Bit-for-bit reproducible: N steps equal k steps, a checkpoint, then N − k resumed steps.
    public static func run(_ model: Model, data: TrainingSet, options: TrainingOptions,
                           report: (TrainingEvent) throws -> Void = { _ in }) throws -> Model {
        switch model.floatDType {
        case .f32: return try TrainingSession<Float>(model: model, data: data, options: options).run(report: report)
        case .f64: return try TrainingSession<Double>(model: model, data: data, options: options).run(report: report)
        default: throw ModelError.unsupported("training a \(model.floatDType.rawValue) model (convert it to f32 or f64 first)")
        }
    }

    /// The loss used for a model that stores none and is given none.
    public static func defaultLoss(for architecture: Architecture) -> Loss {
        for layer in architecture.layers.reversed() {
            let activation: Activation
            switch layer.kind {
            case .dense(let c): activation = c.activation
            case .activation(let a): activation = a
            default: continue
            }
            switch activation {
            case .softmax: return Loss(kind: .categoricalCrossentropy)
            case .sigmoid: return Loss(kind: .binaryCrossentropy)
            default: return Loss(kind: .mse)
            }
        }
        return Loss(kind: .mse)
    }
}

/// One run in precision T.
final class TrainingSession<T: EngineScalar> {
    let base: Model
    let network: Network<T>
    let optimizer: OptimizerRunner<T>
    var state: TrainingState
    var epochLossSum: Double
    let rng: CounterRNG
    let inputs: Matrix<T>
    let targets: Matrix<T>
    let rows: Int
    let options: TrainingOptions

    init(model: Model, data: TrainingSet, options: TrainingOptions) throws {
        base = model
        self.options = options
        network = try Network<T>(model: model)
        // Assumed settings are never trained with: the run would silently differ from the one the state came from.
        if let stored = model.optimizer, stored.unrecorded != nil { throw stored.unrecordedError(use: .resume) }
        let optimizerState = model.optimizer ?? OptimizerState(config: options.optimizer ?? .adam(AdamConfig()))
        optimizer = try OptimizerRunner<T>(state: optimizerState, parameters: network.parameters)
        let loss = model.training?.loss ?? options.loss ?? Training.defaultLoss(for: network.architecture)

        if options.resume {
            guard let stored = model.training else {
                throw ModelError.invalidValue(field: "training", message: "--resume needs a checkpoint with a training state; this model has none")
            }
            state = stored
            if stored.rng.algorithm != CounterRNG.algorithm, stored.positionInEpoch == 0 {
                // Another tool's checkpoint (a Keras import records no RNG ModelKit can continue) stopped at an epoch
                // boundary: no batch order is half used, so the run goes on with ModelKit's RNG, seeded by --seed,
                // else by the stored state's first word. Mid-epoch, the order cannot be rebuilt and is refused below.
                state.rng = RNGState(algorithm: CounterRNG.algorithm, state: [options.seed ?? stored.rng.state.first ?? 0])
            }
            guard state.rng.algorithm == CounterRNG.algorithm, state.rng.state.count == 1 else {
                throw ModelError.unsupported("resuming a run whose RNG is '\(stored.rng.algorithm)' with \(stored.rng.state.count) words (ModelKit's is \(CounterRNG.algorithm) with 1)")
            }
            if case .float(let sum)? = model.metadata[epochLossSumKey] { epochLossSum = sum } else { epochLossSum = 0 }
        } else {
            let seed = options.seed ?? model.training?.rng.state.first ?? 0
            state = TrainingState(loss: loss, rng: RNGState(algorithm: CounterRNG.algorithm, state: [seed]))
            epochLossSum = 0
        }
        if let batchSize = options.batchSize { state.batchSize = Int64(batchSize) }
        if let shuffle = options.shuffle { state.shuffle = shuffle }
        guard state.batchSize > 0, state.batchSize <= 1 << 31 else {
            throw ModelError.invalidValue(field: "batch size", message: "must be positive, got \(state.batchSize)")
        }
        rng = CounterRNG(seed: state.rng.state[0])

        rows = data.rows
        guard rows > 0 else { throw ModelError.invalidValue(field: "training data", message: "no rows") }
        inputs = try network.inputMatrix(data.inputs.map { T($0) }, rows: rows)
        targets = try TrainingSession.targetMatrix(data, loss: state.loss, outputRows: rows * network.rowsPerSample,
                                                   outputWidth: network.architecture.outputWidth)
        guard state.positionInEpoch < Int64(rows) else {
            throw ModelError.invalidValue(field: "training.position_in_epoch",
                                          message: "checkpoint stopped at sample \(state.positionInEpoch) of its epoch, but the data has \(rows) rows")
        }
        if case .epochs(let n) = options.stop, n < 0 { throw ModelError.invalidValue(field: "epochs", message: "must be ≥ 0") }
        if case .steps(let n) = options.stop, n < 0 { throw ModelError.invalidValue(field: "steps", message: "must be ≥ 0") }
    }

    /// Targets as a matrix the width of the output: as given, or one-hot rows from integer labels.
    static func targetMatrix(_ data: TrainingSet, loss: Loss, outputRows: Int, outputWidth: Int) throws -> Matrix<T> {
        let columns = data.targetColumns
        guard data.targets.count == data.rows * columns else {
            throw ModelError.shapeMismatch(name: "targets", expected: [data.rows, columns], detail: "got \(data.targets.count) values")
        }
        let classLoss = loss.kind == .categoricalCrossentropy || loss.kind == .sparseCategoricalCrossentropy
        if columns == 1 && outputWidth > 1 && classLoss && data.rows == outputRows {
            var oneHot = Matrix<T>(zeros: data.rows, outputWidth)
            for r in 0..<data.rows {
                let label = data.targets[r]
                guard label == label.rounded(), label >= 0, label < Double(outputWidth) else {
                    throw ModelError.invalidValue(field: "targets row \(r + 1)", message: "label \(label) is not an integer class in 0..<\(outputWidth)")
                }
                oneHot[r, Int(label)] = 1
            }
            return oneHot
        }
        guard data.targets.count == outputRows * outputWidth else {
            throw ModelError.shapeMismatch(name: "targets", expected: [data.rows, outputWidth * outputRows / max(data.rows, 1)],
                                           detail: "got \(columns) columns; \(classLoss ? "give one-hot rows or one integer label per row" : "give one column per output")")
        }
        return Matrix(rows: outputRows, cols: outputWidth, data: data.targets.map { T($0) })
    }

    func run(report: (TrainingEvent) throws -> Void) throws -> Model {
        let startStep = state.step
        let planned: Int64?
        switch options.stop {
        case .steps(let n): planned = n
        case .epochs: planned = nil
        }
        var order = epochOrder()
        var orderEpoch = state.epoch
        while !finished(startStep: startStep) {
            if orderEpoch != state.epoch { order = epochOrder(); orderEpoch = state.epoch }
            let batchLoss = step(order: order)
            try report(.step(done: state.step - startStep, planned: planned, loss: batchLoss))
            if state.positionInEpoch == 0, let last = state.lossHistory.last {
                try report(.epoch(number: state.epoch, loss: last))
            }
            if let every = options.checkpointEvery, every > 0, state.step % every == 0, !finished(startStep: startStep) {
                try report(.checkpoint(step: state.step, model: currentModel()))
            }
        }
        return currentModel()
    }

    private func finished(startStep: Int64) -> Bool {
        switch options.stop {
        case .steps(let n): return state.step - startStep >= n
        case .epochs(let n): return state.epoch >= n
        }
    }

    /// Sample order of the current epoch: file order, or the epoch's permutation from the counter-based RNG.
    private func epochOrder() -> [Int] {
        state.shuffle ? rng.permutation(count: rows, epoch: state.epoch) : Array(0..<rows)
    }

    /// One optimizer step on the next batch of the epoch (a smaller last batch included); returns its loss.
    private func step(order: [Int]) -> Double {
        let start = Int(state.positionInEpoch)
        let end = min(start + Int(state.batchSize), rows)
        let samples = order[start..<end]
        let perSample = network.rowsPerSample
        let rowIndices: [Int] = perSample == 1 ? Array(samples) : samples.flatMap { s in (s * perSample)..<((s + 1) * perSample) }
        let x = inputs.gatherRows(rowIndices[...])
        let y = targets.gatherRows(rowIndices[...])

        let prediction = network.forward(x, mode: .training(step: state.step, rng: rng))
        let (loss, dPrediction) = LossFunction.evaluate(state.loss, predictions: prediction, targets: y)
        network.backward(dPrediction)
        optimizer.step(network.parameters)

        state.step += 1
        state.positionInEpoch = Int64(end)
        epochLossSum += Double(loss) * Double(end - start)
        if end == rows {
            state.lossHistory.append(epochLossSum / Double(rows))
            epochLossSum = 0
            state.epoch += 1
            state.positionInEpoch = 0
        }
        return Double(loss)
    }

    /// The model as it stands: weights, optimizer state, training state, and the unfinished epoch's loss sum.
    func currentModel() -> Model {
        var model = base
        model.weights = network.parameters.tensors()
        model.optimizer = optimizer.state(parameters: network.parameters)
        model.training = state
        model.metadata[epochLossSumKey] = .float(epochLossSum)
        return model
    }
}
