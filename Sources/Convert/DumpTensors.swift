import ModelFormat

/// One tensor of a model as the dump formats list it (JSON, CSV, safetensors, npz): the `.mkf` naming, so every
/// format names a tensor the same way. Weights are named by their full name (`dense/kernel`); optimizer slots
/// `optimizer/<parameter>/<slot>` (`optimizer/dense/kernel/momentum`).
struct DumpTensor {
    enum Role: String { case weight, optimizerSlot = "optimizer_slot" }
    var name: String
    var role: Role
    /// For optimizer slots: the parameter's full name and the slot name.
    var parameter: String?
    var slot: String?
    var tensor: Tensor

    static let slotPrefix = "optimizer/"

    /// Tensors in canonical order (as `.mkf` writes them): weights in `architecture.parameters` order, then optimizer
    /// slots by parameter (same order) and slot name (the optimizer's own order, then any others sorted).
    static func ordered(_ model: Model) -> [DumpTensor] {
        var out: [DumpTensor] = []
        let parameters = model.architecture.parameters.map(\.fullName)
        for name in parameters { if let t = model.weights[name] { out.append(DumpTensor(name: name, role: .weight, tensor: t)) } }
        for name in model.weights.keys.sorted() where !parameters.contains(name) {
            out.append(DumpTensor(name: name, role: .weight, tensor: model.weights[name]!))
        }
        if let optimizer = model.optimizer {
            let known = optimizer.config.slotNames
            let slotParameters = parameters.filter { optimizer.slots[$0] != nil }
                + optimizer.slots.keys.sorted().filter { !parameters.contains($0) }
            for parameter in slotParameters {
                let slots = optimizer.slots[parameter]!
                let names = known.filter { slots[$0] != nil } + slots.keys.sorted().filter { !known.contains($0) }
                for slot in names {
                    out.append(DumpTensor(name: "\(slotPrefix)\(parameter)/\(slot)", role: .optimizerSlot, parameter: parameter,
                                          slot: slot, tensor: slots[slot]!))
                }
            }
        }
        return out
    }

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
        var members: [(String, JSONValue)] = [("architecture", HeaderSchema.json(model.architecture))]
        if let o = model.optimizer { members.append(("optimizer", HeaderSchema.json(o))) }
        if let t = model.training { members.append(("training", HeaderSchema.json(t))) }
        members.append(("metadata", HeaderSchema.json(model.metadata)))
        return members
    }

    /// Builds and validates a model from state read through `HeaderSchema` and its tensors.
    static func assemble(architecture: Architecture, optimizer: OptimizerState?, training: TrainingState?, metadata: Metadata,
                         tensors: [DumpTensor]) throws(ModelError) -> Model {
        var weights: [String: Tensor] = [:]
        var slots: [String: [String: Tensor]] = [:]
        var names = Set<String>()
        for t in tensors {
            guard names.insert(t.name).inserted else { throw ModelError.duplicateName(t.name) }
            switch t.role {
            case .weight: weights[t.name] = t.tensor
            case .optimizerSlot:
                guard let parameter = t.parameter, let slot = t.slot else {
                    throw ModelError.invalidValue(field: "tensor '\(t.name)'", message: "an optimizer slot needs its parameter and slot names")
                }
                guard slots[parameter]?[slot] == nil else { throw ModelError.duplicateName("optimizer slot \(parameter)/\(slot)") }
                slots[parameter, default: [:]][slot] = t.tensor
            }
        }
        var optimizer = optimizer
        if optimizer != nil { optimizer!.slots = slots } else if let first = slots.first {
            throw ModelError.unexpectedTensor("optimizer slots for '\(first.key)' but the file has no optimizer")
        }
        let model = Model(architecture: architecture, weights: weights, optimizer: optimizer, training: training, metadata: metadata)
        try model.validate()
        return model
    }
}
