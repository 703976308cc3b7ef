extension Model {
    /// Checks that weights and optimizer slots match the architecture and the optimizer: every parameter present with
    /// its shape and a floating-point dtype, nothing extra; slots only for trainable parameters, only those the
    /// optimizer keeps with its settings (`OptimizerConfig.slotNames`), shaped like their parameter, floating point
    /// (their dtype may differ from the parameter's). Every reader and writer calls it, so `check`, `convert` and
    /// `train` refuse the same files. spec/binary-format.md, "Reading", step 9.
    public func validate() throws(ModelError) {
        guard let architecture = engineArchitecture else { return try validateWithoutArchitecture() }
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
        try validateSlots { parameter in byName[parameter].flatMap { $0.trainable ? $0.shape : nil } }
    }

    /// Weights-only models and framework graphs the engine cannot run: names non-empty; a graph's layers own
    /// exactly the tensors there are, each once; slots belong to a weight and have its shape.
    func validateWithoutArchitecture() throws(ModelError) {
        for name in weights.keys where name.isEmpty { throw ModelError.invalidValue(field: "tensor name", message: "must not be empty") }
        if let graph {
            var layers = Set<String>(), owned = Set<String>()
            for layer in graph.layers {
                guard layer.name.isEmpty == false, layers.insert(layer.name).inserted else { throw ModelError.duplicateName(layer.name) }
                for name in layer.tensors {
                    guard owned.insert(name).inserted else { throw ModelError.duplicateName(name) }
                    guard weights[name] != nil else { throw ModelError.missingTensor("\(name) (of layer '\(layer.name)')") }
                }
            }
            for name in weights.keys.sorted() where !owned.contains(name) { throw ModelError.unexpectedTensor(name) }
        }
        try validateSlots { parameter in weights[parameter]?.shape }
    }

    /// Slots: only for parameters `shapeOf` knows (trainable ones), only those the optimizer keeps, shaped like their
    /// parameter, floating point.
    func validateSlots(shapeOf: (String) -> [Int]?) throws(ModelError) {
        if let optimizer {
            try HeaderSchema.validate(optimizer.config)
            let keeps = optimizer.config.slotNames
            for parameter in optimizer.slots.keys.sorted() {
                guard let shape = shapeOf(parameter) else {
                    throw ModelError.unexpectedTensor("optimizer slots for '\(parameter)'")
                }
                for (slot, t) in optimizer.slots[parameter]!.sorted(by: { $0.key < $1.key }) {
                    let name = NamedTensor.slotName(parameter: parameter, slot: slot)
                    guard keeps.contains(slot) else {
                        throw ModelError.unusedSlot(tensor: name, optimizer: optimizer.config.slotSettings, keeps: keeps)
                    }
                    guard t.shape == shape else {
                        throw ModelError.shapeMismatch(name: name, expected: shape, detail: "found \(t.shape)")
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
