import ModelFormat
import ModelHDF5

/// Keras legacy HDF5 (`model.save("m.h5")`), as written by Keras 3 and by tf.keras 2.x:
/// - root attributes `model_config` and `training_config`: JSON in string attributes (variable- or fixed-length);
/// - `model_weights` with `layer_names` (maybe split into `layer_names0`, `layer_names1`, … when long) and per layer a
///   group with `weight_names` (`sequential/dense/kernel` in Keras 3, `dense/kernel:0` in tf.keras 2) whose datasets
///   sit at those paths inside the layer's group;
/// - `optimizer_weights` with `weight_names`: Keras 3 `adam/iteration`, `adam/learning_rate`,
///   `adam/<weight path with / as _>_momentum|_velocity|_velocity_hat`; tf.keras 2 `Adam/iter:0`, `Adam/dense/kernel/m:0`.
///
/// Writing produces what Keras 3's `keras.models.load_model` opens. ModelKit state Keras has no place for (training
/// progress, metadata, slots not yet created) goes in extra root attributes (`modelkit_training_json`,
/// `modelkit_metadata_json`, `modelkit_zero_filled_slots`) that Keras ignores and this reader restores, so nothing is
/// dropped. The mapping is specified in spec/keras-formats.md.
public enum KerasH5 {
    public static func read(path: String) throws -> Model { try read(path: path, options: ReadOptions()) }

    public static func read(path: String, options: ReadOptions) throws -> Model {
        try HDF5.locked {
            let file = try H5File.open(path: path)
            return try read(root: file.root(), source: path, options: options)
        }
    }

    /// Reads a Keras legacy .h5 held in memory (HDF5's core driver and a file image; no temporary file).
    public static func read(image: [UInt8], name: String, options: ReadOptions = ReadOptions()) throws -> Model {
        try HDF5.locked {
            let file = try H5File.open(image: image, name: name)
            return try read(root: file.root(), source: name, options: options)
        }
    }

    static func read(root: H5Group, source: String, options: ReadOptions) throws -> Model {
        guard try root.hasAttribute("model_config") else {
            if try HDF5Layout.isLayout(root: root) {
                throw ModelError.unsupported("\(source) is ModelKit's HDF5 layout, not a Keras file; read it with --from h5")
            }
            throw ModelError.invalidHeader(offset: 0, message: "\(source): no root attribute 'model_config' (a weights-only Keras file has no architecture)")
        }
        let modelConfig = try KerasConfig.parse(try text(root, "model_config"), source: "model_config")
        let config: KerasConfig.Parsed
        do { config = try KerasConfig.model(modelConfig, source: "model_config") } catch let error as ModelError {
            // Layers the engine lacks: kept verbatim as a graph (KerasGraph.swift).
            guard case .unsupported = error, KerasGraph.keepsAsGraph(modelConfig) else { throw error }
            return try KerasGraph.readH5(root: root, modelConfig: modelConfig, source: source, options: options)
        }
        let architecture = config.architecture
        let specs = architecture.parameters

        // Weights, layer by layer, in the file's order, matched to ours by layer name.
        let weightsGroup = try root.group("model_weights")
        var weights: [String: Tensor] = [:]
        let layersWithWeights = architecture.layers.map(\.name).filter { name in specs.contains { $0.layer == name } }
        var fileLayers: [String] = []
        for name in try splitList(weightsGroup, "layer_names") {
            guard try weightsGroup.has(name) else { throw ModelError.format("HDF5: \(weightsGroup.path)/\(name) is missing (listed in layer_names)") }
            if try !splitList(try weightsGroup.group(name), "weight_names").isEmpty { fileLayers.append(name) }
        }
        for name in fileLayers where !layersWithWeights.contains(name) {
            throw ModelError.unexpectedTensor("model_weights/\(name) (the model config has no layer '\(name)' with weights)")
        }
        for layer in layersWithWeights {
            guard fileLayers.contains(layer) else { throw ModelError.missingTensor("\(layer)/* (model_weights has no weights for layer '\(layer)')") }
            let group = try weightsGroup.group(layer)
            let names = try splitList(group, "weight_names")
            let layerSpecs = specs.filter { $0.layer == layer }
            guard names.count == layerSpecs.count else {
                throw ModelError.shapeMismatch(name: layer, expected: [layerSpecs.count], detail: "model_weights/\(layer) holds \(names.count) weights \(names), the config needs \(layerSpecs.map(\.shortName))")
            }
            for (weightName, spec) in zip(names, layerSpecs) {
                guard shortName(weightName) == spec.shortName else {
                    throw ModelError.unexpectedTensor("model_weights/\(layer)/\(weightName) (expected the layer's \(spec.shortName) here)")
                }
                weights[spec.fullName] = try readFloatTensor(group, weightName, name: spec.fullName, shape: spec.shape)
            }
        }
        if try weightsGroup.has("top_level_model_weights"), try !splitList(try weightsGroup.group("top_level_model_weights"), "weight_names").isEmpty {
            throw ModelError.unsupported("top-level model weights (weights not owned by a layer)")
        }

        // Training config: loss and optimizer.
        var loss: Loss? = nil
        var optimizerJSON: JSONValue? = nil
        if try root.hasAttribute("training_config") {
            let training = try KerasConfig.parse(try text(root, "training_config"), source: "training_config")
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
            for variable in try splitList(group, "weight_names") {
                let base = shortName(variable)
                if base == "iteration" || base == "iter" {
                    iteration = try readScalar(group, variable).int
                } else if base == "learning_rate" || base == "lr" {
                    learningRate = try readScalar(group, variable).double
                } else if let (parameter, slot) = KerasConfig.slot(variable, parameters: specs, modelName: config.modelName) {
                    let spec = specs.first { $0.fullName == parameter }!
                    slots[parameter, default: [:]][slot] = try readFloatTensor(group, variable, name: "optimizer/\(parameter)/\(slot)", shape: spec.shape)
                } else {
                    throw ModelError.unexpectedTensor("optimizer_weights/\(variable) (not an optimizer variable ModelKit can map to a parameter)")
                }
            }
            if try root.hasAttribute("modelkit_zero_filled_slots") {
                // Slots ModelKit's writer filled with zeros because the model had not created them yet.
                for entry in try splitList(root, "modelkit_zero_filled_slots") {
                    guard let slash = entry.lastIndex(of: "/") else { continue }
                    let parameter = String(entry[..<slash]), slot = String(entry[entry.index(after: slash)...])
                    if let t = slots[parameter]?[slot], t.doubles().allSatisfy({ $0 == 0 }) {
                        slots[parameter]![slot] = nil
                        if slots[parameter]!.isEmpty { slots[parameter] = nil }
                    }
                }
            }
            let optimizerConfig = try KerasConfig.optimizer(optimizerJSON, learningRate: learningRate)
            guard iteration >= 0 else { throw ModelError.invalidValue(field: "optimizer iteration", message: "\(iteration) is negative") }
            optimizer = OptimizerState(config: optimizerConfig, iteration: iteration, slots: slots)
            for (parameter, tensors) in slots {
                for slot in tensors.keys where !optimizerConfig.slotNames.contains(slot) {
                    throw ModelError.unexpectedTensor("optimizer slot '\(slot)' of '\(parameter)' (\(optimizerConfig.kindName) with these settings keeps \(optimizerConfig.slotNames))")
                }
            }
        } else if let optimizerJSON {
            optimizer = OptimizerState(config: try KerasConfig.optimizer(optimizerJSON, learningRate: nil))
        }

        var training: TrainingState? = nil
        var metadata: Metadata = [:]
        if try root.hasAttribute("modelkit_training_json") {
            training = try HeaderSchema.training(try KerasConfig.parse(try text(root, "modelkit_training_json"), source: "modelkit_training_json"))
        } else if let loss {
            // Keras records no batch size or progress; 32 is Keras's fit() default, the step is the optimizer's.
            training = TrainingState(loss: loss, step: optimizer?.iteration ?? 0, batchSize: 32)
        }
        if try root.hasAttribute("modelkit_metadata_json") {
            metadata = try HeaderSchema.metadata(try KerasConfig.parse(try text(root, "modelkit_metadata_json"), source: "modelkit_metadata_json"))
        } else if try root.hasAttribute("keras_version") {
            metadata["keras_version"] = .string(try text(root, "keras_version"))
        }
        let model = Model(architecture: architecture, weights: weights, optimizer: optimizer, training: training, metadata: metadata)
        try model.validate()
        return model
    }

    /// A string attribute (Keras writes JSON as variable-length strings, tf.keras 2 as fixed-length bytes).
    static func text(_ object: H5Object, _ name: String) throws -> String {
        let value = try object.attribute(name)
        guard case .string(let s) = value else { throw ModelError.invalidHeader(offset: 0, message: "\(object.path)@\(name) must be a string, found \(value)") }
        return s
    }

    /// A list attribute, joined from `name0`, `name1`, … when Keras split it to stay under HDF5's 64 KiB header limit.
    static func splitList(_ object: H5Object, _ name: String) throws -> [String] {
        func list(_ n: String) throws -> [String] {
            let value = try object.attribute(n)
            guard let items = value.stringList else { throw ModelError.invalidHeader(offset: 0, message: "\(object.path)@\(n) must be a list of strings") }
            return items
        }
        if try object.hasAttribute(name) { return try list(name) }
        var out: [String] = []
        var index = 0
        while try object.hasAttribute("\(name)\(index)") {
            out += try list("\(name)\(index)")
            index += 1
        }
        guard index > 0 else { throw ModelError.invalidHeader(offset: 0, message: "\(object.path) has no attribute '\(name)'") }
        return out
    }

    /// `sequential/dense/kernel` → `kernel`; `dense/kernel:0` → `kernel`.
    static func shortName(_ weightName: String) -> String {
        var last = String(weightName.split(separator: "/").last ?? "")
        if let colon = last.lastIndex(of: ":") { last = String(last[..<colon]) }
        return last
    }

    /// Reads a floating-point dataset after checking its shape and that the file holds its data.
    static func readFloatTensor(_ group: H5Group, _ link: String, name: String, shape: [Int]) throws -> Tensor {
        guard try group.has(link) else { throw ModelError.missingTensor("\(name) (\(group.path)/\(link))") }
        let dataset = try group.dataset(link)
        let info = try dataset.info()
        guard let dtype = info.dtype, dtype.isFloatingPoint else {
            throw ModelError.unknownDType(info.typeDescription, location: "\(dataset.path) (weights must be floating point)")
        }
        guard info.shape == shape else { throw ModelError.shapeMismatch(name: name, expected: shape, detail: "\(dataset.path) has shape \(info.shape)") }
        guard let byteCount = Tensor.byteCount(dtype: dtype, shape: shape) else {
            throw ModelError.shapeMismatch(name: name, expected: shape, detail: "size overflows")
        }
        try dataset.checkHoldsData(info, byteCount: byteCount, name: name)
        return Tensor(dtype: dtype, shape: shape, storage: try dataset.read(as: dtype, byteCount: byteCount))
    }

    struct Scalar { var int: Int64; var double: Double }

    /// A scalar (or one-element) numeric dataset: the iteration count or the stored learning rate.
    static func readScalar(_ group: H5Group, _ link: String) throws -> Scalar {
        guard try group.has(link) else { throw ModelError.missingTensor("\(group.path)/\(link)") }
        let dataset = try group.dataset(link)
        let info = try dataset.info()
        guard info.shape.reduce(1, *) == 1, let dtype = info.dtype, dtype != .bool else {
            throw ModelError.shapeMismatch(name: dataset.path, expected: [], detail: "expected one number, found \(info.typeDescription) of shape \(info.shape)")
        }
        // Read through a Tensor so that the storage stays alive while its bytes are loaded.
        if dtype.isFloatingPoint {
            let d = Tensor(dtype: .f64, shape: [], storage: try dataset.read(as: .f64, byteCount: 8)).doubles()[0]
            guard d.isFinite else { throw ModelError.invalidValue(field: dataset.path, message: "\(d) is not finite") }
            return Scalar(int: d.magnitude < 0x1p62 ? Int64(d) : -1, double: d)
        }
        let storage = try dataset.read(as: .i64, byteCount: 8)
        let i = withExtendedLifetime(storage) { storage.bytes.loadUnaligned(as: Int64.self) }
        return Scalar(int: i, double: Double(i))
    }
}
