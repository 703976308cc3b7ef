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

/// One tensor of a model under the name every ModelKit format gives it: a weight by its parameter's full name
/// (`dense/kernel`), an optimizer slot as `optimizer/<parameter>/<slot>` (`optimizer/dense/kernel/momentum`).
public struct NamedTensor: Sendable {
    public enum Role: String, Sendable { case weight, optimizerSlot = "optimizer_slot" }
    public var name: String
    public var role: Role
    /// For optimizer slots: the parameter's full name and the slot name.
    public var parameter: String?
    public var slot: String?
    public var tensor: Tensor

    public init(name: String, role: Role, parameter: String? = nil, slot: String? = nil, tensor: Tensor) {
        self.name = name; self.role = role; self.parameter = parameter; self.slot = slot; self.tensor = tensor
    }

    public static let slotPrefix = "optimizer/"

    /// `optimizer/<parameter>/<slot>`: the one name a slot tensor has in every format.
    public static func slotName(parameter: String, slot: String) -> String { "\(slotPrefix)\(parameter)/\(slot)" }
}

extension Model {
    /// Every tensor in canonical order, the order every writer uses: weights in `architecture.parameters` order,
    /// then optimizer slots by parameter (same order) and slot name (the optimizer's own order, then any others
    /// sorted). Names outside the architecture (which `validate()` refuses) come after their kind, sorted.
    public var namedTensors: [NamedTensor] {
        var out: [NamedTensor] = []
        let parameters = architecture.parameters.map(\.fullName)
        for name in parameters { if let t = weights[name] { out.append(NamedTensor(name: name, role: .weight, tensor: t)) } }
        for name in weights.keys.sorted() where !parameters.contains(name) {
            out.append(NamedTensor(name: name, role: .weight, tensor: weights[name]!))
        }
        if let optimizer {
            let known = optimizer.config.slotNames
            let slotParameters = parameters.filter { optimizer.slots[$0] != nil }
                + optimizer.slots.keys.sorted().filter { !parameters.contains($0) }
            for parameter in slotParameters {
                let slots = optimizer.slots[parameter]!
                let names = known.filter { slots[$0] != nil } + slots.keys.sorted().filter { !known.contains($0) }
                for slot in names {
                    out.append(NamedTensor(name: NamedTensor.slotName(parameter: parameter, slot: slot), role: .optimizerSlot,
                                           parameter: parameter, slot: slot, tensor: slots[slot]!))
                }
            }
        }
        return out
    }
}
