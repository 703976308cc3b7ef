/// Which published formulation of an update rule a file means; SGD-with-momentum and Adam's ε differ between them.
public enum Formulation: String, Sendable, Hashable, CaseIterable {
    case keras, pytorch
}

/// SGD. Keras: `m = μ·m − lr·g; p += m` (Nesterov: `p += μ·m − lr·g`).
/// PyTorch: `b = μ·b + g` (b starts at the first g); `p −= lr·b` (Nesterov: `p −= lr·(g + μ·b)`).
public struct SGDConfig: Sendable, Hashable {
    public var learningRate: Double
    public var momentum: Double
    public var nesterov: Bool
    public var formulation: Formulation
    public init(learningRate: Double = 0.01, momentum: Double = 0, nesterov: Bool = false, formulation: Formulation = .keras) {
        self.learningRate = learningRate; self.momentum = momentum; self.nesterov = nesterov; self.formulation = formulation
    }
}

/// Adam (and AMSGrad). Keras adds ε to the uncorrected `sqrt(v)`; PyTorch to the bias-corrected one.
public struct AdamConfig: Sendable, Hashable {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var amsgrad: Bool
    public var formulation: Formulation
    public init(learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
                amsgrad: Bool = false, formulation: Formulation = .keras) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.amsgrad = amsgrad; self.formulation = formulation
    }
}

/// RMSprop as Keras defines it: `v = ρv + (1−ρ)g²; p −= lr·g/sqrt(v + ε)` (centered: `sqrt(v − ḡ² + ε)`).
public struct RMSpropConfig: Sendable, Hashable {
    public var learningRate: Double
    public var rho: Double
    public var momentum: Double
    public var epsilon: Double
    public var centered: Bool
    public init(learningRate: Double = 0.001, rho: Double = 0.9, momentum: Double = 0, epsilon: Double = 1e-7, centered: Bool = false) {
        self.learningRate = learningRate; self.rho = rho; self.momentum = momentum; self.epsilon = epsilon; self.centered = centered
    }
}

public enum OptimizerConfig: Sendable, Hashable {
    case sgd(SGDConfig)
    case adam(AdamConfig)
    case rmsprop(RMSpropConfig)

    public var kindName: String {
        switch self {
        case .sgd: return "sgd"
        case .adam: return "adam"
        case .rmsprop: return "rmsprop"
        }
    }

    public var learningRate: Double {
        switch self {
        case .sgd(let c): return c.learningRate
        case .adam(let c): return c.learningRate
        case .rmsprop(let c): return c.learningRate
        }
    }

    /// Slot names this optimizer keeps per trainable parameter (Keras's variable names).
    public var slotNames: [String] {
        switch self {
        case .sgd(let c): return c.momentum != 0 ? ["momentum"] : []
        case .adam(let c): return c.amsgrad ? ["momentum", "velocity", "velocity_hat"] : ["momentum", "velocity"]
        case .rmsprop(let c):
            return ["velocity"] + (c.momentum != 0 ? ["momentum"] : []) + (c.centered ? ["average_gradient"] : [])
        }
    }
}

/// Optimizer kind, hyperparameters, iteration count, and slot tensors keyed by parameter full name, then slot name.
public struct OptimizerState: Sendable, Equatable {
    public var config: OptimizerConfig
    /// Number of updates applied so far (Keras's `iteration`).
    public var iteration: Int64
    /// `slots["dense/kernel"]["momentum"]`: never keyed by position.
    public var slots: [String: [String: Tensor]]
    /// Settings the file keeps slot tensors for but does not record (a `.keras` whose config.json has no optimizer).
    /// `config` then holds assumed values for them that nothing may use: training refuses, writers refuse (or drop
    /// the state under `--allow-lossy`) until `--optimizer` supplies them (`OptimizerState.reconciled(with:)`).
    public var unrecorded: UnrecordedSettings?
    public init(config: OptimizerConfig, iteration: Int64 = 0, slots: [String: [String: Tensor]] = [:],
                unrecorded: UnrecordedSettings? = nil) {
        self.config = config; self.iteration = iteration; self.slots = slots; self.unrecorded = unrecorded
    }

    /// Number of slot tensors held.
    public var slotTensorCount: Int { slots.values.reduce(0) { $0 + $1.count } }
}

/// Which of an optimizer's settings a file does not record, and what the assumed values in `config` stand for.
public struct UnrecordedSettings: Sendable, Hashable {
    /// The file, for messages (`model.keras`).
    public var source: String
    /// Setting keys as `--optimizer` spells them (`momentum`, `nesterov`, `beta1`), in `OptimizerConfig.settingKeys` order.
    public var keys: [String]
    /// Why the assumed values were chosen, e.g. "Keras's defaults" (shown beside the suggested flag).
    public var assumption: String
    public init(source: String, keys: [String], assumption: String) {
        self.source = source; self.keys = keys; self.assumption = assumption
    }
}
