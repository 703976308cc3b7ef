#if canImport(Glibc)
import Glibc
#endif
import ModelFormat

/// ModelKit's HDF5 layout, version 1: the whole model (architecture, weights, optimizer and training state,
/// metadata) in an HDF5 file that h5py reads without ModelKit. The layout is specified in spec/hdf5-layout.md;
/// a change here changes the spec in the same commit.
public enum HDF5Layout {
    public static let formatName = "modelkit-hdf5"
    public static let formatVersion: Int64 = 1

    // MARK: Writing

    /// Writes `model` to `path` atomically (temporary file in the same folder, fsync, rename).
    public static func write(_ model: Model, path: String, compress: Bool = false) throws {
        try model.validate()
        try checkLayerNames(try model.requiredArchitecture(by: "ModelKit's HDF5 layout"))
        try HDF5.writeAtomically(path: path) { temporary in
            try HDF5.locked {
                let file = try H5File.create(path: temporary)
                try write(model, into: file.root(), compress: compress)
                try file.close()
            }
        }
    }

    /// HDF5 resolves "." in a path to the group itself, so a layer cannot be named "." in an HDF5 file.
    public static func checkLayerNames(_ architecture: Architecture) throws {
        if architecture.layers.contains(where: { $0.name == "." }) {
            throw ModelError.unsupported("a layer named '.' in an HDF5 file (HDF5 reads '.' as the group itself); rename the layer")
        }
    }

    static func write(_ model: Model, into root: H5Group, compress: Bool) throws {
        let modelArchitecture = try model.requiredArchitecture(by: "ModelKit's HDF5 layout")
        try root.setAttribute("format", .string(formatName))
        try root.setAttribute("format_version", .int(formatVersion))

        let architectureJSON = HeaderSchema.json(modelArchitecture)
        let architecture = try root.createGroup("architecture")
        try architecture.setAttribute("architecture_json", .string(architectureJSON.text))
        try architecture.setAttribute("input_shape", .ints(modelArchitecture.inputShape.map { Int64($0) }))
        try architecture.setAttribute("layer_names", .strings(modelArchitecture.layers.map(\.name)))
        let layers = try architecture.createGroup("layers")
        for layer in modelArchitecture.layers {
            let group = try layers.createGroup(layer.name)
            for (name, value) in flatten(HeaderSchema.json(layer)) { try group.setAttribute(name, value) }
        }

        let weights = try root.createGroup("weights")
        var layerGroups: [String: H5Group] = [:]
        for spec in modelArchitecture.parameters {
            guard let tensor = model.weights[spec.fullName] else { throw ModelError.missingTensor(spec.fullName) }
            let group = try layerGroups[spec.layer] ?? weights.createGroup(spec.layer)
            layerGroups[spec.layer] = group
            try writeTensor(tensor, name: spec.shortName, in: group, compress: compress)
        }

        if let optimizer = model.optimizer {
            let json = HeaderSchema.json(optimizer)
            let group = try root.createGroup("optimizer")
            try group.setAttribute("optimizer_json", .string(json.text))
            for (name, value) in flatten(json) { try group.setAttribute(name, value) }
            let slots = try group.createGroup("slots")
            var slotLayers: [String: H5Group] = [:]
            for spec in modelArchitecture.parameters {
                guard let tensors = optimizer.slots[spec.fullName], !tensors.isEmpty else { continue }
                let layerGroup = try slotLayers[spec.layer] ?? slots.createGroup(spec.layer)
                slotLayers[spec.layer] = layerGroup
                let parameterGroup = try layerGroup.createGroup(spec.shortName)
                // Known slots in the optimizer's order, then any others by name, so the output is deterministic.
                let order = optimizer.config.slotNames.filter { tensors[$0] != nil }
                    + tensors.keys.filter { !optimizer.config.slotNames.contains($0) }.sorted()
                for slot in order { try writeTensor(tensors[slot]!, name: slot, in: parameterGroup, compress: compress) }
            }
        }

        if let training = model.training {
            let group = try root.createGroup("training")
            try group.setAttribute("training_json", .string(HeaderSchema.json(training).text))
            try group.setAttribute("loss", .string(training.loss.kind.rawValue))
            try group.setAttribute("from_logits", .bool(training.loss.fromLogits))
            try group.setAttribute("epoch", .int(training.epoch))
            try group.setAttribute("step", .int(training.step))
            try group.setAttribute("batch_size", .int(training.batchSize))
            try group.setAttribute("shuffle", .bool(training.shuffle))
            try group.setAttribute("position_in_epoch", .int(training.positionInEpoch))
            try group.setAttribute("rng_algorithm", .string(training.rng.algorithm))
            try group.setAttribute("rng_state", .uints(training.rng.state))
            try group.setAttribute("loss_history", .floats(training.lossHistory))
        }

        let metadata = try root.createGroup("metadata")
        try metadata.setAttribute("metadata_json", .string(HeaderSchema.json(model.metadata).text))
        let entries = try metadata.createGroup("entries")
        // HDF5 refuses an empty attribute name; that key lives in the JSON only.
        for key in model.metadata.keys.sorted() where !key.isEmpty {
            switch model.metadata[key]! {
            case .string(let s): try entries.setAttribute(key, .string(s))
            case .integer(let i): try entries.setAttribute(key, .int(i))
            case .float(let d): try entries.setAttribute(key, .float(d))
            case .bool(let b): try entries.setAttribute(key, .bool(b))
            case .array, .map: continue
            }
        }
    }

    static func writeTensor(_ tensor: Tensor, name: String, in group: H5Group, compress: Bool) throws {
        let dataset = try group.createDataset(name, tensor: tensor, compress: compress)
        try dataset.setAttribute("dtype", .string(tensor.dtype.rawValue))
        try dataset.setAttribute("crc32c", .int(Int64(CRC32C.checksum(tensor.bytes))))
    }

    /// A JSON object's members as typed attributes; nested objects are flattened with dots
    /// (`activation.name`, `activation.alpha`). Values with no attribute form (null, mixed arrays) are JSON text.
    static func flatten(_ json: JSONValue, prefix: String = "") -> [(String, H5Value)] {
        guard case .object(let members) = json else { return [] }
        var out: [(String, H5Value)] = []
        for (key, value) in members {
            let name = prefix + key
            switch value {
            case .string(let s): out.append((name, .string(s)))
            case .integer(let i): out.append((name, .int(i)))
            case .number(let d): out.append((name, .float(d)))
            case .bool(let b): out.append((name, .bool(b)))
            case .object: out += flatten(value, prefix: name + ".")
            case .array(let items):
                if items.allSatisfy({ if case .integer = $0 { return true }; return false }) {
                    out.append((name, .ints(items.compactMap { if case .integer(let i) = $0 { return i }; return nil })))
                } else if items.allSatisfy({ switch $0 { case .integer, .number: return true; default: return false } }) {
                    out.append((name, .floats(items.compactMap { switch $0 { case .integer(let i): return Double(i); case .number(let d): return d; default: return nil } })))
                } else {
                    out.append((name, .string(value.text)))
                }
            case .null: out.append((name, .string("null")))
            }
        }
        return out
    }

    // MARK: Reading

    /// Reads a model; with `verifyChecksums` every tensor's `crc32c` is checked.
    public static func read(path: String, verifyChecksums: Bool = true) throws -> Model {
        try HDF5.locked {
            let file = try H5File.open(path: path)
            return try read(root: file.root(), verifyChecksums: verifyChecksums)
        }
    }

    /// Reads a model from an HDF5 file held in memory (HDF5's core driver and a file image; no temporary file).
    public static func read(image: [UInt8], name: String, verifyChecksums: Bool = true) throws -> Model {
        try HDF5.locked {
            let file = try H5File.open(image: image, name: name)
            return try read(root: file.root(), verifyChecksums: verifyChecksums)
        }
    }

    /// Verifies every structure and every tensor checksum; throws naming the first damaged tensor or group.
    public static func check(path: String) throws {
        _ = try read(path: path, verifyChecksums: true)
    }

    /// Whether the file's root attributes name this layout (`format = "modelkit-hdf5"`).
    public static func isLayout(root: H5Group) throws -> Bool {
        guard try root.hasAttribute("format"), case .string(let name) = try root.attribute("format") else { return false }
        return name == formatName
    }

    static func read(root: H5Group, verifyChecksums: Bool) throws -> Model {
        guard try root.hasAttribute("format") else {
            throw ModelError.badMagic(format: "ModelKit HDF5 layout", found: "no root attribute 'format'"
                                      + ((try? root.hasAttribute("model_config")) == true ? " (this looks like a Keras .h5: use --from keras-h5)" : ""))
        }
        guard case .string(let name) = try root.attribute("format"), name == formatName else {
            throw ModelError.badMagic(format: "ModelKit HDF5 layout", found: "root attribute format = \(try root.attribute("format"))")
        }
        let version = try root.attribute("format_version")
        guard case .int(let v) = version, v == formatVersion else {
            throw ModelError.unsupportedVersion(format: "ModelKit HDF5 layout", found: "\(version)", supported: "\(formatVersion)")
        }

        let architectureGroup = try root.group("architecture")
        let architectureJSON = try parseJSON(try stringAttribute(architectureGroup, "architecture_json"), what: "/architecture@architecture_json")
        let architecture = try HeaderSchema.architecture(architectureJSON)
        try expect(architectureGroup, "input_shape", .ints(architecture.inputShape.map { Int64($0) }))
        try expect(architectureGroup, "layer_names", .strings(architecture.layers.map(\.name)))
        let layerGroups = try architectureGroup.group("layers")
        guard case .array(let layerJSONs) = architectureJSON["layers"] ?? .null else {
            throw ModelError.invalidHeader(offset: 0, message: "/architecture@architecture_json has no layers")
        }
        for (layer, json) in zip(architecture.layers, layerJSONs) {
            let group = try layerGroups.group(layer.name)
            for (attribute, value) in flatten(json) { try expect(group, attribute, value) }
        }
        try expectOnly(layerGroups, architecture.layers.map(\.name))

        let specs = architecture.parameters
        let weightsGroup = try root.group("weights")
        var weights: [String: Tensor] = [:]
        for spec in specs {
            let group = try weightsGroup.group(spec.layer)
            weights[spec.fullName] = try readTensor(group, spec.shortName, name: spec.fullName, shape: spec.shape, verify: verifyChecksums)
        }
        let layersWithWeights = Set(specs.map(\.layer))
        try expectOnly(weightsGroup, architecture.layers.map(\.name).filter(layersWithWeights.contains))
        for layer in layersWithWeights {
            try expectOnly(try weightsGroup.group(layer), specs.filter { $0.layer == layer }.map(\.shortName))
        }

        var optimizer: OptimizerState? = nil
        if try root.has("optimizer") {
            let group = try root.group("optimizer")
            let json = try parseJSON(try stringAttribute(group, "optimizer_json"), what: "/optimizer@optimizer_json")
            var state = try HeaderSchema.optimizer(json)
            for (attribute, value) in flatten(json) { try expect(group, attribute, value) }
            let slots = try group.group("slots")
            let byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.fullName, $0) })
            for layer in try slots.members() {
                let layerGroup = try slots.group(layer)
                for parameter in try layerGroup.members() {
                    let fullName = "\(layer)/\(parameter)"
                    guard let spec = byName[fullName], spec.trainable else {
                        throw ModelError.unexpectedTensor("/optimizer/slots/\(fullName) (no trainable parameter '\(fullName)')")
                    }
                    let parameterGroup = try layerGroup.group(parameter)
                    var tensors: [String: Tensor] = [:]
                    for slot in try parameterGroup.members() {
                        guard state.config.slotNames.contains(slot) else {
                            throw ModelError.unexpectedTensor("/optimizer/slots/\(fullName)/\(slot) (\(state.config.kindName) has slots \(state.config.slotNames))")
                        }
                        tensors[slot] = try readTensor(parameterGroup, slot, name: "optimizer/\(fullName)/\(slot)", shape: spec.shape, verify: verifyChecksums)
                    }
                    state.slots[fullName] = tensors
                }
            }
            optimizer = state
        }

        var training: TrainingState? = nil
        if try root.has("training") {
            let group = try root.group("training")
            let state = try HeaderSchema.training(try parseJSON(try stringAttribute(group, "training_json"), what: "/training@training_json"))
            try expect(group, "loss", .string(state.loss.kind.rawValue))
            try expect(group, "from_logits", .bool(state.loss.fromLogits))
            try expect(group, "epoch", .int(state.epoch))
            try expect(group, "step", .int(state.step))
            try expect(group, "batch_size", .int(state.batchSize))
            try expect(group, "shuffle", .bool(state.shuffle))
            try expect(group, "position_in_epoch", .int(state.positionInEpoch))
            try expect(group, "rng_algorithm", .string(state.rng.algorithm))
            try expect(group, "rng_state", .uints(state.rng.state))
            try expect(group, "loss_history", .floats(state.lossHistory))
            training = state
        }

        let metadataGroup = try root.group("metadata")
        let metadata = try HeaderSchema.metadata(try parseJSON(try stringAttribute(metadataGroup, "metadata_json"), what: "/metadata@metadata_json"))
        let entries = try metadataGroup.group("entries")
        for (key, value) in metadata where !key.isEmpty {
            switch value {
            case .string(let s): try expect(entries, key, .string(s))
            case .integer(let i): try expect(entries, key, .int(i))
            case .float(let d): try expect(entries, key, .float(d))
            case .bool(let b): try expect(entries, key, .bool(b))
            case .array, .map: continue
            }
        }

        let model = Model(architecture: architecture, weights: weights, optimizer: optimizer, training: training, metadata: metadata)
        try model.validate()
        return model
    }

    /// Reads one tensor dataset after checking its type against its `dtype` attribute, its shape against `shape`,
    /// and that the file holds enough data for it (so a forged header cannot trigger a huge allocation).
    static func readTensor(_ group: H5Group, _ link: String, name: String, shape: [Int], verify: Bool) throws -> Tensor {
        guard try group.has(link) else { throw ModelError.missingTensor(name) }
        let dataset = try group.dataset(link)
        let info = try dataset.info()
        let declared = try stringAttribute(dataset, "dtype")
        guard let dtype = DType(rawValue: declared) else { throw ModelError.unknownDType(declared, location: "\(dataset.path)@dtype") }
        let typeAgrees = dtype == .bf16 ? info.isUInt16 : info.dtype == dtype
        guard typeAgrees else {
            throw ModelError.unknownDType(declared, location: "\(dataset.path): the dataset holds \(info.typeDescription), not \(dtype.rawValue)")
        }
        guard info.shape == shape else { throw ModelError.shapeMismatch(name: name, expected: shape, detail: "\(dataset.path) has shape \(info.shape)") }
        guard let byteCount = Tensor.byteCount(dtype: dtype, shape: shape) else {
            throw ModelError.shapeMismatch(name: name, expected: shape, detail: "size overflows")
        }
        try dataset.checkHoldsData(info, byteCount: byteCount, name: name)
        let storage = try dataset.read(as: dtype, byteCount: byteCount)
        if verify {
            guard case .int(let stored) = try dataset.attribute("crc32c") else {
                throw ModelError.invalidHeader(offset: 0, message: "\(dataset.path)@crc32c must be an integer")
            }
            guard stored == Int64(CRC32C.checksum(storage.bytes)) else {
                throw ModelError.checksumMismatch(what: name, offset: info.fileOffset ?? 0)
            }
        }
        return Tensor(dtype: dtype, shape: shape, storage: storage)
    }

    static func stringAttribute(_ object: H5Object, _ name: String) throws -> String {
        guard try object.hasAttribute(name) else { throw ModelError.invalidHeader(offset: 0, message: "\(object.path) has no attribute '\(name)'") }
        guard case .string(let s) = try object.attribute(name) else {
            throw ModelError.invalidHeader(offset: 0, message: "\(object.path)@\(name) must be a string")
        }
        return s
    }

    static func parseJSON(_ text: String, what: String) throws -> JSONValue {
        do { return try JSONParser.parse(Array(text.utf8)) } catch {
            throw ModelError.parse(source: what, line: error.line, column: error.column, message: error.message)
        }
    }

    /// The attribute view must agree with the authoritative JSON.
    static func expect(_ object: H5Object, _ name: String, _ value: H5Value) throws {
        guard try object.hasAttribute(name) else { throw ModelError.invalidHeader(offset: 0, message: "\(object.path) has no attribute '\(name)'") }
        let found = try object.attribute(name)
        guard same(found, value) else {
            throw ModelError.invalidHeader(offset: 0, message: "\(object.path)@\(name) is \(found) but the JSON says \(value)")
        }
    }

    /// Equality with floats compared bit for bit (so NaN in a loss history matches itself).
    static func same(_ a: H5Value, _ b: H5Value) -> Bool {
        switch (a, b) {
        case (.float(let x), .float(let y)): return x.bitPattern == y.bitPattern
        case (.floats(let x), .floats(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.bitPattern == $1.bitPattern }
        // An empty list reads back as whatever type its writer chose.
        case (.floats(let x), .ints(let y)), (.ints(let y), .floats(let x)): return x.isEmpty && y.isEmpty
        default: return a == b
        }
    }

    static func expectOnly(_ group: H5Group, _ names: [String]) throws {
        let allowed = Set(names)
        for member in try group.members() where !allowed.contains(member) {
            throw ModelError.unexpectedTensor("\(group.path == "/" ? "" : group.path)/\(member)")
        }
    }
}

extension HDF5 {
    /// Runs `body` with a temporary path in `path`'s folder, then fsyncs that file and renames it over `path`.
    /// On failure the temporary file is removed and `path` is untouched. (HDF5 writes files by name, so this cannot
    /// go through `AtomicFile`'s byte writer; it follows the same steps.)
    public static func writeAtomically(path: String, _ body: (String) throws -> Void) throws {
        try AtomicFile.write(path: path, throughTemporaryPath: body)
    }
}
