/// Output shapes of a graph's layers, worked out from their configs the way Keras's `compute_output_shape` does, for
/// `inspect` and for readers that want to check a tensor against its layer. Only the layer classes listed in
/// `KerasShapeRule` are known; a layer of any other class, or one fed by such a layer, has no shape here (nil), never
/// a guessed one. Shapes are batch first; `nil` entries are Keras's `None` (the batch, a variable length).
extension LayerGraph {
    public typealias Shape = [Int?]

    /// The output shape of each layer's first call, by layer name; layers whose shape is unknown are absent.
    public func outputShapes() -> [String: Shape] {
        var shapes: [String: Shape] = [:]
        var previous: Shape?
        for layer in layers {
            let calls = layer.inbound.first ?? []
            let inputs: [Shape]?
            if let declared = KerasShapeRule.declaredInput(layer.config) {
                inputs = [declared]
            } else if calls.isEmpty {
                // A Sequential model lists no inbound nodes: each layer takes the previous layer's output.
                inputs = previous.map { [$0] }
            } else {
                let found = calls.compactMap { $0.tensor == 0 ? shapes[$0.layer] : nil }
                inputs = found.count == calls.count ? found : nil
            }
            let output = layer.type == "InputLayer" ? inputs?.first
                : inputs.flatMap { KerasShapeRule.output(type: layer.type, config: layer.config, inputs: $0) }
            if let output { shapes[layer.name] = output }
            previous = output
        }
        return shapes
    }
}

/// Keras's output-shape rules for the common layer classes (keras/src/layers/*/`compute_output_shape`).
enum KerasShapeRule {
    typealias Shape = LayerGraph.Shape

    /// Layers whose output has their input's shape.
    static let shapePreserving: Set<String> = [
        "Activation", "Dropout", "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
        "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "ThresholdedReLU", "GaussianNoise", "GaussianDropout",
        "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "Masking", "Rescaling",
        "Normalization", "ActivityRegularization", "Identity",
    ]
    static let merging: Set<String> = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]

    /// The input shape a layer declares itself: `batch_shape` (Keras 3 InputLayer) or `batch_input_shape` (Keras 2).
    static func declaredInput(_ config: JSONValue) -> Shape? {
        guard case .array(let dims)? = config["batch_shape"] ?? config["batch_input_shape"] else { return nil }
        return dims.map { if case .integer(let d) = $0 { return Int(exactly: d) } else { return nil } }
    }

    static func output(type: String, config: JSONValue, inputs: [Shape]) -> Shape? {
        guard let x = inputs.first, x.count >= 1 else { return nil }
        if shapePreserving.contains(type) { return x }
        if merging.contains(type) { return x }
        let channelsFirst = string(config["data_format"]) == "channels_first"
        switch type {
        case "Dense":
            guard let units = int(config["units"]) else { return nil }
            return x.dropLast() + [units]
        case "Flatten":
            let rest = x.dropFirst()
            return [x[0], rest.contains(where: { $0 == nil }) ? nil : rest.reduce(1) { $0 * $1! }]
        case "Embedding":
            guard let width = int(config["output_dim"]) else { return nil }
            return x + [width]
        case "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D":
            guard let rank = spatialRank(type) else { return nil }
            guard x.count == rank + 2 else { return nil }
            let channels: Int?
            if type.hasPrefix("Depthwise") {
                let c = channelsFirst ? x[1] : x[rank + 1]
                channels = c.flatMap { c in int(config["depth_multiplier"]).map { c * $0 } }
            } else {
                channels = int(config["filters"])
            }
            guard let channels else { return nil }
            return spatial(x, rank: rank, channelsFirst: channelsFirst, channels: channels, config: config,
                           window: "kernel_size", stridesDefaultToWindow: false)
        case "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D":
            guard let rank = spatialRank(type) else { return nil }
            guard x.count == rank + 2 else { return nil }
            return spatial(x, rank: rank, channelsFirst: channelsFirst, channels: channelsFirst ? x[1] : x[rank + 1],
                           config: config, window: "pool_size", stridesDefaultToWindow: true)
        case "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
             "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D":
            guard x.count >= 3 else { return nil }
            let channels = channelsFirst ? x[1] : x[x.count - 1]
            if bool(config["keepdims"]) == true {
                return channelsFirst ? [x[0], channels] + Array(repeating: 1, count: x.count - 2)
                                     : [x[0]] + Array(repeating: 1, count: x.count - 2) + [channels]
            }
            return [x[0], channels]
        case "LSTM", "GRU", "SimpleRNN":
            guard x.count == 3, let units = int(config["units"]) else { return nil }
            return bool(config["return_sequences"]) == true ? [x[0], x[1], units] : [x[0], units]
        case "Concatenate":
            guard inputs.allSatisfy({ $0.count == x.count }) else { return nil }
            var axis = int(config["axis"]) ?? -1
            if axis < 0 { axis += x.count }
            guard axis > 0, axis < x.count else { return nil }
            var out = x
            out[axis] = inputs.contains { $0[axis] == nil } ? nil : inputs.reduce(0) { $0 + $1[axis]! }
            return out
        case "Reshape":
            guard case .array(let target)? = config["target_shape"] else { return nil }
            var dims = target.map { int($0) }
            guard dims.allSatisfy({ $0 != nil }) else { return nil }
            if let unknown = dims.firstIndex(of: -1) {
                let known = dims.reduce(1) { $1 == -1 ? $0 : $0 * $1! }
                let rest = x.dropFirst()
                dims[unknown] = rest.contains(where: { $0 == nil }) || known == 0 ? nil : rest.reduce(1) { $0 * $1! } / known
            }
            return [x[0]] + dims
        case "RepeatVector":
            guard x.count == 2, let n = int(config["n"]) else { return nil }
            return [x[0], n, x[1]]
        default:
            return nil
        }
    }

    /// Convolution and pooling: each spatial axis by Keras's `compute_conv_output_shape` rule.
    private static func spatial(_ x: Shape, rank: Int, channelsFirst: Bool, channels: Int?, config: JSONValue,
                                window: String, stridesDefaultToWindow: Bool) -> Shape? {
        guard let size = ints(config[window], rank: rank) else { return nil }
        let strides = ints(config["strides"], rank: rank) ?? (stridesDefaultToWindow ? size : Array(repeating: 1, count: rank))
        let dilation = ints(config["dilation_rate"], rank: rank) ?? Array(repeating: 1, count: rank)
        let same = string(config["padding"]) == "same"
        let axes = channelsFirst ? Array(x[2...]) : Array(x[1...rank])
        var out: Shape = []
        for (i, n) in axes.enumerated() {
            guard let n else { out.append(nil); continue }
            guard strides[i] > 0 else { return nil }
            let extent = dilation[i] * (size[i] - 1) + 1
            out.append(same ? (n + strides[i] - 1) / strides[i] : max(0, (n - extent) / strides[i] + 1))
        }
        return channelsFirst ? [x[0], channels] + out : [x[0]] + out + [channels]
    }

    /// The number of spatial axes a class name states (`Conv2D` → 2).
    private static func spatialRank(_ type: String) -> Int? {
        type.last == "D" ? type.dropLast().last?.wholeNumberValue : nil
    }

    private static func int(_ v: JSONValue?) -> Int? {
        if case .integer(let i)? = v { return Int(exactly: i) }
        return nil
    }
    private static func bool(_ v: JSONValue?) -> Bool? {
        if case .bool(let b)? = v { return b }
        return nil
    }
    private static func string(_ v: JSONValue?) -> String? {
        if case .string(let s)? = v { return s }
        return nil
    }
    /// An int or a list of `rank` ints (Keras accepts either for kernel sizes and strides).
    private static func ints(_ v: JSONValue?, rank: Int) -> [Int]? {
        if let i = int(v) { return Array(repeating: i, count: rank) }
        guard case .array(let items)? = v, items.count == rank else { return nil }
        let values = items.compactMap(int)
        return values.count == rank ? values : nil
    }
}
