/// The JSON form of everything in a model except tensor data: architecture, optimizer hyperparameters and
/// iteration, training state and metadata. Every format that stores these as JSON (`.mkf` header, HDF5
/// `architecture_json`, safetensors `__metadata__`, `.npz` `__modelkit__`, JSON and CSV dumps) goes through here.
/// The schema is written down in spec/binary-format.md ("Header JSON").
public enum HeaderSchema {
    // MARK: Architecture

    public static func json(_ a: Architecture) -> JSONValue {
        .object([
            ("input_shape", .array(a.inputShape.map { .integer(Int64($0)) })),
            ("layers", .array(a.layers.map(json))),
        ])
    }

    public static func json(_ layer: Layer) -> JSONValue {
        var m: [(String, JSONValue)] = [("name", .string(layer.name)), ("type", .string(layer.kind.typeName))]
        switch layer.kind {
        case .dense(let c):
            m += [("units", .integer(Int64(c.units))), ("activation", json(c.activation)), ("use_bias", .bool(c.useBias))]
        case .activation(let act):
            m += [("activation", json(act))]
        case .dropout(let rate):
            m += [("rate", .number(rate))]
        case .batchNormalization(let c):
            m += [("axis", .integer(Int64(c.axis))), ("momentum", .number(c.momentum)), ("epsilon", .number(c.epsilon)),
                  ("center", .bool(c.center)), ("scale", .bool(c.scale))]
        case .layerNormalization(let c):
            m += [("epsilon", .number(c.epsilon)), ("center", .bool(c.center)), ("scale", .bool(c.scale))]
        }
        return .object(m)
    }

    /// An activation as a bare name, or an object when it has parameters (`{"name":"elu","alpha":1.0}`).
    public static func json(_ a: Activation) -> JSONValue {
        switch a {
        case .leakyRelu(let s): return .object([("name", .string("leaky_relu")), ("negative_slope", .number(s))])
        case .elu(let alpha): return .object([("name", .string("elu")), ("alpha", .number(alpha))])
        case .gelu(let approximate): return .object([("name", .string("gelu")), ("approximate", .bool(approximate))])
        default: return .string(a.name)
        }
    }

    public static func architecture(_ v: JSONValue) throws(ModelError) -> Architecture {
        let r = Reader(value: v, path: "architecture")
        let inputShape = try r.intArray("input_shape")
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 && $0 <= 1 << 31 }) else {
            throw ModelError.invalidValue(field: "architecture.input_shape", message: "dimensions must be positive, got \(inputShape)")
        }
        let layerValues = try r.array("layers")
        var layers: [Layer] = []
        var names = Set<String>()
        for (i, lv) in layerValues.enumerated() {
            let layer = try self.layer(lv, path: "architecture.layers[\(i)]")
            guard names.insert(layer.name).inserted else { throw ModelError.duplicateName(layer.name) }
            layers.append(layer)
        }
        return Architecture(inputShape: inputShape, layers: layers)
    }

    public static func layer(_ v: JSONValue, path: String) throws(ModelError) -> Layer {
        let r = Reader(value: v, path: path)
        let name = try r.string("name")
        guard !name.isEmpty, !name.contains("/") else {
            throw ModelError.invalidValue(field: "\(path).name", message: "layer names must be non-empty and contain no '/': '\(name)'")
        }
        let type = try r.string("type")
        let kind: LayerKind
        switch type {
        case "dense":
            let units = try r.int("units")
            guard units > 0, units <= 1 << 31 else { throw ModelError.invalidValue(field: "\(path).units", message: "must be positive, got \(units)") }
            kind = .dense(DenseConfig(units: units, activation: try activation(r.value("activation"), path: "\(path).activation"),
                                      useBias: try r.bool("use_bias", default: true)))
        case "activation":
            kind = .activation(try activation(r.value("activation"), path: "\(path).activation"))
        case "dropout":
            let rate = try r.double("rate")
            guard rate >= 0, rate < 1 else { throw ModelError.invalidValue(field: "\(path).rate", message: "must be in [0, 1), got \(rate)") }
            kind = .dropout(rate: rate)
        case "batch_normalization":
            let c = BatchNormalizationConfig(axis: try r.int("axis", default: -1), momentum: try r.double("momentum", default: 0.99),
                                             epsilon: try r.double("epsilon", default: 0.001), center: try r.bool("center", default: true),
                                             scale: try r.bool("scale", default: true))
            guard c.momentum >= 0, c.momentum <= 1 else { throw ModelError.invalidValue(field: "\(path).momentum", message: "must be in [0, 1], got \(c.momentum)") }
            guard c.epsilon > 0 else { throw ModelError.invalidValue(field: "\(path).epsilon", message: "must be positive, got \(c.epsilon)") }
            guard c.axis == -1 else { throw ModelError.unsupported("\(path): batch normalization over axis \(c.axis) (only the last axis, -1)") }
            kind = .batchNormalization(c)
        case "layer_normalization":
            let c = LayerNormalizationConfig(epsilon: try r.double("epsilon", default: 0.001), center: try r.bool("center", default: true),
                                             scale: try r.bool("scale", default: true))
            guard c.epsilon > 0 else { throw ModelError.invalidValue(field: "\(path).epsilon", message: "must be positive, got \(c.epsilon)") }
            kind = .layerNormalization(c)
        default:
            throw ModelError.unsupported("layer type '\(type)' at \(path) (layer '\(name)')")
        }
        return Layer(name: name, kind: kind)
    }

    /// A listed name (the empty string, which `Activation(name:)` takes for linear on the command line, is not one),
    /// or an object naming one with finite parameters; absent parameters take the spec's defaults.
    public static func activation(_ v: JSONValue, path: String) throws(ModelError) -> Activation {
        func named(_ name: String) throws(ModelError) -> Activation {
            guard !name.isEmpty, let a = Activation(name: name) else { throw ModelError.unsupported("activation '\(name)' at \(path)") }
            return a
        }
        if case .string(let name) = v { return try named(name) }
        let r = Reader(value: v, path: path)
        func finite(_ key: String, default d: Double) throws(ModelError) -> Double {
            let x = try r.double(key, default: d)
            guard x.isFinite else { throw ModelError.invalidValue(field: "\(path).\(key)", message: "must be finite, got \(x)") }
            return x
        }
        let name = try r.string("name")
        switch name {
        case "leaky_relu": return .leakyRelu(negativeSlope: try finite("negative_slope", default: 0.2))
        case "elu": return .elu(alpha: try finite("alpha", default: 1.0))
        case "gelu": return .gelu(approximate: try r.bool("approximate", default: false))
        default: return try named(name)
        }
    }

    // MARK: Optimizer

    /// Hyperparameters and iteration; slot tensors are stored separately by each format.
    public static func json(_ o: OptimizerState) -> JSONValue {
        var m: [(String, JSONValue)] = [("type", .string(o.config.kindName)), ("iteration", .integer(o.iteration))]
        switch o.config {
        case .sgd(let c):
            m += [("learning_rate", .number(c.learningRate)), ("momentum", .number(c.momentum)), ("nesterov", .bool(c.nesterov)),
                  ("formulation", .string(c.formulation.rawValue))]
        case .adam(let c):
            m += [("learning_rate", .number(c.learningRate)), ("beta1", .number(c.beta1)), ("beta2", .number(c.beta2)),
                  ("epsilon", .number(c.epsilon)), ("amsgrad", .bool(c.amsgrad)), ("formulation", .string(c.formulation.rawValue))]
        case .rmsprop(let c):
            m += [("learning_rate", .number(c.learningRate)), ("rho", .number(c.rho)), ("momentum", .number(c.momentum)),
                  ("epsilon", .number(c.epsilon)), ("centered", .bool(c.centered))]
        }
        return .object(m)
    }

    /// Reads hyperparameters and iteration (slots empty) and checks every value is in range.
    public static func optimizer(_ v: JSONValue) throws(ModelError) -> OptimizerState {
        let r = Reader(value: v, path: "optimizer")
        let type = try r.string("type")
        let iteration = Int64(try r.int("iteration", default: 0))
        guard iteration >= 0 else { throw ModelError.invalidValue(field: "optimizer.iteration", message: "must be ≥ 0, got \(iteration)") }
        func formulation() throws(ModelError) -> Formulation {
            let name = try r.string("formulation", default: "keras")
            guard let f = Formulation(rawValue: name) else { throw ModelError.invalidValue(field: "optimizer.formulation", message: "unknown '\(name)' (keras or pytorch)") }
            return f
        }
        let config: OptimizerConfig
        switch type {
        case "sgd":
            config = .sgd(SGDConfig(learningRate: try r.double("learning_rate"), momentum: try r.double("momentum", default: 0),
                                    nesterov: try r.bool("nesterov", default: false), formulation: try formulation()))
        case "adam":
            config = .adam(AdamConfig(learningRate: try r.double("learning_rate"), beta1: try r.double("beta1", default: 0.9),
                                      beta2: try r.double("beta2", default: 0.999), epsilon: try r.double("epsilon", default: 1e-7),
                                      amsgrad: try r.bool("amsgrad", default: false), formulation: try formulation()))
        case "rmsprop":
            config = .rmsprop(RMSpropConfig(learningRate: try r.double("learning_rate"), rho: try r.double("rho", default: 0.9),
                                            momentum: try r.double("momentum", default: 0), epsilon: try r.double("epsilon", default: 1e-7),
                                            centered: try r.bool("centered", default: false)))
        default:
            throw ModelError.unsupported("optimizer '\(type)'")
        }
        try validate(config)
        return OptimizerState(config: config, iteration: iteration)
    }

    /// Refuses NaN, infinite or out-of-range hyperparameters.
    public static func validate(_ config: OptimizerConfig) throws(ModelError) {
        func check(_ name: String, _ v: Double, _ ok: (Double) -> Bool, _ rule: String) throws(ModelError) {
            guard v.isFinite, ok(v) else { throw ModelError.invalidValue(field: "optimizer.\(name)", message: "\(rule), got \(v)") }
        }
        try check("learning_rate", config.learningRate, { $0 >= 0 }, "must be finite and ≥ 0")
        switch config {
        case .sgd(let c):
            try check("momentum", c.momentum, { $0 >= 0 && $0 < 1 }, "must be in [0, 1)")
        case .adam(let c):
            try check("beta1", c.beta1, { $0 >= 0 && $0 < 1 }, "must be in [0, 1)")
            try check("beta2", c.beta2, { $0 >= 0 && $0 < 1 }, "must be in [0, 1)")
            try check("epsilon", c.epsilon, { $0 >= 0 }, "must be finite and ≥ 0")
        case .rmsprop(let c):
            try check("rho", c.rho, { $0 >= 0 && $0 < 1 }, "must be in [0, 1)")
            try check("momentum", c.momentum, { $0 >= 0 && $0 < 1 }, "must be in [0, 1)")
            try check("epsilon", c.epsilon, { $0 >= 0 }, "must be finite and ≥ 0")
        }
    }

    // MARK: Training state

    public static func json(_ t: TrainingState) -> JSONValue {
        .object([
            ("loss", .string(t.loss.kind.rawValue)), ("from_logits", .bool(t.loss.fromLogits)),
            ("epoch", .integer(t.epoch)), ("step", .integer(t.step)), ("batch_size", .integer(t.batchSize)),
            ("shuffle", .bool(t.shuffle)),
            // RNG words as decimal strings: JSON numbers lose integers above 2^53 in many readers.
            ("rng", .object([("algorithm", .string(t.rng.algorithm)), ("state", .array(t.rng.state.map { .string(String($0)) }))])),
            ("position_in_epoch", .integer(t.positionInEpoch)),
            ("loss_history", .array(t.lossHistory.map(floatJSON))),
        ])
    }

    public static func training(_ v: JSONValue) throws(ModelError) -> TrainingState {
        let r = Reader(value: v, path: "training")
        let lossName = try r.string("loss")
        guard let kind = LossKind(name: lossName) else { throw ModelError.unsupported("loss '\(lossName)'") }
        let rr = Reader(value: try r.value("rng"), path: "training.rng")
        var words: [UInt64] = []
        for (i, w) in try rr.array("state").enumerated() {
            guard case .string(let s) = w, let x = UInt64(s) else {
                throw ModelError.invalidHeader(offset: 0, message: "training.rng.state[\(i)] must be a decimal string of a 64-bit word")
            }
            words.append(x)
        }
        var history: [Double] = []
        for (i, h) in try r.array("loss_history").enumerated() { history.append(try float(h, path: "training.loss_history[\(i)]")) }
        let t = TrainingState(loss: Loss(kind: kind, fromLogits: try r.bool("from_logits", default: false)),
                              epoch: Int64(try r.int("epoch")), step: Int64(try r.int("step")),
                              batchSize: Int64(try r.int("batch_size")), shuffle: try r.bool("shuffle", default: false),
                              rng: RNGState(algorithm: try rr.string("algorithm"), state: words),
                              positionInEpoch: Int64(try r.int("position_in_epoch", default: 0)), lossHistory: history)
        guard t.epoch >= 0, t.step >= 0, t.positionInEpoch >= 0 else {
            throw ModelError.invalidValue(field: "training", message: "epoch, step and position_in_epoch must be ≥ 0")
        }
        guard t.batchSize > 0 else { throw ModelError.invalidValue(field: "training.batch_size", message: "must be positive, got \(t.batchSize)") }
        return t
    }

    // MARK: Metadata

    /// Each value is a one-member object naming its type, so integers, floats and strings never blur:
    /// `{"string":"x"}`, `{"int":5}`, `{"float":0.5}` (or `"NaN"`, `"Infinity"`, `"-Infinity"`), `{"bool":true}`,
    /// `{"array":[...]}`, `{"map":{...}}`. Map keys are written sorted.
    public static func json(_ m: MetadataValue) -> JSONValue {
        switch m {
        case .string(let s): return .object([("string", .string(s))])
        case .integer(let i): return .object([("int", .integer(i))])
        case .float(let d): return .object([("float", floatJSON(d))])
        case .bool(let b): return .object([("bool", .bool(b))])
        case .array(let a): return .object([("array", .array(a.map(json)))])
        case .map(let m): return .object([("map", json(m))])
        }
    }

    public static func json(_ m: Metadata) -> JSONValue {
        .object(m.keys.sorted().map { ($0, json(m[$0]!)) })
    }

    public static func metadata(_ v: JSONValue, path: String = "metadata") throws(ModelError) -> Metadata {
        guard case .object(let members) = v else { throw ModelError.invalidHeader(offset: 0, message: "\(path) must be an object") }
        var out: Metadata = [:]
        for (k, x) in members { out[k] = try metadataValue(x, path: "\(path).\(k)") }
        return out
    }

    static func metadataValue(_ v: JSONValue, path: String) throws(ModelError) -> MetadataValue {
        guard case .object(let members) = v, members.count == 1 else {
            throw ModelError.invalidHeader(offset: 0, message: "\(path) must be a one-member object naming its type")
        }
        let (type, x) = members[0]
        switch (type, x) {
        case ("string", .string(let s)): return .string(s)
        case ("int", .integer(let i)): return .integer(i)
        case ("float", _): return .float(try float(x, path: path))
        case ("bool", .bool(let b)): return .bool(b)
        case ("array", .array(let a)):
            var items: [MetadataValue] = []
            for (i, e) in a.enumerated() { items.append(try metadataValue(e, path: "\(path)[\(i)]")) }
            return .array(items)
        case ("map", .object):
            return .map(try metadata(x, path: path))
        default:
            throw ModelError.invalidHeader(offset: 0, message: "\(path): bad typed value '\(type)'")
        }
    }

    /// A double as JSON: a number when finite, else "NaN", "Infinity" or "-Infinity".
    public static func floatJSON(_ d: Double) -> JSONValue {
        if d.isNaN { return .string("NaN") }
        if d.isInfinite { return .string(d < 0 ? "-Infinity" : "Infinity") }
        return .number(d)
    }

    public static func float(_ v: JSONValue, path: String) throws(ModelError) -> Double {
        switch v {
        case .number(let d): return d
        case .integer(let i): return Double(i)
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        default: throw ModelError.invalidHeader(offset: 0, message: "\(path) must be a number")
        }
    }

    // MARK: Reader

    /// Typed access to an object's members; errors name the JSON path.
    public struct Reader {
        public let value: JSONValue
        public let path: String
        public init(value: JSONValue, path: String) { self.value = value; self.path = path }

        public func value(_ key: String) throws(ModelError) -> JSONValue {
            guard case .object = value else { throw ModelError.invalidHeader(offset: 0, message: "\(path) must be an object") }
            guard let v = value[key] else { throw ModelError.invalidHeader(offset: 0, message: "missing \(path).\(key)") }
            return v
        }
        public func optional(_ key: String) -> JSONValue? {
            if let v = value[key], v != .null { return v }
            return nil
        }
        public func string(_ key: String, default d: String? = nil) throws(ModelError) -> String {
            if d != nil, optional(key) == nil { return d! }
            guard case .string(let s) = try value(key) else { throw typeError(key, "a string") }
            return s
        }
        public func int(_ key: String, default d: Int? = nil) throws(ModelError) -> Int {
            if d != nil, optional(key) == nil { return d! }
            guard case .integer(let i) = try value(key), let x = Int(exactly: i) else { throw typeError(key, "an integer") }
            return x
        }
        public func double(_ key: String, default d: Double? = nil) throws(ModelError) -> Double {
            if d != nil, optional(key) == nil { return d! }
            return try HeaderSchema.float(try value(key), path: "\(path).\(key)")
        }
        public func bool(_ key: String, default d: Bool? = nil) throws(ModelError) -> Bool {
            if d != nil, optional(key) == nil { return d! }
            guard case .bool(let b) = try value(key) else { throw typeError(key, "true or false") }
            return b
        }
        public func array(_ key: String) throws(ModelError) -> [JSONValue] {
            guard case .array(let a) = try value(key) else { throw typeError(key, "an array") }
            return a
        }
        public func intArray(_ key: String) throws(ModelError) -> [Int] {
            var out: [Int] = []
            for v in try array(key) {
                guard case .integer(let i) = v, let x = Int(exactly: i) else { throw typeError(key, "an array of integers") }
                out.append(x)
            }
            return out
        }
        func typeError(_ key: String, _ expected: String) -> ModelError {
            .invalidHeader(offset: 0, message: "\(path).\(key) must be \(expected)")
        }
    }
}
