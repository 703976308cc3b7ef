/// A model's layers as the framework that made it describes them, kept verbatim so that the model goes back to that
/// framework unchanged (spec/binary-format.md, "graph"). ModelKit reads, converts and checks any graph; the engine
/// runs one only when every layer is one it has (`Model.runnableArchitecture()`).
public struct LayerGraph: Sendable, Hashable {
    /// The framework whose layer classes and configs these are (`keras`).
    public var origin: String
    /// The model-level description as the framework wrote it (Keras's `model_config`: class name, model name, input
    /// and output layers, the layer list), verbatim. Writers for that framework emit it back unchanged.
    public var config: JSONValue
    public var layers: [LayerRecord]

    public init(origin: String, config: JSONValue, layers: [LayerRecord]) {
        self.origin = origin; self.config = config; self.layers = layers
    }

    /// Keras layer classes the engine runs (through `Architecture`).
    public static let engineLayerTypes: Set<String> = ["InputLayer", "Dense", "Activation", "Dropout", "BatchNormalization",
                                                        "LayerNormalization", "LeakyReLU", "ELU", "ReLU", "Softmax"]

    /// Every tensor name the layers own, in layer order.
    public var tensorNames: [String] { layers.flatMap(\.tensors) }
}

/// One layer: its name, the framework's class name, its configuration verbatim, where its inputs come from, and the
/// tensors it owns (`<layer>/<weight>`, in the layer's weight order).
public struct LayerRecord: Sendable, Hashable {
    public var name: String
    /// The framework's class name (`Conv2D`).
    public var type: String
    public var config: JSONValue
    /// One entry per call of the layer (a shared layer is called more than once), each listing its inputs.
    public var inbound: [[LayerInput]]
    public var tensors: [String]

    public init(name: String, type: String, config: JSONValue, inbound: [[LayerInput]] = [], tensors: [String] = []) {
        self.name = name; self.type = type; self.config = config; self.inbound = inbound; self.tensors = tensors
    }
}

/// An input of a layer call: output `tensor` of call `node` of `layer` (Keras's inbound node triple).
public struct LayerInput: Sendable, Hashable {
    public var layer: String
    public var node: Int
    public var tensor: Int
    public init(layer: String, node: Int = 0, tensor: Int = 0) { self.layer = layer; self.node = node; self.tensor = tensor }
}
