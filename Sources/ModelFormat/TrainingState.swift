public enum LossKind: String, Sendable, Hashable, CaseIterable {
    case mse = "mean_squared_error"
    case mae = "mean_absolute_error"
    case binaryCrossentropy = "binary_crossentropy"
    case categoricalCrossentropy = "categorical_crossentropy"
    case sparseCategoricalCrossentropy = "sparse_categorical_crossentropy"

    /// Accepts the file names and the short forms `mse` and `mae`.
    public init?(name: String) {
        switch name {
        case "mse", "mean_squared_error": self = .mse
        case "mae", "mean_absolute_error": self = .mae
        default: self.init(rawValue: name)
        }
    }
}

public struct Loss: Sendable, Hashable {
    public var kind: LossKind
    public var fromLogits: Bool
    public init(kind: LossKind, fromLogits: Bool = false) { self.kind = kind; self.fromLogits = fromLogits }
}

/// The state of a random generator: an algorithm name and its words.
public struct RNGState: Sendable, Hashable {
    public var algorithm: String
    public var state: [UInt64]
    public init(algorithm: String, state: [UInt64]) { self.algorithm = algorithm; self.state = state }
}

/// Where a training run stands, so that it can continue exactly. Equality compares the loss history bit for bit.
public struct TrainingState: Sendable, Equatable {
    public var loss: Loss
    /// Completed epochs.
    public var epoch: Int64
    /// Optimizer steps taken in total.
    public var step: Int64
    public var batchSize: Int64
    public var shuffle: Bool
    public var rng: RNGState
    /// Samples of the current epoch already consumed.
    public var positionInEpoch: Int64
    /// Mean loss of each completed epoch.
    public var lossHistory: [Double]
    public init(loss: Loss, epoch: Int64 = 0, step: Int64 = 0, batchSize: Int64 = 32, shuffle: Bool = false,
                rng: RNGState = RNGState(algorithm: "splitmix64", state: [0]), positionInEpoch: Int64 = 0, lossHistory: [Double] = []) {
        self.loss = loss; self.epoch = epoch; self.step = step; self.batchSize = batchSize; self.shuffle = shuffle
        self.rng = rng; self.positionInEpoch = positionInEpoch; self.lossHistory = lossHistory
    }
}

extension TrainingState {
    public static func == (a: TrainingState, b: TrainingState) -> Bool {
        a.loss == b.loss && a.epoch == b.epoch && a.step == b.step && a.batchSize == b.batchSize && a.shuffle == b.shuffle
            && a.rng == b.rng && a.positionInEpoch == b.positionInEpoch
            && a.lossHistory.map(\.bitPattern) == b.lossHistory.map(\.bitPattern)
    }
}
