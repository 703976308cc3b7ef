import ModelFormat

/// ONNX export of the forward graph (spec/foreign-formats.md, "ONNX"): opset 17, IR version 8, one input `input`
/// of shape `[batch] + inputShape` and one output `output`, weights as initializers.
///
/// Dense is `Gemm` (or `MatMul` + `Add` for inputs of rank above 2, `MatMul` alone without bias); activations are
/// their ONNX operators (`Relu`, `Sigmoid`, `Tanh`, `Softmax(axis=-1)`, `LeakyRelu`, `Elu`, `Selu`, `Softplus`), with
/// exact GELU as `0.5·x·(1 + Erf(x/√2))`, tanh-GELU and SiLU composed from primitive operators;
/// `BatchNormalization` and `LayerNormalization(axis=-1)` are the ONNX operators; Dropout is the identity.
///
/// The protobuf is written by hand (`ProtoWriter`, about 40 lines) rather than with swift-protobuf: the export needs
/// seven message types and only the varint and length-delimited wire types, and a generated `onnx.pb.swift` would be
/// ~10 000 lines plus a package dependency for that.
public enum ONNXExport {
    public static let opset: Int64 = 17
    public static let irVersion: Int64 = 8

    public static func write(_ model: Model, path: String, options: WriteOptions) throws {
        let bytes = try encode(model, options: options)
        let sink = try ByteSink(path: path)
        try sink.append(bytes)
        try sink.finish()
    }

    public static func encode(_ model: Model, options: WriteOptions = WriteOptions()) throws -> [UInt8] {
        try model.validate()
        var dropped: [String] = []
        if let o = model.optimizer { dropped.append("optimizer state (\(o.config.kindName), iteration \(o.iteration), \(o.slots.values.reduce(0) { $0 + $1.count }) slot tensors)") }
        if model.training != nil { dropped.append("training state") }
        if !dropped.isEmpty {
            guard options.allowLossy else {
                throw ModelError.unsupported("ONNX holds the forward graph only; this model also has \(dropped.joined(separator: " and ")). Use --allow-lossy to export without it")
            }
            for d in dropped { options.warn("ONNX export drops the \(d)") }
        }
        var graph = GraphBuilder(model: model, architecture: try model.requiredArchitecture(by: "ONNX export"))
        try graph.build()
        return graph.modelProto()
    }
}

/// ONNX TensorProto.DataType values.
enum ONNXType {
    static let float: Int64 = 1, double: Int64 = 11
}

/// Minimal protobuf encoding: varints, length-delimited fields and fixed32 floats.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }
    /// int32/int64/enum fields (negative values as ten-byte two's complement, as protobuf does).
    mutating func int(_ field: Int, _ value: Int64) { tag(field, 0); varint(UInt64(bitPattern: value)) }
    mutating func float(_ field: Int, _ value: Float) {
        tag(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }
    mutating func bytes(_ field: Int, _ data: [UInt8]) { tag(field, 2); varint(UInt64(data.count)); bytes += data }
    mutating func bytes(_ field: Int, _ data: UnsafeRawBufferPointer) { tag(field, 2); varint(UInt64(data.count)); bytes += data }
    mutating func string(_ field: Int, _ s: String) { bytes(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var inner = ProtoWriter()
        build(&inner)
        bytes(field, inner.bytes)
    }
}

/// Builds the graph's nodes and initializers layer by layer.
struct GraphBuilder {
    enum Attribute {
        case float(String, Float)
        case int(String, Int64)
    }
    struct Node {
        var op: String
        var inputs: [String]
        var outputs: [String]
        var name: String
        var attributes: [Attribute] = []
    }

    let model: Model
    let architecture: Architecture
    /// f64 models export as double; every other float dtype as float (f16/bf16 widened exactly).
    let elementType: Int64
    var nodes: [Node] = []
    var initializers: [(String, [Int], [UInt8])] = []
    var current = "input"
    var counter = 0

    init(model: Model, architecture: Architecture) {
        self.model = model
        self.architecture = architecture
        elementType = model.floatDType == .f64 ? ONNXType.double : ONNXType.float
    }

    /// Tensor bytes in the export's element type.
    func data(_ t: Tensor) -> [UInt8] {
        if elementType == ONNXType.double {
            return t.dtype == .f64 ? Array(t.bytes) : t.doubles().withUnsafeBytes { Array($0) }
        }
        return t.floats().withUnsafeBytes { Array($0) }
    }

    func constantBytes(_ values: [Double]) -> [UInt8] {
        elementType == ONNXType.double ? values.withUnsafeBytes { Array($0) } : values.map { Float($0) }.withUnsafeBytes { Array($0) }
    }

    mutating func weight(_ layer: Layer, _ short: String) -> String {
        let name = "\(layer.name)/\(short)"
        let t = model.weights[name]!
        initializers.append((name, t.shape, data(t)))
        return name
    }

    /// A constant initializer (scalar when `shape` is empty).
    mutating func constant(_ name: String, _ values: [Double], shape: [Int] = []) -> String {
        initializers.append((name, shape, constantBytes(values)))
        return name
    }

    mutating func node(_ op: String, _ inputs: [String], name: String, _ attributes: [Attribute] = [], output: String? = nil) -> String {
        counter += 1
        let out = output ?? "\(name)/\(op)_\(counter)"
        nodes.append(Node(op: op, inputs: inputs, outputs: [out], name: "\(name)/\(op)_\(counter)", attributes: attributes))
        return out
    }

    mutating func build() throws(ModelError) {
        let rank = architecture.inputShape.count + 1
        var width = architecture.inputWidth
        for layer in architecture.layers {
            switch layer.kind {
            case .dense(let c):
                let kernel = weight(layer, "kernel")
                if c.useBias {
                    let bias = weight(layer, "bias")
                    if rank == 2 {
                        current = node("Gemm", [current, kernel, bias], name: layer.name)
                    } else {
                        current = node("Add", [node("MatMul", [current, kernel], name: layer.name), bias], name: layer.name)
                    }
                } else {
                    current = node("MatMul", [current, kernel], name: layer.name)
                }
                try activation(c.activation, name: layer.name)
            case .activation(let a):
                try activation(a, name: layer.name)
            case .dropout:
                break  // the identity at inference
            case .batchNormalization(let c):
                guard rank == 2 else {
                    throw ModelError.unsupported("ONNX export of BatchNormalization '\(layer.name)' on inputs of rank \(rank) (ONNX normalises axis 1; ModelKit the last axis)")
                }
                let gamma = c.scale ? weight(layer, "gamma") : constant("\(layer.name)/gamma", [Double](repeating: 1, count: width), shape: [width])
                let beta = c.center ? weight(layer, "beta") : constant("\(layer.name)/beta", [Double](repeating: 0, count: width), shape: [width])
                let mean = weight(layer, "moving_mean"), variance = weight(layer, "moving_variance")
                current = node("BatchNormalization", [current, gamma, beta, mean, variance], name: layer.name,
                               [.float("epsilon", Float(c.epsilon))])
            case .layerNormalization(let c):
                let gamma = c.scale ? weight(layer, "gamma") : constant("\(layer.name)/gamma", [Double](repeating: 1, count: width), shape: [width])
                var inputs = [current, gamma]
                if c.center { inputs.append(weight(layer, "beta")) }
                current = node("LayerNormalization", inputs, name: layer.name, [.int("axis", -1), .float("epsilon", Float(c.epsilon))])
            }
            width = layer.outputWidth(inputWidth: width)
        }
        // The graph's output must be produced by a node; an all-identity chain gets one.
        if current == "input" { current = node("Identity", [current], name: "output") }
        nodes[nodes.count - 1].outputs = ["output"]
        current = "output"
    }

    mutating func activation(_ a: Activation, name: String) throws(ModelError) {
        switch a {
        case .linear: return
        case .relu: current = node("Relu", [current], name: name)
        case .sigmoid: current = node("Sigmoid", [current], name: name)
        case .tanh: current = node("Tanh", [current], name: name)
        case .softmax: current = node("Softmax", [current], name: name, [.int("axis", -1)])
        case .leakyRelu(let s): current = node("LeakyRelu", [current], name: name, [.float("alpha", Float(s))])
        case .elu(let alpha): current = node("Elu", [current], name: name, [.float("alpha", Float(alpha))])
        case .selu:
            current = node("Selu", [current], name: name, [.float("alpha", 1.6732632423543772), .float("gamma", 1.0507009873554805)])
        case .softplus: current = node("Softplus", [current], name: name)
        case .silu:
            let x = current
            current = node("Mul", [x, node("Sigmoid", [x], name: name)], name: name)
        case .gelu(let approximate):
            let x = current
            let half = constant("\(name)/gelu_half", [0.5]), one = constant("\(name)/gelu_one", [1])
            let inner: String
            if approximate {
                // tanh(√(2/π)·(x + 0.044715·x³))
                let cube = node("Mul", [node("Mul", [x, x], name: name), x], name: name)
                let scaled = node("Mul", [cube, constant("\(name)/gelu_c", [0.044715])], name: name)
                let sum = node("Add", [x, scaled], name: name)
                inner = node("Tanh", [node("Mul", [sum, constant("\(name)/gelu_k", [(2 / Double.pi).squareRoot()])], name: name)], name: name)
            } else {
                // erf(x/√2)
                inner = node("Erf", [node("Div", [x, constant("\(name)/gelu_sqrt2", [Double(2).squareRoot()])], name: name)], name: name)
            }
            let onePlus = node("Add", [inner, one], name: name)
            current = node("Mul", [node("Mul", [x, onePlus], name: name), half], name: name)
        }
    }

    func valueInfo(_ w: inout ProtoWriter, field: Int, name: String, shape: [Int64?]) {
        w.message(field) { v in
            v.string(1, name)
            v.message(2) { type in
                type.message(1) { tensor in
                    tensor.int(1, elementType)
                    tensor.message(2) { s in
                        for d in shape {
                            s.message(1) { dim in
                                if let d { dim.int(1, d) } else { dim.string(2, "batch") }
                            }
                        }
                    }
                }
            }
        }
    }

    func modelProto() -> [UInt8] {
        var m = ProtoWriter()
        m.int(1, ONNXExport.irVersion)
        m.string(2, "modelkit")
        m.string(3, "1")
        m.message(7) { g in
            for n in nodes {
                g.message(1) { p in
                    for i in n.inputs { p.string(1, i) }
                    for o in n.outputs { p.string(2, o) }
                    p.string(3, n.name)
                    p.string(4, n.op)
                    for a in n.attributes {
                        p.message(5) { attr in
                            switch a {
                            case .float(let name, let v): attr.string(1, name); attr.float(2, v); attr.int(20, 1)
                            case .int(let name, let v): attr.string(1, name); attr.int(3, v); attr.int(20, 2)
                            }
                        }
                    }
                }
            }
            g.string(2, "modelkit")
            for (name, shape, data) in initializers {
                g.message(5) { t in
                    for d in shape { t.int(1, Int64(d)) }
                    t.int(2, elementType)
                    t.string(8, name)
                    t.bytes(9, data)
                }
            }
            let input: [Int64?] = [nil] + architecture.inputShape.map { Int64($0) }
            let output: [Int64?] = [nil] + architecture.inputShape.dropLast().map { Int64($0) } + [Int64(architecture.outputWidth)]
            valueInfo(&g, field: 11, name: "input", shape: input)
            valueInfo(&g, field: 12, name: "output", shape: output)
        }
        m.message(8) { o in o.string(1, ""); o.int(2, ONNXExport.opset) }
        // The architecture and metadata travel as metadata_props, so the export says what it came from.
        m.message(14) { p in p.string(1, "modelkit.architecture"); p.string(2, HeaderSchema.json(architecture).text) }
        if !model.metadata.isEmpty {
            m.message(14) { p in p.string(1, "modelkit.metadata"); p.string(2, HeaderSchema.json(model.metadata).text) }
        }
        return m.bytes
    }
}
