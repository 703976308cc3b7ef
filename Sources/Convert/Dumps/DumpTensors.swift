import ModelFormat

/// The dump formats (JSON, CSV, safetensors, npz) list tensors as `.mkf` does: `NamedTensor`, in `Model.namedTensors`
/// order, so every format names a tensor the same way.
typealias DumpTensor = NamedTensor

extension NamedTensor {
    static func ordered(_ model: Model) -> [DumpTensor] { model.namedTensors }

    /// Splits a slot tensor's name `optimizer/<parameter>/<slot>` given the model's parameter names (a parameter name
    /// itself contains one '/'), or nil when the name is not a slot name.
    static func splitSlotName(_ name: String) -> (parameter: String, slot: String)? {
        guard name.hasPrefix(slotPrefix) else { return nil }
        let rest = name.dropFirst(slotPrefix.count)
        guard let slash = rest.lastIndex(of: "/") else { return nil }
        let parameter = String(rest[..<slash]), slot = String(rest[rest.index(after: slash)...])
        guard !parameter.isEmpty, !slot.isEmpty else { return nil }
        return (parameter, slot)
    }

    /// The JSON object of everything but tensor data: architecture, optimizer, training and metadata, each through
    /// `HeaderSchema`, under these member names (shared by JSON, CSV `model.json`, safetensors and npz).
    static func stateMembers(_ model: Model) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = []
        if let architecture = model.engineArchitecture { members.append(("architecture", HeaderSchema.json(architecture))) }
        if let graph = model.graph { members.append(("graph", HeaderSchema.json(graph))) }
        if let o = model.optimizer { members.append(("optimizer", HeaderSchema.json(o))) }
        if let t = model.training { members.append(("training", HeaderSchema.json(t))) }
        members.append(("metadata", HeaderSchema.json(model.metadata)))
        return members
    }

    /// Builds and validates a model from state read through `HeaderSchema` and its tensors.
    static func assemble(architecture: Architecture?, graph: LayerGraph? = nil, optimizer: OptimizerState?, training: TrainingState?, metadata: Metadata,
                         tensors: [DumpTensor]) throws(ModelError) -> Model {
        var weights: [String: Tensor] = [:]
        var slots: [String: [String: Tensor]] = [:]
        var names = Set<String>()
        var slotEntries = SlotEntryCheck()
        for t in tensors {
            guard names.insert(t.name).inserted else { throw ModelError.duplicateName(t.name) }
            switch t.role {
            case .weight: weights[t.name] = t.tensor
            case .optimizerSlot:
                guard let parameter = t.parameter, let slot = t.slot else {
                    throw ModelError.invalidValue(field: "tensor '\(t.name)'", message: "an optimizer slot needs its parameter and slot names")
                }
                try slotEntries.add(name: t.name, parameter: parameter, slot: slot)
                slots[parameter, default: [:]][slot] = t.tensor
            }
        }
        var optimizer = optimizer
        if optimizer != nil { optimizer!.slots = slots } else if let first = slots.first {
            throw ModelError.unexpectedTensor("optimizer slots for '\(first.key)' but the file has no optimizer")
        }
        let model = Model(architecture: architecture, graph: graph, weights: weights,
                          weightOrder: tensors.filter { $0.role == .weight }.map(\.name), optimizer: optimizer,
                          training: training, metadata: metadata)
        try model.validate()
        return model
    }
}
