/// An activation function and its parameters. Raw names follow Keras (`leaky_relu`, `silu`).
public enum Activation: Sendable, Hashable {
    case linear, relu, sigmoid, tanh, softmax
    /// `x` for x ≥ 0, `negativeSlope·x` otherwise (Keras's default slope is 0.2).
    case leakyRelu(negativeSlope: Double)
    /// `x` for x > 0, `alpha·expm1(x)` otherwise.
    case elu(alpha: Double)
    case selu
    /// Exact `x·Φ(x)` when `approximate` is false; the tanh approximation otherwise.
    case gelu(approximate: Bool)
    /// `log(1 + eˣ)`.
    case softplus
    /// `x·sigmoid(x)`, also called swish.
    case silu

    /// The name used in files and on the command line.
    public var name: String {
        switch self {
        case .linear: return "linear"
        case .relu: return "relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softmax: return "softmax"
        case .leakyRelu: return "leaky_relu"
        case .elu: return "elu"
        case .selu: return "selu"
        case .gelu: return "gelu"
        case .softplus: return "softplus"
        case .silu: return "silu"
        }
    }

    /// Parses a bare name with default parameters (Keras's defaults); `swish` is accepted for `silu`.
    public init?(name: String) {
        switch name {
        case "linear", "": self = .linear
        case "relu": self = .relu
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        case "softmax": self = .softmax
        case "leaky_relu": self = .leakyRelu(negativeSlope: 0.2)
        case "elu": self = .elu(alpha: 1.0)
        case "selu": self = .selu
        case "gelu": self = .gelu(approximate: false)
        case "softplus": self = .softplus
        case "silu", "swish": self = .silu
        default: return nil
        }
    }

    public static let allNames = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu", "gelu", "softplus", "silu"]
}

/// `y = activation(x·kernel + bias)`, where `kernel` has shape `[inputWidth, units]` (Keras's `[in, out]`).
public struct DenseConfig: Sendable, Hashable {
    public var units: Int
    public var activation: Activation
    public var useBias: Bool
    public init(units: Int, activation: Activation = .linear, useBias: Bool = true) {
        self.units = units; self.activation = activation; self.useBias = useBias
    }
}

/// Batch normalisation over the last axis: `γ·(x − mean)/sqrt(var + ε) + β`.
public struct BatchNormalizationConfig: Sendable, Hashable {
    public var axis: Int
    public var momentum: Double
    public var epsilon: Double
    public var center: Bool
    public var scale: Bool
    public init(axis: Int = -1, momentum: Double = 0.99, epsilon: Double = 0.001, center: Bool = true, scale: Bool = true) {
        self.axis = axis; self.momentum = momentum; self.epsilon = epsilon; self.center = center; self.scale = scale
    }
}

/// Layer normalisation over the last axis, per row.
public struct LayerNormalizationConfig: Sendable, Hashable {
    public var epsilon: Double
    public var center: Bool
    public var scale: Bool
    public init(epsilon: Double = 0.001, center: Bool = true, scale: Bool = true) {
        self.epsilon = epsilon; self.center = center; self.scale = scale
    }
}

public enum LayerKind: Sendable, Hashable {
    case dense(DenseConfig)
    case activation(Activation)
    /// Inverted dropout with the given rate during training; the identity at inference.
    case dropout(rate: Double)
    case batchNormalization(BatchNormalizationConfig)
    case layerNormalization(LayerNormalizationConfig)

    /// The type name used in files (`dense`, `activation`, `dropout`, `batch_normalization`, `layer_normalization`).
    public var typeName: String {
        switch self {
        case .dense: return "dense"
        case .activation: return "activation"
        case .dropout: return "dropout"
        case .batchNormalization: return "batch_normalization"
        case .layerNormalization: return "layer_normalization"
        }
    }
}

/// One parameter a layer owns: its short name (`kernel`), full name (`dense_1/kernel`), shape and trainability.
public struct ParameterSpec: Sendable, Hashable {
    public var layer: String
    public var shortName: String
    public var shape: [Int]
    public var trainable: Bool
    public var fullName: String { "\(layer)/\(shortName)" }
    public init(layer: String, shortName: String, shape: [Int], trainable: Bool) {
        self.layer = layer; self.shortName = shortName; self.shape = shape; self.trainable = trainable
    }
}

public struct Layer: Sendable, Hashable {
    /// Unique within the model; parameters are named `<layer name>/<parameter>`.
    public var name: String
    public var kind: LayerKind
    public init(name: String, kind: LayerKind) { self.name = name; self.kind = kind }

    /// Parameters in canonical order, given the width of the layer's input (its last axis).
    public func parameters(inputWidth: Int) -> [ParameterSpec] {
        func p(_ short: String, _ shape: [Int], _ trainable: Bool = true) -> ParameterSpec {
            ParameterSpec(layer: name, shortName: short, shape: shape, trainable: trainable)
        }
        switch kind {
        case .dense(let c):
            return [p("kernel", [inputWidth, c.units])] + (c.useBias ? [p("bias", [c.units])] : [])
        case .batchNormalization(let c):
            return (c.scale ? [p("gamma", [inputWidth])] : []) + (c.center ? [p("beta", [inputWidth])] : [])
                + [p("moving_mean", [inputWidth], false), p("moving_variance", [inputWidth], false)]
        case .layerNormalization(let c):
            return (c.scale ? [p("gamma", [inputWidth])] : []) + (c.center ? [p("beta", [inputWidth])] : [])
        case .activation, .dropout:
            return []
        }
    }

    /// Width of the output's last axis given the input's.
    public func outputWidth(inputWidth: Int) -> Int {
        if case .dense(let c) = kind { return c.units }
        return inputWidth
    }
}

/// A chain of layers applied in order to inputs of shape `[batch] + inputShape`.
public struct Architecture: Sendable, Hashable {
    /// Shape of one sample, without the batch axis (for an MLP, `[features]`).
    public var inputShape: [Int]
    public var layers: [Layer]
    public init(inputShape: [Int], layers: [Layer]) { self.inputShape = inputShape; self.layers = layers }

    public var inputWidth: Int { inputShape.last ?? 0 }

    /// Width of the last axis after each layer.
    public var outputWidths: [Int] {
        var width = inputWidth
        return layers.map { width = $0.outputWidth(inputWidth: width); return width }
    }

    public var outputWidth: Int { outputWidths.last ?? inputWidth }

    /// Every parameter of every layer, in canonical order (layer order, then the layer's own order).
    public var parameters: [ParameterSpec] {
        var width = inputWidth
        var all: [ParameterSpec] = []
        for layer in layers {
            all += layer.parameters(inputWidth: width)
            width = layer.outputWidth(inputWidth: width)
        }
        return all
    }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.shape.reduce(1, *) } }
}
