import ModelFormat
import ModelHDF5

extension KerasH5 {
    /// The Keras version whose legacy `.h5` layout the writer follows (and the interop tests load with).
    static let kerasFormatVersion = "3.15.1"

    /// Writes a Keras legacy `.h5` that Keras 3's `load_model` opens: a Sequential model config, the weights under
    /// `model_weights`, and, with an optimizer, `training_config` plus `optimizer_weights` in the order Keras builds
    /// its variables. What Keras cannot express is refused (or, with `allowLossy`, changed with a warning).
    public static func write(_ model: Model, path: String, options: WriteOptions) throws {
        if let graph = model.graph, graph.origin == "keras" { return try KerasGraph.writeH5(model, graph: graph, path: path, options: options) }
        try model.validate()
        let architecture = try model.requiredArchitecture(by: "Keras .h5")
        try HDF5Layout.checkLayerNames(architecture)
        var model = model
        try convertBFloat16(&model, options: options)
        let modelName = "sequential"
        let modelConfig = try self.modelConfig(model, architecture, name: modelName)
        let trainingConfig = try model.optimizer.map { try self.trainingConfig($0, loss: model.training?.loss, options: options) }

        try HDF5.writeAtomically(path: path) { temporary in
            try HDF5.locked {
                let file = try H5File.create(path: temporary)
                let root = try file.root()
                try root.setAttribute("backend", .string("jax"))
                try root.setAttribute("keras_version", .string(kerasFormatVersion))
                try root.setAttribute("model_config", .string(modelConfig.text))
                if let trainingConfig { try root.setAttribute("training_config", .string(trainingConfig.text)) }
                if let training = model.training { try root.setAttribute("modelkit_training_json", .string(HeaderSchema.json(training).text)) }
                try root.setAttribute("modelkit_metadata_json", .string(HeaderSchema.json(model.metadata).text))

                let weightsGroup = try root.createGroup("model_weights")
                try weightsGroup.setAttribute("backend", .string("jax"))
                try weightsGroup.setAttribute("keras_version", .string(kerasFormatVersion))
                try weightsGroup.setAttribute("layer_names", .strings(architecture.layers.map(\.name)))
                let specs = architecture.parameters
                // Keras sorts layer groups by name so that no group name is a prefix of a later one.
                for layer in architecture.layers.sorted(by: { $0.name < $1.name }) {
                    let group = try weightsGroup.createGroup(layer.name)
                    let layerSpecs = specs.filter { $0.layer == layer.name }
                    try group.setAttribute("weight_names", .strings(layerSpecs.map { "\(modelName)/\(layer.name)/\($0.shortName)" }))
                    guard !layerSpecs.isEmpty else { continue }
                    let inner = try group.createGroup(modelName).createGroup(layer.name)
                    for spec in layerSpecs { try inner.createDataset(spec.shortName, tensor: model.weights[spec.fullName]!, compress: options.compress) }
                }
                try weightsGroup.createGroup("top_level_model_weights").setAttribute("weight_names", .strings([]))

                if let optimizer = model.optimizer {
                    let group = try root.createGroup("optimizer_weights")
                    let prefix = optimizer.config.kindName
                    let variables = optimizerVariables(optimizer, specs: specs.filter(\.trainable), model: model, modelName: modelName)
                    // Keras needs every slot; ours may not exist yet (a fresh optimizer). Name the ones filled with
                    // zeros so that reading back restores the model exactly.
                    let absent = specs.filter(\.trainable).flatMap { spec in
                        optimizer.config.slotNames.filter { optimizer.slots[spec.fullName]?[$0] == nil }.map { "\(spec.fullName)/\($0)" }
                    }
                    if !absent.isEmpty { try root.setAttribute("modelkit_zero_filled_slots", .strings(absent)) }
                    try group.setAttribute("weight_names", .strings(["\(prefix)/iteration", "\(prefix)/learning_rate"] + variables.map { "\(prefix)/\($0.name)" }))
                    let inner = try group.createGroup(prefix)
                    try inner.createDataset("iteration", tensor: try Tensor(dtype: .i64, shape: [], bytes: withUnsafeBytes(of: optimizer.iteration.littleEndian) { Array($0) }), compress: false)
                    // float64 keeps our learning rate exact; Keras casts it to its float32 variable on load.
                    try inner.createDataset("learning_rate", tensor: Tensor([optimizer.config.learningRate], shape: []), compress: false)
                    for variable in variables { try inner.createDataset(variable.name, tensor: variable.tensor, compress: options.compress) }
                }
                try file.close()
            }
        }
    }

    /// Keras's variable order and names for the optimizer's slots; slots never created are written as zeros,
    /// which is what a fresh Keras optimizer holds (and listed in the root attribute `modelkit_zero_filled_slots`).
    static func optimizerVariables(_ optimizer: OptimizerState, specs: [ParameterSpec], model: Model, modelName: String) -> [(name: String, tensor: Tensor)] {
        func slot(_ spec: ParameterSpec, _ name: String) -> (name: String, tensor: Tensor) {
            let tensor = optimizer.slots[spec.fullName]?[name] ?? Tensor.zeros(dtype: model.weights[spec.fullName]!.dtype, shape: spec.shape)
            return ("\(modelName)_\(spec.layer)_\(spec.shortName)_\(name)", tensor)
        }
        switch optimizer.config {
        case .adam(let c):
            return specs.flatMap { [slot($0, "momentum"), slot($0, "velocity")] } + (c.amsgrad ? specs.map { slot($0, "velocity_hat") } : [])
        case .sgd(let c):
            return c.momentum != 0 ? specs.map { slot($0, "momentum") } : []
        case .rmsprop(let c):
            return specs.map { slot($0, "velocity") } + (c.momentum != 0 ? specs.map { slot($0, "momentum") } : [])
                + (c.centered ? specs.map { slot($0, "average_gradient") } : [])
        }
    }

    static func convertBFloat16(_ model: inout Model, options: WriteOptions) throws {
        let bf16 = model.weights.filter { $0.value.dtype == .bf16 }.keys.sorted()
        guard !bf16.isEmpty else { return }
        guard options.allowLossy else {
            throw ModelError.unsupported("bf16 tensors (\(bf16.joined(separator: ", "))) in a Keras .h5: HDF5 and h5py have no bfloat16 type; --allow-lossy writes them as float32")
        }
        // bf16 → f32 is exact; what changes is the dtype Keras will see.
        options.warn("bf16 tensors written as float32 for Keras: \(bf16.joined(separator: ", "))")
        for name in bf16 { model.weights[name] = Tensor.fromDoubles(model.weights[name]!.doubles(), dtype: .f32, shape: model.weights[name]!.shape) }
        if var optimizer = model.optimizer {
            for (parameter, slots) in optimizer.slots {
                for (slot, t) in slots where t.dtype == .bf16 { optimizer.slots[parameter]![slot] = Tensor.fromDoubles(t.doubles(), dtype: .f32, shape: t.shape) }
            }
            model.optimizer = optimizer
        }
    }

    static func kerasDType(_ dtype: DType) -> String {
        switch dtype {
        case .f16: return "float16"
        case .f64: return "float64"
        case .bf16: return "bfloat16"
        default: return "float32"
        }
    }

    /// Keras's activation string for an activation it has with these parameters, or nil.
    static func kerasActivation(_ a: Activation) -> String? {
        switch a {
        case .leakyRelu(let slope): return slope == 0.2 ? "leaky_relu" : nil
        case .elu(let alpha): return alpha == 1 ? "elu" : nil
        case .gelu(let approximate): return approximate ? nil : "gelu"
        default: return a.name
        }
    }

    static func modelConfig(_ model: Model, _ a: Architecture, name: String) throws -> JSONValue {
        let defaultDType = kerasDType(model.floatDType)
        var inputName = "input_layer"
        var suffix = 0
        while a.layers.contains(where: { $0.name == inputName }) { suffix += 1; inputName = "input_layer_\(suffix)" }
        let batchShape: JSONValue = .array([.null] + a.inputShape.map { .integer(Int64($0)) })
        var layers: [JSONValue] = [.object([
            ("class_name", .string("InputLayer")),
            ("config", .object([("batch_shape", batchShape), ("dtype", .string(defaultDType)), ("sparse", .bool(false)),
                                ("ragged", .bool(false)), ("name", .string(inputName)), ("optional", .bool(false))])),
        ])]
        for layer in a.layers {
            let dtype = a.parameters.first { $0.layer == layer.name }.flatMap { model.weights[$0.fullName]?.dtype }.map(kerasDType) ?? defaultDType
            var config: [(String, JSONValue)] = [("name", .string(layer.name)), ("trainable", .bool(true)), ("dtype", .string(dtype))]
            let className: String
            switch layer.kind {
            case .dense(let c):
                guard let activation = kerasActivation(c.activation) else {
                    throw ModelError.unsupported("layer '\(layer.name)': Keras's Dense has no \(HeaderSchema.json(c.activation).text) activation (only its defaults)")
                }
                className = "Dense"
                config += [("units", .integer(Int64(c.units))), ("activation", .string(activation)), ("use_bias", .bool(c.useBias))]
            case .activation(let act):
                if let activation = kerasActivation(act) {
                    className = "Activation"
                    config += [("activation", .string(activation))]
                } else if case .leakyRelu(let slope) = act {
                    className = "LeakyReLU"
                    config += [("negative_slope", .number(slope))]
                } else if case .elu(let alpha) = act {
                    className = "ELU"
                    config += [("alpha", .number(alpha))]
                } else {
                    throw ModelError.unsupported("layer '\(layer.name)': Keras has no \(HeaderSchema.json(act).text) activation")
                }
            case .dropout(let rate):
                className = "Dropout"
                config += [("rate", .number(rate)), ("seed", .null), ("noise_shape", .null)]
            case .batchNormalization(let c):
                className = "BatchNormalization"
                config += [("axis", .integer(-1)), ("momentum", .number(c.momentum)), ("epsilon", .number(c.epsilon)),
                           ("center", .bool(c.center)), ("scale", .bool(c.scale))]
            case .layerNormalization(let c):
                className = "LayerNormalization"
                config += [("axis", .integer(-1)), ("epsilon", .number(c.epsilon)), ("center", .bool(c.center)), ("scale", .bool(c.scale))]
            }
            layers.append(.object([("class_name", .string(className)), ("config", .object(config))]))
        }
        return .object([
            ("class_name", .string("Sequential")),
            ("config", .object([("name", .string(name)), ("trainable", .bool(true)), ("dtype", .string(defaultDType)),
                                ("layers", .array(layers)), ("build_input_shape", batchShape)])),
        ])
    }

    static func trainingConfig(_ optimizer: OptimizerState, loss: Loss?, options: WriteOptions) throws -> JSONValue {
        let optimizerConfig: JSONValue
        switch optimizer.config {
        case .adam(let c):
            if c.formulation != .keras { try refuseFormulation("Adam", options) }
            optimizerConfig = .object([("class_name", .string("Adam")), ("config", .object([
                ("name", .string("adam")), ("learning_rate", .number(c.learningRate)), ("beta_1", .number(c.beta1)),
                ("beta_2", .number(c.beta2)), ("epsilon", .number(c.epsilon)), ("amsgrad", .bool(c.amsgrad)),
            ]))])
        case .sgd(let c):
            if c.formulation != .keras { try refuseFormulation("SGD", options) }
            optimizerConfig = .object([("class_name", .string("SGD")), ("config", .object([
                ("name", .string("sgd")), ("learning_rate", .number(c.learningRate)), ("momentum", .number(c.momentum)),
                ("nesterov", .bool(c.nesterov)),
            ]))])
        case .rmsprop(let c):
            optimizerConfig = .object([("class_name", .string("RMSprop")), ("config", .object([
                ("name", .string("rmsprop")), ("learning_rate", .number(c.learningRate)), ("rho", .number(c.rho)),
                ("momentum", .number(c.momentum)), ("epsilon", .number(c.epsilon)), ("centered", .bool(c.centered)),
            ]))])
        }
        var lossJSON: JSONValue = .null
        if let loss {
            if loss.fromLogits {
                let classes: [LossKind: String] = [.binaryCrossentropy: "BinaryCrossentropy", .categoricalCrossentropy: "CategoricalCrossentropy",
                                                   .sparseCategoricalCrossentropy: "SparseCategoricalCrossentropy",
                                                   .mse: "MeanSquaredError", .mae: "MeanAbsoluteError"]
                lossJSON = .object([("module", .string("keras.losses")), ("class_name", .string(classes[loss.kind]!)),
                                    ("config", .object([("name", .string(loss.kind.rawValue)), ("reduction", .string("sum_over_batch_size")),
                                                        ("from_logits", .bool(true))])), ("registered_name", .null)])
            } else {
                lossJSON = .string(loss.kind.rawValue)
            }
        }
        return .object([
            ("loss", lossJSON), ("loss_weights", .null), ("metrics", .null), ("weighted_metrics", .null),
            ("run_eagerly", .bool(false)), ("steps_per_execution", .integer(1)), ("jit_compile", .bool(false)),
            ("optimizer_config", optimizerConfig),
        ])
    }

    static func refuseFormulation(_ name: String, _ options: WriteOptions) throws {
        guard options.allowLossy else {
            throw ModelError.unsupported("\(name) with the PyTorch formulation in a Keras file: Keras updates differently; --allow-lossy writes it as Keras's \(name)")
        }
        options.warn("optimizer: \(name) with the PyTorch formulation written as Keras's \(name) (its slots mean something else there)")
    }
}
