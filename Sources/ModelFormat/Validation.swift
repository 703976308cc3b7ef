extension Model {
    /// Checks that weights and optimizer slots match the architecture: every parameter present with its shape and a
    /// floating-point dtype, nothing extra, slots only for trainable parameters and shaped like them.
    public func validate() throws(ModelError) {
        var seenLayers = Set<String>()
        for layer in architecture.layers {
            guard seenLayers.insert(layer.name).inserted else { throw ModelError.duplicateName(layer.name) }
        }
        let specs = architecture.parameters
        let byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.fullName, $0) })
        for spec in specs {
            guard let t = weights[spec.fullName] else { throw ModelError.missingTensor(spec.fullName) }
            guard t.shape == spec.shape else {
                throw ModelError.shapeMismatch(name: spec.fullName, expected: spec.shape, detail: "found \(t.shape)")
            }
            guard t.dtype.isFloatingPoint else {
                throw ModelError.unknownDType(t.dtype.rawValue, location: "tensor '\(spec.fullName)' (weights must be floating point)")
            }
        }
        for name in weights.keys where byName[name] == nil { throw ModelError.unexpectedTensor(name) }
        if let optimizer {
            try HeaderSchema.validate(optimizer.config)
            for (parameter, slots) in optimizer.slots {
                guard let spec = byName[parameter], spec.trainable else {
                    throw ModelError.unexpectedTensor("optimizer slots for '\(parameter)'")
                }
                for (slot, t) in slots where t.shape != spec.shape {
                    throw ModelError.shapeMismatch(name: "optimizer/\(parameter)/\(slot)", expected: spec.shape, detail: "found \(t.shape)")
                }
            }
        }
    }
}

/// The rules on a file's optimizer slot entries that a `Model` cannot hold to (it keys slots by parameter and slot,
/// so a second entry would overwrite the first and a name would be forgotten): each is `optimizer/<parameter>/<slot>`,
/// and no two are the same slot of the same parameter. Every reader that lists slots with their names (`.mkf`, the
/// JSON and CSV dumps) applies them entry by entry, in file order.
public struct SlotEntryCheck: Sendable {
    /// Tensor name by `parameter/slot`.
    private var seen: [String: String] = [:]
    public init() {}

    public mutating func add(name: String, parameter: String, slot: String) throws(ModelError) {
        let expected = NamedTensor.slotName(parameter: parameter, slot: slot)
        if let first = seen[expected] {
            throw ModelError.duplicateSlot(parameter: parameter, slot: slot, tensors: [first, name])
        }
        seen[expected] = name
        guard name == expected else { throw ModelError.slotNameMismatch(tensor: name, expected: expected) }
    }
}
