/// A model file's whole content: architecture, weights, optional optimizer and training state, and metadata.
/// Equality compares every tensor bit for bit.
public struct Model: Sendable, Equatable {
    public var architecture: Architecture
    /// Keyed by parameter full name (`dense/kernel`); `architecture.parameters` gives the canonical order.
    public var weights: [String: Tensor]
    public var optimizer: OptimizerState?
    public var training: TrainingState?
    public var metadata: Metadata

    public init(architecture: Architecture, weights: [String: Tensor], optimizer: OptimizerState? = nil,
                training: TrainingState? = nil, metadata: Metadata = [:]) {
        self.architecture = architecture; self.weights = weights; self.optimizer = optimizer
        self.training = training; self.metadata = metadata
    }

    /// The dtype of the model's weights (of its first floating-point weight; f32 when there are none).
    public var floatDType: DType {
        for p in architecture.parameters { if let t = weights[p.fullName], t.dtype.isFloatingPoint { return t.dtype } }
        return .f32
    }
}
