import ModelFormat
import ModelHDF5

/// Keras models as a `LayerGraph`: every layer class, Sequential or Functional, kept verbatim with its weights and
/// optimizer slots (spec/keras-formats.md, "Graphs"). Used by `KerasH5` and `KerasZip` when the model config has a
/// layer the engine lacks; such a model has no `engineArchitecture`, so `predict` and `train` refuse it naming the
/// layer, while `inspect`, `check`, `diff` and `convert` work. Written back to a Keras legacy `.h5` with the stored
/// model config verbatim, so Keras rebuilds the same model.
///
/// Tensor names are `<layer>/<weight>` with Keras's weight names: the last component of the `.h5` weight path
/// (`sequential/conv2d/kernel` → `conv2d/kernel`, `sequential/lstm/lstm_cell/kernel` → `lstm/kernel`), or, for a
/// `.keras` file whose weights are positional (`layers/conv2d/vars/0`), the names Keras gives each class's weights in
/// order (`positionalNames`); a class not in that table gets `<layer>/<path of the variable in the layer's group>`.
enum KerasGraph {
    /// One layer of the model config.
    struct Entry {
        var name: String
        var className: String
        var config: JSONValue
        var inbound: [[LayerInput]]
    }

    /// Deepest nesting of sub-layer groups followed inside one layer of a `.keras` weights file (an LSTM's cell is 1).
    static let maxNesting = 8

    // MARK: Model config

    /// The layers of a Keras model config (`{"class_name": "Sequential" | "Functional" | "Model", "config": {...}}`).
    static func entries(_ modelConfig: JSONValue, source: String) throws -> (modelName: String, isSequential: Bool, entries: [Entry]) {
        let top = HeaderSchema.Reader(value: modelConfig, path: source)
        let className = try top.string("class_name")
        guard ["Sequential", "Functional", "Model"].contains(className) else {
            throw ModelError.unsupported("Keras model class '\(className)' (Sequential and Functional models are read)")
        }
        let config = HeaderSchema.Reader(value: try top.value("config"), path: "\(source).config")
        var modelName = "model"
        if case .string(let n)? = config.optional("name") { modelName = n }
        var out: [Entry] = []
        var seen = Set<String>()
        for (i, value) in try config.array("layers").enumerated() {
            let path = "\(source).config.layers[\(i)]"
            let r = HeaderSchema.Reader(value: value, path: path)
            let layerClass = try r.string("class_name")
            let layerConfig = try r.value("config")
            var name: String? = nil
            if case .string(let n)? = layerConfig["name"] { name = n } else if case .string(let n)? = value["name"] { name = n }
            guard let name else { throw ModelError.invalidHeader(offset: 0, message: "\(path): the layer has no name") }
            guard !name.isEmpty, !name.contains("/") else {
                throw ModelError.unsupported("Keras layer name '\(name)' (names must be non-empty without '/')")
            }
            guard seen.insert(name).inserted else { throw ModelError.duplicateName("layer '\(name)' (\(path))") }
            var inbound: [[LayerInput]] = []
            if let nodes = value["inbound_nodes"] {
                guard case .array(let items) = nodes else {
                    throw ModelError.invalidHeader(offset: 0, message: "\(path).inbound_nodes must be a list")
                }
                for node in items {
                    var refs: [LayerInput] = []
                    collectInputs(node, into: &refs, depth: 0)
                    inbound.append(refs)
                }
            }
            out.append(Entry(name: name, className: layerClass, config: layerConfig, inbound: inbound))
        }
        for entry in out {
            for input in entry.inbound.joined() where !seen.contains(input.layer) {
                throw ModelError.invalidHeader(offset: 0, message: "\(source): layer '\(entry.name)' takes its input from '\(input.layer)', which the model does not have")
            }
        }
        return (modelName, className == "Sequential", out)
    }

    /// The inputs of one call, in order: Keras 3 `{"args": [...], "kwargs": {...}}` with `keras_history` triples
    /// inside serialized tensors, tf.keras 2 `[[name, node, tensor, {kwargs}], ...]`.
    static func collectInputs(_ value: JSONValue, into refs: inout [LayerInput], depth: Int) {
        guard depth < 64 else { return }
        func triple(_ items: [JSONValue]) -> LayerInput? {
            guard items.count >= 3, case .string(let layer) = items[0], case .integer(let node) = items[1],
                  case .integer(let tensor) = items[2], (0...Int64(Int32.max)).contains(node), (0...Int64(Int32.max)).contains(tensor)
            else { return nil }
            return LayerInput(layer: layer, node: Int(node), tensor: Int(tensor))
        }
        switch value {
        case .object(let members):
            if case .array(let h)? = value["keras_history"], let ref = triple(h) { refs.append(ref); return }
            for (_, member) in members { collectInputs(member, into: &refs, depth: depth + 1) }
        case .array(let items):
            if let ref = triple(items) { refs.append(ref); return }
            for item in items { collectInputs(item, into: &refs, depth: depth + 1) }
        default:
            break
        }
    }

    /// A `.keras` `config.json` in the form a legacy `.h5` stores the same model's `model_config`, so that both files
    /// give one graph: `{"class_name", "config"}` only; each layer entry without `module`, `registered_name` and
    /// `build_config`; no `shared_object_id` anywhere (Python object ids that change on every save).
    static func legacyForm(_ configJSON: JSONValue) -> JSONValue {
        func strip(_ v: JSONValue, depth: Int) -> JSONValue {
            guard depth < 256 else { return v }
            switch v {
            case .object(let members): return .object(members.filter { $0.0 != "shared_object_id" }.map { ($0.0, strip($0.1, depth: depth + 1)) })
            case .array(let items): return .array(items.map { strip($0, depth: depth + 1) })
            default: return v
            }
        }
        var config = strip(configJSON["config"] ?? .null, depth: 0)
        if case .object(var members) = config, let i = members.firstIndex(where: { $0.0 == "layers" }), case .array(let layers) = members[i].1 {
            members[i].1 = .array(layers.map { layer in
                guard case .object(let m) = layer else { return layer }
                return .object(m.filter { !["module", "registered_name", "build_config"].contains($0.0) })
            })
            config = .object(members)
        }
        return .object([("class_name", configJSON["class_name"] ?? .null), ("config", config)])
    }

    /// Whether a model config the engine path refused is kept as a graph: when it has a layer class the engine
    /// lacks, or is a Functional model that is not a plain chain. Engine classes with settings ModelKit cannot
    /// reproduce (regularizers, mixed precision) stay refused naming the setting, as before.
    static func keepsAsGraph(_ modelConfig: JSONValue) -> Bool {
        guard case .array(let layers)? = modelConfig["config"]?["layers"] else { return false }
        for layer in layers {
            guard case .string(let className)? = layer["class_name"] else { return false }
            if !LayerGraph.engineLayerTypes.contains(className) { return true }
        }
        guard modelConfig["class_name"] != .string("Sequential"), let config = modelConfig["config"] else { return false }
        let names = layers.map { layer -> String in
            if case .string(let n)? = layer["config"]?["name"] { return n }
            if case .string(let n)? = layer["name"] { return n }
            return ""
        }
        do { try KerasConfig.checkPlainChain(config: HeaderSchema.Reader(value: config, path: "config"), layers: layers, names: names) } catch {
            return true
        }
        return false
    }

    // MARK: Weight names

    /// `<layer>/<last component>` for each `.h5` weight path (`:0` dropped); when two would collide, the path after
    /// the layer's own component.
    static func tensorNames(layer: String, paths: [String]) -> [String] {
        let components = paths.map { path -> [String] in
            var parts = path.split(separator: "/").map(String.init)
            if let last = parts.last, last.hasSuffix(":0") { parts[parts.count - 1] = String(last.dropLast(2)) }
            return parts
        }
        let short = components.map { $0.last ?? "" }
        if Set(short).count == short.count, !short.contains("") { return short.map { "\(layer)/\($0)" } }
        return components.map { parts in
            let tail = parts.firstIndex(of: layer).map { Array(parts[($0 + 1)...]) } ?? parts
            return "\(layer)/\(tail.joined(separator: "/"))"
        }
    }

    /// Keras's names for a layer's weights in order, for classes whose weights are fixed by their config; nil when
    /// the class is not known here or the count disagrees.
    static func positionalNames(className: String, config: JSONValue, count: Int) -> [String]? {
        let bias = config["use_bias"] != .bool(false)
        let scale = config["scale"] != .bool(false), center = config["center"] != .bool(false)
        var names: [String]
        switch className {
        case "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose":
            names = ["kernel"] + (bias ? ["bias"] : [])
        case "DepthwiseConv1D", "DepthwiseConv2D":
            names = ["depthwise_kernel"] + (bias ? ["bias"] : [])
        case "SeparableConv1D", "SeparableConv2D":
            names = ["depthwise_kernel", "pointwise_kernel"] + (bias ? ["bias"] : [])
        case "Embedding":
            names = ["embeddings"]
        case "SimpleRNN", "LSTM", "GRU":
            names = ["kernel", "recurrent_kernel"] + (bias ? ["bias"] : [])
        case "BatchNormalization":
            names = (scale ? ["gamma"] : []) + (center ? ["beta"] : []) + ["moving_mean", "moving_variance"]
        case "LayerNormalization":
            names = (scale ? ["gamma"] : []) + (center ? ["beta"] : [])
        case "PReLU":
            names = ["alpha"]
        default:
            return nil
        }
        return names.count == count ? names : nil
    }

    /// Rank of the kernel each convolution class needs: a file whose kernel has another rank is not that layer.
    static func kernelRank(_ className: String) -> Int? {
        switch className {
        case "Dense": return 2
        case "Conv1D", "Conv1DTranspose": return 3
        case "Conv2D", "Conv2DTranspose": return 4
        case "Conv3D", "Conv3DTranspose": return 5
        default: return nil
        }
    }

    static func checkKernel(_ entry: Entry, name: String, tensor: Tensor) throws {
        guard name == "\(entry.name)/kernel", let rank = kernelRank(entry.className), tensor.shape.count != rank else { return }
        throw ModelError.shapeMismatch(name: name, expected: [], detail: "layer '\(entry.name)' of Keras class '\(entry.className)' needs a rank-\(rank) kernel, the file holds shape \(tensor.shape)")
    }

    /// Whether Keras trains a weight: not when its layer is frozen (`trainable: false`), nor the statistics that
    /// normalization layers update themselves.
    static func isTrainable(weight: String, layerConfig: JSONValue) -> Bool {
        if layerConfig["trainable"] == .bool(false) { return false }
        return !["moving_mean", "moving_variance", "count", "mean", "variance"].contains(weight)
    }

    /// The graph's weights as parameter specs (for the optimizer's variable order): layer order, each layer's
    /// weight order. Trainable are those with optimizer slots when the model has any (Keras makes slots for every
    /// trainable weight at once), else by `isTrainable`.
    static func parameterSpecs(_ model: Model, _ graph: LayerGraph) -> [ParameterSpec] {
        let withSlots = Set(model.optimizer?.slots.keys.map { $0 } ?? [])
        return graph.layers.flatMap { layer in
            layer.tensors.map { name in
                let short = String(name.dropFirst(layer.name.count + 1))
                let trainable = withSlots.isEmpty ? isTrainable(weight: short, layerConfig: layer.config) : withSlots.contains(name)
                return ParameterSpec(layer: layer.name, shortName: short, shape: model.weights[name]?.shape ?? [], trainable: trainable)
            }
        }
    }

    /// A weight dataset of any shape (floating point).
    static func readTensor(_ group: H5Group, _ link: String, name: String) throws -> Tensor {
        guard try group.has(link) else { throw ModelError.missingTensor("\(name) (\(group.path)/\(link))") }
        let info = try group.dataset(link).info()
        return try KerasH5.readFloatTensor(group, link, name: name, shape: info.shape)
    }

    // MARK: Legacy .h5

    static func readH5(root: H5Group, modelConfig: JSONValue, source: String, options: ReadOptions) throws -> Model {
        let (modelName, _, entries) = try self.entries(modelConfig, source: "model_config")
        let byName = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let weightsGroup = try root.group("model_weights")
        var tensors: [String: [String]] = [:]
        var weights: [String: Tensor] = [:]
        // Flattened Keras weight path (`sequential_conv2d_kernel`, as Keras 3 optimizer variables name it) and the
        // plain path (tf.keras 2 `dense/kernel`) → tensor name.
        var byFlatPath: [String: String] = [:], byPath: [String: String] = [:]
        for layer in try KerasH5.splitList(weightsGroup, "layer_names") {
            guard try weightsGroup.has(layer) else { throw ModelError.format("HDF5: \(weightsGroup.path)/\(layer) is missing (listed in layer_names)") }
            let group = try weightsGroup.group(layer)
            let paths = try KerasH5.splitList(group, "weight_names")
            guard !paths.isEmpty else { continue }
            guard let entry = byName[layer] else {
                throw ModelError.unexpectedTensor("model_weights/\(layer) (the model config has no layer '\(layer)')")
            }
            guard tensors[layer] == nil else { throw ModelError.duplicateName("model_weights/\(layer) (listed twice in layer_names)") }
            let names = tensorNames(layer: layer, paths: paths)
            for (path, name) in zip(paths, names) {
                let tensor = try readTensor(group, path, name: name)
                try checkKernel(entry, name: name, tensor: tensor)
                weights[name] = tensor
                let plain = path.hasSuffix(":0") ? String(path.dropLast(2)) : path
                byPath[plain] = byPath[plain] ?? name
                byFlatPath[plain.replacingOccurrences(of: "/", with: "_")] = byFlatPath[plain.replacingOccurrences(of: "/", with: "_")] ?? name
            }
            tensors[layer] = names
        }
        if try weightsGroup.has("top_level_model_weights"), try !KerasH5.splitList(try weightsGroup.group("top_level_model_weights"), "weight_names").isEmpty {
            throw ModelError.unsupported("top-level model weights (weights not owned by a layer)")
        }
        let graph = LayerGraph(origin: "keras", config: modelConfig, layers: entries.map {
            LayerRecord(name: $0.name, type: $0.className, config: $0.config, inbound: $0.inbound, tensors: tensors[$0.name] ?? [])
        })

        var loss: Loss? = nil
        var optimizerJSON: JSONValue? = nil
        if try root.hasAttribute("training_config") {
            let training = try KerasConfig.parse(try KerasH5.text(root, "training_config"), source: "training_config")
            if let l = training["loss"], l != .null { loss = try KerasConfig.loss(l) }
            if let o = training["optimizer_config"], o != .null { optimizerJSON = o }
        }
        var optimizer: OptimizerState? = nil
        if try root.has("optimizer_weights") {
            guard let optimizerJSON else {
                throw ModelError.unsupported("optimizer_weights without an optimizer in training_config (its kind and hyperparameters are unknown)")
            }
            let group = try root.group("optimizer_weights")
            var iteration: Int64 = 0
            var learningRate: Double? = nil
            var slots: [String: [String: Tensor]] = [:]
            for variable in try KerasH5.splitList(group, "weight_names") {
                let base = KerasH5.shortName(variable)
                if base == "iteration" || base == "iter" {
                    iteration = try KerasH5.readScalar(group, variable).int
                } else if base == "learning_rate" || base == "lr" {
                    learningRate = try KerasH5.readScalar(group, variable).double
                } else if let (parameter, slot) = self.slot(variable, byFlatPath: byFlatPath, byPath: byPath, modelName: modelName) {
                    let name = NamedTensor.slotName(parameter: parameter, slot: slot)
                    guard slots[parameter]?[slot] == nil else { throw ModelError.duplicateName("optimizer_weights/\(variable) (a second \(name))") }
                    slots[parameter, default: [:]][slot] = try KerasH5.readFloatTensor(group, variable, name: name, shape: weights[parameter]!.shape)
                } else {
                    throw ModelError.unexpectedTensor("optimizer_weights/\(variable) (not an optimizer variable ModelKit can map to a weight)")
                }
            }
            if try root.hasAttribute("modelkit_zero_filled_slots") {
                for entry in try KerasH5.splitList(root, "modelkit_zero_filled_slots") {
                    guard let slash = entry.lastIndex(of: "/") else { continue }
                    let parameter = String(entry[..<slash]), slot = String(entry[entry.index(after: slash)...])
                    if let t = slots[parameter]?[slot], t.doubles().allSatisfy({ $0 == 0 }) {
                        slots[parameter]![slot] = nil
                        if slots[parameter]!.isEmpty { slots[parameter] = nil }
                    }
                }
            }
            guard iteration >= 0 else { throw ModelError.invalidValue(field: "optimizer iteration", message: "\(iteration) is negative") }
            optimizer = OptimizerState(config: try KerasConfig.optimizer(optimizerJSON, learningRate: learningRate), iteration: iteration, slots: slots)
        } else if let optimizerJSON {
            optimizer = OptimizerState(config: try KerasConfig.optimizer(optimizerJSON, learningRate: nil))
        }

        var training: TrainingState? = nil
        var metadata: Metadata = [:]
        if try root.hasAttribute("modelkit_training_json") {
            training = try HeaderSchema.training(try KerasConfig.parse(try KerasH5.text(root, "modelkit_training_json"), source: "modelkit_training_json"))
        } else if let loss {
            training = TrainingState(loss: loss, step: optimizer?.iteration ?? 0, batchSize: 32)
        }
        if try root.hasAttribute("modelkit_metadata_json") {
            metadata = try HeaderSchema.metadata(try KerasConfig.parse(try KerasH5.text(root, "modelkit_metadata_json"), source: "modelkit_metadata_json"))
        } else if try root.hasAttribute("keras_version") {
            metadata["keras_version"] = .string(try KerasH5.text(root, "keras_version"))
        }
        let model = Model(architecture: nil, graph: graph, weights: weights, optimizer: optimizer, training: training, metadata: metadata)
        try model.validate()
        return model
    }

    /// An optimizer slot variable: Keras 3 `adam/<flattened weight path>_<slot>` (`_velocity_hat` before
    /// `_velocity`), or tf.keras 2 `Adam/<weight path>/<m|v|vhat|momentum|rms|mg>:0`. Returns (tensor name, slot).
    static func slot(_ variable: String, byFlatPath: [String: String], byPath: [String: String], modelName: String) -> (String, String)? {
        guard let slash = variable.firstIndex(of: "/") else { return nil }
        var rest = String(variable[variable.index(after: slash)...])
        if rest.hasSuffix(":0") { rest.removeLast(2) }
        if rest.contains("/") {
            let names = ["m": "momentum", "v": "velocity", "vhat": "velocity_hat", "momentum": "momentum", "rms": "velocity", "mg": "average_gradient"]
            guard let last = rest.split(separator: "/").last, let slot = names[String(last)] else { return nil }
            let path = String(rest.dropLast(last.count + 1))
            return byPath[path].map { ($0, slot) }
        }
        for slot in ["velocity_hat", "average_gradient", "momentum", "velocity"] where rest.hasSuffix("_" + slot) {
            let flat = String(rest.dropLast(slot.count + 1))
            if let name = byFlatPath[flat] { return (name, slot) }
            if flat.hasPrefix(modelName + "_"), let name = byFlatPath[String(flat.dropFirst(modelName.count + 1))] { return (name, slot) }
            return nil
        }
        return nil
    }

    // MARK: .keras

    static func readZip(root: H5Group, configJSON: JSONValue, loss: Loss?, optimizerJSON: JSONValue?, metadata: Metadata,
                        options: ReadOptions) throws -> Model {
        let modelConfig = legacyForm(configJSON)
        let (_, _, entries) = try self.entries(modelConfig, source: "config.json")
        let known = Set(entries.map(\.name))
        let layersGroup = try root.group("layers")
        var groupByLayer: [String: H5Group] = [:]
        for member in try layersGroup.members() {
            let group = try layersGroup.group(member)
            var name = member
            if try group.has("vars"), try group.group("vars").hasAttribute("name"), case .string(let n) = try group.group("vars").attribute("name") { name = n }
            guard groupByLayer[name] == nil else { throw ModelError.duplicateName("layers/\(member) (layer '\(name)' stored twice)") }
            groupByLayer[name] = group
            if !known.contains(name) {
                var found: [(path: String, group: H5Group, link: String)] = []
                try collectVariables(group, prefix: "", into: &found, depth: 0)
                guard found.isEmpty else { throw ModelError.unexpectedTensor("layers/\(member) (weights of '\(name)', which config.json does not have)") }
            }
        }
        var weights: [String: Tensor] = [:]
        var tensors: [String: [String]] = [:]
        var specs: [ParameterSpec] = []
        for entry in entries {
            guard let group = groupByLayer[entry.name] else { continue }
            var found: [(path: String, group: H5Group, link: String)] = []
            try collectVariables(group, prefix: "", into: &found, depth: 0)
            guard !found.isEmpty else { continue }
            let shortNames = positionalNames(className: entry.className, config: entry.config, count: found.count) ?? found.map(\.path)
            var names: [String] = []
            for (variable, short) in zip(found, shortNames) {
                let name = "\(entry.name)/\(short)"
                let tensor = try readTensor(variable.group, variable.link, name: name)
                try checkKernel(entry, name: name, tensor: tensor)
                weights[name] = tensor
                names.append(name)
                specs.append(ParameterSpec(layer: entry.name, shortName: short, shape: tensor.shape,
                                           trainable: isTrainable(weight: short, layerConfig: entry.config)))
            }
            tensors[entry.name] = names
        }
        let graph = LayerGraph(origin: "keras", config: modelConfig, layers: entries.map {
            LayerRecord(name: $0.name, type: $0.className, config: $0.config, inbound: $0.inbound, tensors: tensors[$0.name] ?? [])
        })
        var optimizer: OptimizerState? = nil
        if try root.has("optimizer/vars") {
            optimizer = try KerasZip.readOptimizer(try root.group("optimizer/vars"), trainable: specs.filter(\.trainable),
                                                   configured: optimizerJSON, options: options)
        }
        let training = loss.map { TrainingState(loss: $0, step: optimizer?.iteration ?? 0, batchSize: 32) }
        let model = Model(architecture: nil, graph: graph, weights: weights, optimizer: optimizer, training: training, metadata: metadata)
        try model.validate()
        return model
    }

    /// A layer's variables in Keras's order: its own `vars/0..n-1`, then those of its sub-layers' groups (an RNN's
    /// `cell`), in name order.
    static func collectVariables(_ group: H5Group, prefix: String, into out: inout [(path: String, group: H5Group, link: String)], depth: Int) throws {
        guard depth <= maxNesting else { throw ModelError.unsupported("\(group.path): layer groups nested more than \(maxNesting) deep") }
        let members = try group.members()
        if members.contains("vars") {
            let vars = try group.group("vars")
            let count = try vars.members().count
            for i in 0..<count { out.append(("\(prefix)vars/\(i)", vars, "\(i)")) }
        }
        for member in members where member != "vars" {
            guard let child = try? group.group(member) else { continue }
            try collectVariables(child, prefix: "\(prefix)\(member)/", into: &out, depth: depth + 1)
        }
    }

    // MARK: Writing legacy .h5

    /// Keras 3's order of an optimizer's slot variables (after iteration and learning rate), as `KerasH5` writes
    /// them: Adam momentum and velocity per parameter, then every velocity_hat; SGD momentum per parameter; RMSprop
    /// every velocity, then every momentum, then every average_gradient. Slots never created are written as zeros.
    static func slotOrder(_ config: OptimizerConfig, _ specs: [ParameterSpec]) -> [(ParameterSpec, String)] {
        switch config {
        case .adam(let c):
            return specs.flatMap { [($0, "momentum"), ($0, "velocity")] } + (c.amsgrad ? specs.map { ($0, "velocity_hat") } : [])
        case .sgd(let c):
            return c.momentum != 0 ? specs.map { ($0, "momentum") } : []
        case .rmsprop(let c):
            return specs.map { ($0, "velocity") } + (c.momentum != 0 ? specs.map { ($0, "momentum") } : [])
                + (c.centered ? specs.map { ($0, "average_gradient") } : [])
        }
    }

    /// Keras legacy `.h5` for a model whose graph came from Keras: the stored model config verbatim, the weights
    /// under `model_weights/<layer>/<model name>/<layer>/<weight>` (Sequential) or `<layer>/<layer>/<weight>`
    /// (Functional), and the optimizer as `KerasH5.write` writes it, in the order of the trainable weights.
    static func writeH5(_ model: Model, graph: LayerGraph, path: String, options: WriteOptions) throws {
        try model.validate()
        var model = model
        try KerasH5.convertBFloat16(&model, options: options)
        var modelName = "model"
        if case .string(let n)? = graph.config["config"]?["name"] { modelName = n }
        let sequential = graph.config["class_name"] == .string("Sequential")
        // Keras 3 keeps a recurrent layer's weights in its cell (`sequential/lstm/lstm_cell/kernel`); the path only
        // names the datasets (Keras loads them by position), but Keras's own names make the file read like its own.
        let cells = ["LSTM": "lstm_cell", "GRU": "gru_cell", "SimpleRNN": "simple_rnn_cell"]
        let cellOf = Dictionary(graph.layers.compactMap { layer in cells[layer.type].map { (layer.name, $0) } }, uniquingKeysWith: { a, _ in a })
        func kerasPath(_ spec: ParameterSpec) -> String {
            let inLayer = cellOf[spec.layer].map { "\(spec.layer)/\($0)/\(spec.shortName)" } ?? spec.fullName
            return sequential ? "\(modelName)/\(inLayer)" : inLayer
        }
        let specs = parameterSpecs(model, graph)
        let trainingConfig = try model.optimizer.map { try KerasH5.trainingConfig($0, loss: model.training?.loss, options: options) }

        try HDF5.writeAtomically(path: path) { temporary in
            try HDF5.locked {
                let file = try H5File.create(path: temporary)
                let root = try file.root()
                try root.setAttribute("backend", .string("jax"))
                try root.setAttribute("keras_version", .string(KerasH5.kerasFormatVersion))
                try root.setAttribute("model_config", .string(graph.config.text))
                if let trainingConfig { try root.setAttribute("training_config", .string(trainingConfig.text)) }
                if let training = model.training { try root.setAttribute("modelkit_training_json", .string(HeaderSchema.json(training).text)) }
                try root.setAttribute("modelkit_metadata_json", .string(HeaderSchema.json(model.metadata).text))

                let weightsGroup = try root.createGroup("model_weights")
                try weightsGroup.setAttribute("backend", .string("jax"))
                try weightsGroup.setAttribute("keras_version", .string(KerasH5.kerasFormatVersion))
                // Keras's Sequential lists its layers without the InputLayer; a Functional model lists them all.
                let layers = graph.layers.filter { !(sequential && $0.type == "InputLayer") }
                try weightsGroup.setAttribute("layer_names", .strings(layers.map(\.name)))
                for layer in layers.sorted(by: { $0.name < $1.name }) {
                    let group = try weightsGroup.createGroup(layer.name)
                    let layerSpecs = specs.filter { $0.layer == layer.name }
                    try group.setAttribute("weight_names", .strings(layerSpecs.map(kerasPath)))
                    var created: [String: H5Group] = ["": group]
                    for spec in layerSpecs {
                        let parts = kerasPath(spec).split(separator: "/").map(String.init)
                        var at = group, key = ""
                        for part in parts.dropLast() {
                            key += "/" + part
                            if let g = created[key] { at = g } else { at = try at.createGroup(part); created[key] = at }
                        }
                        try at.createDataset(parts.last!, tensor: model.weights[spec.fullName]!, compress: options.compress)
                    }
                }
                try weightsGroup.createGroup("top_level_model_weights").setAttribute("weight_names", .strings([]))

                if let optimizer = model.optimizer {
                    let group = try root.createGroup("optimizer_weights")
                    let prefix = optimizer.config.kindName
                    let trainable = specs.filter(\.trainable)
                    // Named as Keras 3 names them: the flattened weight path, then the slot.
                    // Keras's variable order, named from each weight's Keras path (`sequential_lstm_lstm_cell_kernel_momentum`).
                    let flatPath = Dictionary(trainable.map { ($0.fullName, kerasPath($0).replacingOccurrences(of: "/", with: "_")) },
                                              uniquingKeysWith: { a, _ in a })
                    let variables = slotOrder(optimizer.config, trainable).map { spec, slot in
                        (name: "\(flatPath[spec.fullName]!)_\(slot)",
                         tensor: optimizer.slots[spec.fullName]?[slot] ?? Tensor.zeros(dtype: model.weights[spec.fullName]!.dtype, shape: spec.shape))
                    }
                    let absent = trainable.flatMap { spec in
                        optimizer.config.slotNames.filter { optimizer.slots[spec.fullName]?[$0] == nil }.map { "\(spec.fullName)/\($0)" }
                    }
                    if !absent.isEmpty { try root.setAttribute("modelkit_zero_filled_slots", .strings(absent)) }
                    try group.setAttribute("weight_names", .strings(["\(prefix)/iteration", "\(prefix)/learning_rate"] + variables.map { "\(prefix)/\($0.name)" }))
                    let inner = try group.createGroup(prefix)
                    try inner.createDataset("iteration", tensor: try Tensor(dtype: .i64, shape: [], bytes: withUnsafeBytes(of: optimizer.iteration.littleEndian) { Array($0) }), compress: false)
                    try inner.createDataset("learning_rate", tensor: Tensor([optimizer.config.learningRate], shape: []), compress: false)
                    for variable in variables { try inner.createDataset(variable.name, tensor: variable.tensor, compress: options.compress) }
                }
                try file.close()
            }
        }
    }
}
