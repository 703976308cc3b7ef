/// The JSON form of a `LayerGraph` (spec/binary-format.md, "graph", version 2.0):
/// `{"origin": "keras", "config": <the framework's model config, verbatim>, "layers": [{"name", "type", "config",
/// "inbound": [[{"layer", "node", "tensor"}, ...], ...], "tensors": [...]}, ...]}`.
extension HeaderSchema {
    /// Most layers a graph may list: far beyond real models, small enough that a forged count cannot make a reader
    /// spend long before it fails.
    public static let maxGraphLayers = 1 << 20

    public static func json(_ g: LayerGraph) -> JSONValue {
        .object([
            ("origin", .string(g.origin)),
            ("config", g.config),
            ("layers", .array(g.layers.map { layer in
                .object([
                    ("name", .string(layer.name)), ("type", .string(layer.type)), ("config", layer.config),
                    ("inbound", .array(layer.inbound.map { call in
                        .array(call.map { .object([("layer", .string($0.layer)), ("node", .integer(Int64($0.node))),
                                                   ("tensor", .integer(Int64($0.tensor)))]) })
                    })),
                    ("tensors", .array(layer.tensors.map { .string($0) })),
                ])
            })),
        ])
    }

    public static func graph(_ v: JSONValue) throws(ModelError) -> LayerGraph {
        let r = Reader(value: v, path: "graph")
        let origin = try r.string("origin")
        let config = try r.value("config")
        let entries = try r.array("layers")
        guard entries.count <= maxGraphLayers else {
            throw ModelError.invalidHeader(offset: 0, message: "graph.layers lists \(entries.count) layers (at most \(maxGraphLayers))")
        }
        var layers: [LayerRecord] = []
        for (i, entry) in entries.enumerated() {
            let path = "graph.layers[\(i)]"
            let l = Reader(value: entry, path: path)
            var inbound: [[LayerInput]] = []
            for (c, call) in try l.array("inbound").enumerated() {
                guard case .array(let inputs) = call else {
                    throw ModelError.invalidHeader(offset: 0, message: "\(path).inbound[\(c)] must be an array")
                }
                var refs: [LayerInput] = []
                for (k, input) in inputs.enumerated() {
                    let ir = Reader(value: input, path: "\(path).inbound[\(c)][\(k)]")
                    let node = try ir.int("node"), tensor = try ir.int("tensor")
                    guard node >= 0, tensor >= 0 else {
                        throw ModelError.invalidHeader(offset: 0, message: "\(path).inbound[\(c)][\(k)]: node and tensor must be ≥ 0")
                    }
                    refs.append(LayerInput(layer: try ir.string("layer"), node: node, tensor: tensor))
                }
                inbound.append(refs)
            }
            var tensors: [String] = []
            for (k, t) in try l.array("tensors").enumerated() {
                guard case .string(let name) = t else {
                    throw ModelError.invalidHeader(offset: 0, message: "\(path).tensors[\(k)] must be a string")
                }
                tensors.append(name)
            }
            layers.append(LayerRecord(name: try l.string("name"), type: try l.string("type"), config: try l.value("config"),
                                      inbound: inbound, tensors: tensors))
        }
        return LayerGraph(origin: origin, config: config, layers: layers)
    }
}
