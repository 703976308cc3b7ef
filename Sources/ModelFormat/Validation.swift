extension Model {
    /// Checks that weights and optimizer slots match the architecture and the optimizer: every parameter present with
    /// its shape and a floating-point dtype, nothing extra; slots only for trainable parameters, only those the
    /// optimizer keeps with its settings (`OptimizerConfig.slotNames`), shaped like their parameter, floating point
    /// (their dtype may differ from the parameter's). Every reader and writer calls it, so `check`, `convert` and
    /// `train` refuse the same files. spec/binary-format.md, "Reading", step 9.
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
            let keeps = optimizer.config.slotNames
            for parameter in optimizer.slots.keys.sorted() {
                guard let spec = byName[parameter], spec.trainable else {
                    throw ModelError.unexpectedTensor("optimizer slots for '\(parameter)'")
                }
                for (slot, t) in optimizer.slots[parameter]!.sorted(by: { $0.key < $1.key }) {
                    let name = NamedTensor.slotName(parameter: parameter, slot: slot)
                    guard keeps.contains(slot) else {
                        throw ModelError.unusedSlot(tensor: name, optimizer: optimizer.config.slotSettings, keeps: keeps)
                    }
                    guard t.shape == spec.shape else {
                        throw ModelError.shapeMismatch(name: name, expected: spec.shape, detail: "found \(t.shape)")
                    }
                    guard t.dtype.isFloatingPoint else {
                        throw ModelError.unknownDType(t.dtype.rawValue, location: "tensor '\(name)' (optimizer slots must be floating point)")
                    }
                }
            }
        }
    }
}

extension OptimizerConfig {
    /// The settings that decide which slots the optimizer keeps, as errors name them (`sgd with momentum 0.0`).
    var slotSettings: String {
        switch self {
        case .sgd(let c): return "sgd with momentum \(c.momentum)"
        case .adam(let c): return c.amsgrad ? "adam with amsgrad" : "adam without amsgrad"
        case .rmsprop(let c): return "rmsprop with momentum \(c.momentum), \(c.centered ? "centered" : "not centered")"
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
