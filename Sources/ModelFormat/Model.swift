/// A model file's whole content: named tensors, the layers that use them when the file describes them (a typed
/// `architecture` the engine runs, and the framework's own `graph` kept verbatim), optional optimizer and training
/// state, and metadata. A model with neither is weights-only (a safetensors file from PyTorch, say): every format
/// that holds tensors without layers carries it. Equality compares every tensor bit for bit.
public struct Model: Sendable, Equatable {
    /// ModelKit's typed layers (what `.mkf` 1.0 calls the architecture), present when the engine can run the model:
    /// every model ModelKit makes, and framework models whose every layer the engine has. nil for weights-only models
    /// and graphs it cannot run.
    public var engineArchitecture: Architecture?
    /// The layers as their framework describes them, when the model came from one (Keras): written back verbatim.
    public var graph: LayerGraph?
    /// Keyed by tensor name (`dense/kernel`); `tensorNames` gives the order.
    public var weights: [String: Tensor]
    /// The order of weights that no architecture orders (a weights-only file's own order); names not listed come
    /// after, sorted.
    public var weightOrder: [String]
    public var optimizer: OptimizerState?
    public var training: TrainingState?
    public var metadata: Metadata

    public init(architecture: Architecture?, graph: LayerGraph? = nil, weights: [String: Tensor], weightOrder: [String] = [],
                optimizer: OptimizerState? = nil, training: TrainingState? = nil, metadata: Metadata = [:]) {
        self.engineArchitecture = architecture; self.graph = graph; self.weights = weights; self.weightOrder = weightOrder
        self.optimizer = optimizer; self.training = training; self.metadata = metadata
    }

    /// A weights-only model: tensors in the given order, no layers.
    public init(tensors: [(String, Tensor)], metadata: Metadata = [:]) {
        self.init(architecture: nil, weights: Dictionary(tensors, uniquingKeysWith: { a, _ in a }),
                  weightOrder: tensors.map(\.0), metadata: metadata)
    }

    /// The 1.0 accessor, kept for code written against it: the typed architecture, or for a model without one an
    /// empty architecture (no input shape, no layers). `engineArchitecture` tells the two apart.
    public var architecture: Architecture {
        get { engineArchitecture ?? Architecture(inputShape: [], layers: []) }
        set { engineArchitecture = newValue }
    }

    /// Weight names in canonical order: the architecture's parameters, else the graph's tensors, else
    /// `weightOrder`; then any other names, sorted.
    public var weightNames: [String] {
        let ordered = engineArchitecture?.parameters.map(\.fullName) ?? graph?.tensorNames ?? weightOrder
        var seen = Set<String>()
        var out: [String] = []
        for name in ordered where weights[name] != nil && seen.insert(name).inserted { out.append(name) }
        return out + weights.keys.filter { !seen.contains($0) }.sorted()
    }

    /// The architecture the engine runs, or an error naming why there is none: the first layer it cannot run, or
    /// `--arch` for weights without layers.
    public func runnableArchitecture() throws(ModelError) -> Architecture {
        if let engineArchitecture { return engineArchitecture }
        if let graph {
            let layer = graph.layers.first { !LayerGraph.engineLayerTypes.contains($0.type) } ?? graph.layers.first
            throw ModelError.notRunnable(layer: layer?.name ?? "(none)", type: layer?.type ?? "(no layers)")
        }
        throw ModelError.noArchitecture(tensors: weights.count)
    }

    /// Whether the first version of ModelKit's formats can hold the model: a ModelKit architecture, no framework
    /// graph. Writers then write that version, so that older readers keep reading what they always could; models
    /// without an architecture or with a graph need the second version of each format (.mkf 2.0, JSON and CSV 2).
    public var fitsFirstFormatVersion: Bool { engineArchitecture != nil && graph == nil }

    /// The architecture, for a writer whose format cannot hold a model without one: refuses naming the format and
    /// what the model is, and `--arch` for weights without layers.
    public func requiredArchitecture(by format: String) throws(ModelError) -> Architecture {
        if let engineArchitecture { return engineArchitecture }
        if let graph {
            throw ModelError.unsupported("\(format) cannot hold this \(graph.origin) model's layers yet (\(graph.layers.count) layers, first \(graph.layers.first.map { "\($0.name) of type \($0.type)" } ?? "none")); .mkf keeps it whole")
        }
        throw ModelError.invalidValue(field: "--arch", message: "\(format) needs an architecture, and this model is \(weights.count) tensors without layers: give --arch to attach one, or write a format that holds tensors alone (.mkf, safetensors, npz)")
    }

    /// Equal when everything a file holds is: layers, tensors bit for bit in canonical order, state and metadata.
    /// `weightOrder` counts only through `weightNames` (it orders weights only when no layers do).
    public static func == (a: Model, b: Model) -> Bool {
        a.engineArchitecture == b.engineArchitecture && a.graph == b.graph && a.weights == b.weights
            && a.weightNames == b.weightNames && a.optimizer == b.optimizer && a.training == b.training
            && a.metadata == b.metadata
    }

    /// The dtype of the model's weights (of its first floating-point weight; f32 when there are none).
    public var floatDType: DType {
        for name in weightNames { if let t = weights[name], t.dtype.isFloatingPoint { return t.dtype } }
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
        let parameters = weightNames
        for name in parameters { out.append(NamedTensor(name: name, role: .weight, tensor: weights[name]!)) }
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
