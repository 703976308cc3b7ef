import ModelFormat

/// Reading Keras's JSON: the model config (Sequential, or a Functional model that is a plain chain), the loss and
/// the optimizer, as Keras 3 and tf.keras 2.x write them. Shared by `KerasH5` (legacy `.h5`) and `KerasZip` (`.keras`).
/// Anything ModelKit cannot reproduce exactly (a layer, activation, regularizer or optimizer option it does not
/// have) is refused with a message naming the layer or setting, never approximated.
enum KerasConfig {
    /// What the model config gives: the architecture, the model's name (Keras 3 prefixes Sequential weight paths
    /// with it), and each of our layers' Keras class name.
    struct Parsed {
        var architecture: Architecture
        var modelName: String
        var isSequential: Bool
        var kerasClasses: [String]
    }

    static func parse(_ text: String, source: String) throws -> JSONValue {
        do { return try JSONParser.parse(Array(text.utf8)) } catch {
            throw ModelError.parse(source: source, line: error.line, column: error.column, message: error.message)
        }
    }

    static func model(_ json: JSONValue, source: String) throws -> Parsed {
        let top = HeaderSchema.Reader(value: json, path: source)
        let className = try top.string("class_name")
        let config = HeaderSchema.Reader(value: try top.value("config"), path: "\(source).config")
        let modelName = (try? config.string("name")) ?? "model"
        let layerValues = try config.array("layers")
        var entries: [(className: String, config: JSONValue, name: String, path: String)] = []
        for (i, value) in layerValues.enumerated() {
            let r = HeaderSchema.Reader(value: value, path: "\(source).config.layers[\(i)]")
            let layerClass = try r.string("class_name")
            let layerConfig = try r.value("config")
            let name = (try? HeaderSchema.Reader(value: layerConfig, path: r.path).string("name")) ?? (try? r.string("name")) ?? "layer_\(i)"
            entries.append((layerClass, layerConfig, name, r.path))
        }

        switch className {
        case "Sequential":
            break
        case "Functional", "Model":
            try checkPlainChain(config: config, layers: layerValues, names: entries.map(\.name))
        default:
            throw ModelError.unsupported("Keras model class '\(className)' (only Sequential and Functional plain chains)")
        }

        var inputShape: [Int]? = nil
        var layers: [Layer] = []
        var classes: [String] = []
        for entry in entries {
            let r = HeaderSchema.Reader(value: entry.config, path: "\(entry.path).config")
            if entry.className == "InputLayer" {
                inputShape = try shape(r, keys: ["batch_shape", "batch_input_shape"], dropBatch: true, layer: entry.name)
                    ?? shape(r, keys: ["shape", "input_shape"], dropBatch: false, layer: entry.name)
                continue
            }
            if inputShape == nil, layers.isEmpty {
                inputShape = try shape(r, keys: ["batch_input_shape", "batch_shape"], dropBatch: true, layer: entry.name)
            }
            let kind = try layerKind(entry.className, r, name: entry.name, inputRank: (inputShape?.count ?? 1) + 1)
            guard !entry.name.isEmpty, !entry.name.contains("/") else {
                throw ModelError.unsupported("Keras layer name '\(entry.name)' (names must be non-empty without '/')")
            }
            layers.append(Layer(name: entry.name, kind: kind))
            classes.append(entry.className)
        }
        if inputShape == nil {
            inputShape = try shape(config, keys: ["build_input_shape"], dropBatch: true, layer: modelName)
        }
        if inputShape == nil, let build = top.optional("build_config") {
            inputShape = try shape(HeaderSchema.Reader(value: build, path: "\(source).build_config"), keys: ["input_shape"], dropBatch: true, layer: modelName)
        }
        guard let inputShape, !inputShape.isEmpty else {
            throw ModelError.invalidHeader(offset: 0, message: "\(source): the Keras model declares no input shape (no InputLayer, batch_shape or build_input_shape)")
        }
        let architecture = Architecture(inputShape: inputShape, layers: layers)
        // Round-trip through the schema so the same range checks apply as for every other format.
        return Parsed(architecture: try HeaderSchema.architecture(HeaderSchema.json(architecture)), modelName: modelName,
                      isSequential: className == "Sequential", kerasClasses: classes)
    }

    /// `[null, 4]` → `[4]`; refuses unknown (null) sample dimensions.
    static func shape(_ r: HeaderSchema.Reader, keys: [String], dropBatch: Bool, layer: String) throws -> [Int]? {
        for key in keys {
            guard let value = r.optional(key) else { continue }
            guard case .array(var items) = value else { throw ModelError.invalidHeader(offset: 0, message: "\(r.path).\(key) must be a list") }
            if dropBatch { guard !items.isEmpty else { continue }; items.removeFirst() }
            return try items.map { item -> Int in
                guard case .integer(let d) = item, d > 0, d <= 1 << 31 else {
                    throw ModelError.unsupported("input shape \(value.text) of '\(layer)' (every dimension but the batch must be a positive number)")
                }
                return Int(d)
            }
        }
        return nil
    }

    /// A Functional model is accepted when each layer after the input takes exactly one tensor, from the layer
    /// just before it in the list, and the last layer is the only output.
    static func checkPlainChain(config: HeaderSchema.Reader, layers: [JSONValue], names: [String]) throws {
        for (i, layer) in layers.enumerated() {
            let sources = inboundLayerNames(layer["inbound_nodes"] ?? .array([]))
            if i == 0 {
                guard sources.isEmpty, case .string("InputLayer") = layer["class_name"] ?? .null else {
                    throw ModelError.unsupported("functional model whose first layer '\(names[0])' is not its only input (only plain chains)")
                }
                continue
            }
            guard sources == [names[i - 1]] else {
                throw ModelError.unsupported("layer '\(names[i])' takes its input from \(sources) rather than from '\(names[i - 1])' alone: only functional models that are a plain chain are supported")
            }
        }
        if let outputs = config.optional("output_layers") {
            let outputNames = inboundLayerNames(outputs)
            guard outputNames == [names.last ?? ""] else {
                throw ModelError.unsupported("functional model with outputs \(outputNames) (only a plain chain ending in '\(names.last ?? "")')")
            }
        }
    }

    /// Layer names a node list refers to, in order: Keras 3 `{"keras_history": [name, 0, 0]}`, tf.keras 2
    /// `[[name, 0, 0, {}]]`, and `output_layers` `[[name, 0, 0]]` / `[name, 0, 0]`.
    static func inboundLayerNames(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let members):
            if let history = value["keras_history"], case .array(let h) = history, case .string(let name)? = h.first { return [name] }
            return members.flatMap { inboundLayerNames($0.1) }
        case .array(let items):
            if items.count >= 3, case .string(let name) = items[0], case .integer = items[1] { return [name] }
            return items.flatMap(inboundLayerNames)
        default:
            return []
        }
    }

    static func layerKind(_ className: String, _ r: HeaderSchema.Reader, name: String, inputRank: Int) throws -> LayerKind {
        func refuseIfSet(_ keys: [String]) throws {
            for key in keys where r.optional(key) != nil {
                if case .bool(false) = r.optional(key)! { continue }
                throw ModelError.unsupported("layer '\(name)' (\(className)) sets \(key), which ModelKit does not have")
            }
        }
        func lastAxis(_ key: String) throws {
            guard let axis = r.optional(key) else { return }
            var values: [Int64] = []
            switch axis {
            case .integer(let a): values = [a]
            case .array(let items): values = items.compactMap { if case .integer(let a) = $0 { return a }; return nil }
            default: break
            }
            guard values.count == 1, values[0] == -1 || values[0] == Int64(inputRank - 1) else {
                throw ModelError.unsupported("layer '\(name)' (\(className)) normalises over axis \(axis.text) (only the last axis)")
            }
        }
        // A mixed policy computes in float16/bfloat16 with float32 weights; ModelKit computes in the weights' dtype,
        // so its results would differ from Keras's by far more than rounding.
        var policy = ""
        switch r.optional("dtype") {
        case .string(let name)?: policy = name
        case .object?: if case .string(let name)? = r.optional("dtype")?["config"]?["name"] { policy = name }
        default: break
        }
        if policy.hasPrefix("mixed_") { throw ModelError.unsupported("layer '\(name)' uses the mixed-precision policy '\(policy)'") }
        switch className {
        case "Dense":
            try refuseIfSet(["kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint", "lora_rank"])
            let units = try r.int("units")
            return .dense(DenseConfig(units: units, activation: try activation(r.optional("activation") ?? .string("linear"), layer: name),
                                      useBias: try r.bool("use_bias", default: true)))
        case "Activation":
            return .activation(try activation(try r.value("activation"), layer: name))
        case "Dropout":
            try refuseIfSet(["noise_shape"])
            return .dropout(rate: try r.double("rate"))
        case "BatchNormalization":
            try refuseIfSet(["beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint", "renorm", "virtual_batch_size", "adjustment"])
            try lastAxis("axis")
            return .batchNormalization(BatchNormalizationConfig(axis: -1, momentum: try r.double("momentum", default: 0.99),
                                                                epsilon: try r.double("epsilon", default: 0.001),
                                                                center: try r.bool("center", default: true), scale: try r.bool("scale", default: true)))
        case "LayerNormalization":
            try refuseIfSet(["beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint", "rms_scaling"])
            try lastAxis("axis")
            return .layerNormalization(LayerNormalizationConfig(epsilon: try r.double("epsilon", default: 0.001),
                                                                center: try r.bool("center", default: true), scale: try r.bool("scale", default: true)))
        case "LeakyReLU":
            let slope = try r.double("negative_slope", default: try r.double("alpha", default: 0.3))
            return .activation(.leakyRelu(negativeSlope: slope))
        case "ELU":
            return .activation(.elu(alpha: try r.double("alpha", default: 1.0)))
        case "ReLU":
            let slope = try r.double("negative_slope", default: 0), threshold = try r.double("threshold", default: 0)
            let plain = r.optional("max_value") == nil && slope == 0 && threshold == 0
            guard plain else { throw ModelError.unsupported("layer '\(name)' (ReLU with max_value, negative_slope or threshold)") }
            return .activation(.relu)
        case "Softmax":
            try lastAxis("axis")
            return .activation(.softmax)
        default:
            throw ModelError.unsupported("layer '\(name)' of Keras class '\(className)'")
        }
    }

    /// `"relu"`, or Keras 3's serialized function `{"class_name": "function", "config": "relu", ...}`.
    static func activation(_ value: JSONValue, layer: String) throws -> Activation {
        var name: String? = nil
        switch value {
        case .string(let s): name = s
        case .object:
            if case .string(let s)? = value["config"] { name = s }
            else if case .object? = value["config"], case .string(let s)? = value["class_name"] { name = s.lowercased() }
        case .null: name = "linear"
        default: break
        }
        guard let name, let activation = Activation(name: name == "gelu" ? "gelu" : name) else {
            throw ModelError.unsupported("activation \(value.text) of layer '\(layer)'")
        }
        return activation
    }

    // MARK: Loss and optimizer

    static func loss(_ value: JSONValue) throws -> Loss {
        switch value {
        case .string(let name):
            guard let kind = LossKind(name: name) else { throw ModelError.unsupported("Keras loss '\(name)'") }
            return Loss(kind: kind)
        case .object:
            let r = HeaderSchema.Reader(value: value, path: "loss")
            let className = try r.string("class_name")
            let kinds: [String: LossKind] = [
                "MeanSquaredError": .mse, "MeanAbsoluteError": .mae, "BinaryCrossentropy": .binaryCrossentropy,
                "CategoricalCrossentropy": .categoricalCrossentropy, "SparseCategoricalCrossentropy": .sparseCategoricalCrossentropy,
            ]
            guard let kind = kinds[className] ?? LossKind(name: className) else { throw ModelError.unsupported("Keras loss '\(className)'") }
            let config = HeaderSchema.Reader(value: r.optional("config") ?? .object([]), path: "loss.config")
            if let smoothing = config.optional("label_smoothing"), (try HeaderSchema.float(smoothing, path: "loss.config.label_smoothing")) != 0 {
                throw ModelError.unsupported("Keras loss '\(className)' with label_smoothing")
            }
            if let reduction = config.optional("reduction"), case .string(let red) = reduction,
               !["sum_over_batch_size", "auto", "mean"].contains(red) {
                throw ModelError.unsupported("Keras loss reduction '\(red)'")
            }
            return Loss(kind: kind, fromLogits: try config.bool("from_logits", default: false))
        default:
            throw ModelError.unsupported("Keras loss \(value.text) (only one loss for one output)")
        }
    }

    /// Which optimizer class a config or a default variable name means.
    enum OptimizerKind: String { case adam, sgd, rmsprop }

    static func optimizerKind(className: String) throws -> OptimizerKind {
        switch className.lowercased() {
        case "adam": return .adam
        case "sgd": return .sgd
        case "rmsprop": return .rmsprop
        default: throw ModelError.unsupported("Keras optimizer '\(className)' (Adam, SGD and RMSprop are supported)")
        }
    }

    /// Hyperparameters from `{"class_name": "Adam", "config": {...}}` (or `"adam"`, Keras's defaults).
    /// `learningRate` is the stored float32 value when the file has one (it overrides the config's).
    static func optimizer(_ value: JSONValue, learningRate stored: Double?) throws -> OptimizerConfig {
        if case .string(let name) = value { return try defaults(optimizerKind(className: name), learningRate: stored) }
        let r = HeaderSchema.Reader(value: value, path: "optimizer")
        let kind = try optimizerKind(className: try r.string("class_name"))
        let c = HeaderSchema.Reader(value: try r.value("config"), path: "optimizer.config")
        for key in ["weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "loss_scale_factor", "gradient_accumulation_steps"] {
            if let v = c.optional(key), v != .integer(0), v != .number(0) {
                throw ModelError.unsupported("Keras optimizer setting \(key) = \(v.text)")
            }
        }
        if case .bool(true)? = c.optional("use_ema") { throw ModelError.unsupported("Keras optimizer setting use_ema = true") }
        if let decay = c.optional("decay"), (try HeaderSchema.float(decay, path: "optimizer.config.decay")) != 0 {
            throw ModelError.unsupported("Keras optimizer setting decay = \(decay.text)")
        }
        let configured: Double
        switch c.optional("learning_rate") ?? c.optional("lr") {
        case .some(.number(let lr)): configured = lr
        case .some(.integer(let lr)): configured = Double(lr)
        case .some(let other): throw ModelError.unsupported("Keras learning rate \(other.text) (schedules are not supported)")
        case .none: configured = defaults(kind).learningRate
        }
        let lr = stored ?? configured
        switch kind {
        case .adam:
            return .adam(AdamConfig(learningRate: lr, beta1: try c.double("beta_1", default: 0.9), beta2: try c.double("beta_2", default: 0.999),
                                    epsilon: try c.double("epsilon", default: 1e-7), amsgrad: try c.bool("amsgrad", default: false), formulation: .keras))
        case .sgd:
            return .sgd(SGDConfig(learningRate: lr, momentum: try c.double("momentum", default: 0), nesterov: try c.bool("nesterov", default: false),
                                  formulation: .keras))
        case .rmsprop:
            return .rmsprop(RMSpropConfig(learningRate: lr, rho: try c.double("rho", default: 0.9), momentum: try c.double("momentum", default: 0),
                                          epsilon: try c.double("epsilon", default: 1e-7), centered: try c.bool("centered", default: false)))
        }
    }

    /// Keras 3's defaults for each optimizer.
    static func defaults(_ kind: OptimizerKind, learningRate: Double? = nil) -> OptimizerConfig {
        switch kind {
        case .adam: return .adam(AdamConfig(learningRate: learningRate ?? 0.001, formulation: .keras))
        case .sgd: return .sgd(SGDConfig(learningRate: learningRate ?? 0.01, formulation: .keras))
        case .rmsprop: return .rmsprop(RMSpropConfig(learningRate: learningRate ?? 0.001))
        }
    }

    /// Keras's optimizer variable name for one slot of one parameter: Keras 3 `adam/sequential_dense_kernel_momentum`
    /// (strip the prefix up to the first `/`; the path may carry the model's name) or tf.keras 2
    /// `Adam/dense/kernel/m:0`. Returns (parameter full name, our slot name), or nil for names that are not slots.
    static func slot(_ variable: String, parameters: [ParameterSpec], modelName: String) -> (String, String)? {
        guard let slash = variable.firstIndex(of: "/") else { return nil }
        var rest = String(variable[variable.index(after: slash)...])
        if rest.hasSuffix(":0") { rest.removeLast(2) }
        if rest.contains("/") {
            // tf.keras 2: <param path>/<slot>
            let parts = rest.split(separator: "/").map(String.init)
            let slotNames = ["m": "momentum", "v": "velocity", "vhat": "velocity_hat", "momentum": "momentum", "rms": "velocity", "mg": "average_gradient"]
            guard parts.count >= 3, let slot = slotNames[parts.last!] else { return nil }
            let path = parts.dropLast()
            // The parameter is the last two components (<layer>/<param>); a model prefix may come before.
            let fullName = path.suffix(2).joined(separator: "/")
            return parameters.contains { $0.fullName == fullName } ? (fullName, slot) : nil
        }
        // Keras 3: match _velocity_hat before _velocity.
        for slot in ["velocity_hat", "average_gradient", "momentum", "velocity"] where rest.hasSuffix("_" + slot) {
            let path = String(rest.dropLast(slot.count + 1))
            for p in parameters {
                let flat = p.fullName.replacingOccurrences(of: "/", with: "_")
                if path == flat || path == "\(modelName)_\(flat)" { return (p.fullName, slot) }
            }
            return nil
        }
        return nil
    }
}
