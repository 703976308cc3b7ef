import Foundation
import ModelFormat
import ModelHDF5
import ZIPFoundation

/// Keras 3 `.keras` zips: `config.json` (the model config, with `compile_config` for the loss and, when Keras recorded
/// it, the optimizer), `metadata.json`, and `model.weights.h5` with `layers/<name>/vars/<i>` (the `vars` group's
/// `name` attribute is the layer's name) and `optimizer/vars/<i>` (0 = iteration, 1 = learning rate, then the slots
/// in Keras's build order). The weights file is opened in memory (an HDF5 file image); nothing is extracted to disk.
public enum KerasZip {
    public static func read(path: String) throws -> Model { try read(path: path, options: ReadOptions()) }

    public static func read(path: String, options: ReadOptions) throws -> Model {
        let zip = try SafeZip(path: path)
        let configText = String(decoding: try zip.read("config.json", limit: 64 << 20), as: UTF8.self)
        let configJSON = try KerasConfig.parse(configText, source: "\(path):config.json")
        var parsed: KerasConfig.Parsed? = nil
        do { parsed = try KerasConfig.model(configJSON, source: "config.json") } catch let error as ModelError {
            // Layers the engine lacks: kept verbatim as a graph (KerasGraph.swift).
            guard case .unsupported = error, KerasGraph.keepsAsGraph(configJSON) else { throw error }
        }
        let weightsImage = try zip.read("model.weights.h5", limit: SafeZip.maxMemberBytes)
        var metadata: Metadata = [:]
        if zip.members.contains("metadata.json") {
            let meta = try KerasConfig.parse(String(decoding: try zip.read("metadata.json", limit: 1 << 20), as: UTF8.self), source: "metadata.json")
            if case .string(let version)? = meta["keras_version"] { metadata["keras_version"] = .string(version) }
        }

        let compile = configJSON["compile_config"] ?? .null
        var loss: Loss? = nil
        if let l = compile["loss"], l != .null { loss = try KerasConfig.loss(l) }
        let optimizerJSON = compile["optimizer"].flatMap { $0 == .null ? nil : $0 }
        guard let config = parsed else {
            return try HDF5.locked {
                let root = try H5File.open(image: weightsImage, name: "\(path):model.weights.h5").root()
                return try KerasGraph.readZip(root: root, configJSON: configJSON, loss: loss, optimizerJSON: optimizerJSON,
                                              metadata: metadata, options: options)
            }
        }

        return try HDF5.locked {
            let root = try H5File.open(image: weightsImage, name: "\(path):model.weights.h5").root()
            let weights = try readWeights(root, config.architecture)
            var optimizer: OptimizerState? = nil
            if try root.has("optimizer/vars") {
                optimizer = try readOptimizer(try root.group("optimizer/vars"), architecture: config.architecture,
                                              configured: optimizerJSON, options: options)
            }
            let training = loss.map { TrainingState(loss: $0, step: optimizer?.iteration ?? 0, batchSize: 32) }
            let model = Model(architecture: config.architecture, weights: weights, optimizer: optimizer, training: training, metadata: metadata)
            try model.validate()
            return model
        }
    }

    static func readWeights(_ root: H5Group, _ architecture: Architecture) throws -> [String: Tensor] {
        let specs = architecture.parameters
        let layersGroup = try root.group("layers")
        // Map each stored layer group to its layer name (the `name` attribute Keras writes on `vars`).
        var groupByLayer: [String: String] = [:]
        for member in try layersGroup.members() {
            let group = try layersGroup.group(member)
            var name = member
            if try group.has("vars"), try group.group("vars").hasAttribute("name"), case .string(let n) = try group.group("vars").attribute("name") { name = n }
            else if try group.hasAttribute("name"), case .string(let n) = try group.attribute("name") { name = n }
            guard groupByLayer[name] == nil else { throw ModelError.duplicateName("layers/\(member) (layer '\(name)' stored twice)") }
            groupByLayer[name] = member
            let stored = try group.has("vars") ? try group.group("vars").members().count : 0
            let expected = specs.filter { $0.layer == name }.count
            if stored != expected {
                guard architecture.layers.contains(where: { $0.name == name }) else {
                    throw ModelError.unexpectedTensor("layers/\(member) (weights of '\(name)', which config.json does not have)")
                }
                throw ModelError.shapeMismatch(name: name, expected: [expected], detail: "layers/\(member)/vars holds \(stored) variables, the layer has \(expected)")
            }
        }
        var weights: [String: Tensor] = [:]
        for layer in architecture.layers {
            let layerSpecs = specs.filter { $0.layer == layer.name }
            guard !layerSpecs.isEmpty else { continue }
            guard let member = groupByLayer[layer.name] else { throw ModelError.missingTensor("\(layer.name)/* (model.weights.h5 has no group for layer '\(layer.name)')") }
            let vars = try layersGroup.group("\(member)/vars")
            for (i, spec) in layerSpecs.enumerated() {
                weights[spec.fullName] = try KerasH5.readFloatTensor(vars, "\(i)", name: spec.fullName, shape: spec.shape)
            }
        }
        return weights
    }

    /// `optimizer/vars`: iteration, learning rate, then slots in the order Keras 3 builds them:
    /// Adam `momentum, velocity` per parameter, then every `velocity_hat` (AMSGrad); SGD `momentum` per parameter;
    /// RMSprop every `velocity`, then every `momentum`, then every `average_gradient`.
    static func readOptimizer(_ vars: H5Group, architecture: Architecture, configured: JSONValue?, options: ReadOptions) throws -> OptimizerState? {
        try readOptimizer(vars, trainable: architecture.parameters.filter(\.trainable), configured: configured, options: options)
    }

    /// The same for the given trainable parameters, in the model's order (a graph's weights, KerasGraph.swift).
    static func readOptimizer(_ vars: H5Group, trainable: [ParameterSpec], configured: JSONValue?, options: ReadOptions) throws -> OptimizerState? {
        let count = try vars.members().count
        guard count >= 2 else { throw ModelError.missingTensor("optimizer/vars/0 and /1 (iteration and learning rate)") }
        let iteration = try KerasH5.readScalar(vars, "0").int
        guard iteration >= 0 else { throw ModelError.invalidValue(field: "optimizer iteration", message: "\(iteration) is negative") }
        let learningRate = try KerasH5.readScalar(vars, "1").double
        let slotCount = count - 2
        let t = trainable.count

        var config: OptimizerConfig
        var unrecorded: UnrecordedSettings? = nil
        if let configured {
            config = try KerasConfig.optimizer(configured, learningRate: learningRate)
        } else {
            var name = "optimizer"
            if try vars.hasAttribute("name"), case .string(let n) = try vars.attribute("name") { name = n }
            let kindName = name.replacingOccurrences(of: "_", with: "").trimmingCharacters(in: .decimalDigits)
            let kind = try KerasConfig.optimizerKind(className: kindName)
            (config, unrecorded) = try assumedSettings(kind, learningRate: learningRate, slotCount: slotCount,
                                                      trainable: t, source: source(options))
        }
        let names = config.slotNames
        guard slotCount == names.count * t else {
            throw ModelError.shapeMismatch(name: "optimizer/vars", expected: [names.count * t + 2],
                                           detail: "\(config.kindName) with slots \(names) for \(t) trainable parameters needs \(names.count * t + 2) variables, the file has \(count)")
        }
        var slots: [String: [String: Tensor]] = [:]
        for (i, spec) in trainable.enumerated() {
            for (j, slot) in names.enumerated() {
                let index: Int
                switch config {
                case .adam: index = slot == "velocity_hat" ? 2 + 2 * t + i : 2 + 2 * i + j
                case .sgd, .rmsprop: index = 2 + j * t + i
                }
                slots[spec.fullName, default: [:]][slot] = try KerasH5.readFloatTensor(vars, "\(index)", name: "optimizer/\(spec.fullName)/\(slot)", shape: spec.shape)
            }
        }
        return OptimizerState(config: config, iteration: iteration, slots: slots, unrecorded: unrecorded)
    }

    /// The name messages use for the file being read.
    static func source(_ options: ReadOptions) -> String { options.sourceName ?? "the .keras file" }

    /// config.json without the optimizer: the kind (from the variables' group name), the learning rate and the
    /// number of slot tensors are all the file says. What the slot count settles is recorded (Adam's `amsgrad`,
    /// whether SGD keeps momentum); every other setting is assumed, listed in `unrecorded`, and must be given with
    /// `--optimizer` before the state is used.
    static func assumedSettings(_ kind: KerasConfig.OptimizerKind, learningRate: Double, slotCount: Int, trainable t: Int,
                                source: String) throws -> (OptimizerConfig, UnrecordedSettings?) {
        let perParameter = t > 0 && slotCount % t == 0 ? slotCount / t : -1
        func unrecorded(_ keys: [String], _ assumption: String) -> UnrecordedSettings {
            UnrecordedSettings(source: source, keys: keys, assumption: assumption)
        }
        switch (kind, perParameter) {
        case (.adam, 2), (.adam, 3):
            return (.adam(AdamConfig(learningRate: learningRate, amsgrad: perParameter == 3, formulation: .keras)),
                    unrecorded(["beta1", "beta2", "epsilon"], "Keras's defaults"))
        case (.sgd, 0):
            // No momentum slots: Keras's SGD keeps none exactly when momentum is 0, and nesterov then changes nothing.
            return (.sgd(SGDConfig(learningRate: learningRate, formulation: .keras)), nil)
        case (.sgd, 1):
            return (.sgd(SGDConfig(learningRate: learningRate, momentum: 0.9, nesterov: false, formulation: .keras)),
                    unrecorded(["momentum", "nesterov"], "0.9 is a common momentum; nesterov=false is Keras's default"))
        case (.rmsprop, 1):
            return (.rmsprop(RMSpropConfig(learningRate: learningRate)), unrecorded(["rho", "epsilon"], "Keras's defaults"))
        case (.rmsprop, 2):
            // The second slot is `momentum` (momentum > 0) or `average_gradient` (centered): the file cannot say which.
            return (.rmsprop(RMSpropConfig(learningRate: learningRate, momentum: 0.9)),
                    unrecorded(["rho", "momentum", "epsilon", "centered"], "Keras's defaults, and 0.9 as a common momentum"))
        case (.rmsprop, 3):
            return (.rmsprop(RMSpropConfig(learningRate: learningRate, momentum: 0.9, centered: true)),
                    unrecorded(["rho", "momentum", "epsilon"], "Keras's defaults, and 0.9 as a common momentum"))
        default:
            throw ModelError.shapeMismatch(name: "optimizer/vars", expected: [],
                                           detail: "\(slotCount) slot variables for \(t) trainable parameters fit no \(kind.rawValue) configuration")
        }
    }
}

/// A zip archive read defensively: member names with `..` components, absolute paths or symlinks are refused, and
/// members are decompressed only up to a cap relative to the archive's size, counting the bytes actually produced
/// (a forged size field cannot get past it).
struct SafeZip {
    /// Largest expansion accepted: stored members are 1:1 and deflated weights ~1.1:1; 200:1 only happens for
    /// mostly-constant data, and zip bombs aim far higher.
    static let maxRatio: UInt64 = 200
    /// No single member above this many bytes is read into memory.
    static let maxMemberBytes = 16 << 30

    let path: String
    let archive: Archive
    let archiveSize: UInt64
    let members: [String]

    init(path: String) throws {
        self.path = path
        archiveSize = FormatDetection.fileSize(path)
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw ModelError.format("\(path): not a readable zip archive (\(error))")
        }
        var names: [String] = []
        var total: UInt64 = 0
        for entry in archive {
            let name = entry.path
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            if name.hasPrefix("/") || name.contains("\\") || parts.contains("..") {
                throw ModelError.unsupported("\(path): zip member '\(name)' has an absolute path or a '..' component")
            }
            if entry.type == .symlink { throw ModelError.unsupported("\(path): zip member '\(name)' is a symbolic link") }
            total = total.addingReportingOverflow(entry.uncompressedSize).partialValue
            names.append(name)
        }
        let cap = (1 << 20) + archiveSize.multipliedReportingOverflow(by: Self.maxRatio).partialValue
        guard total <= cap else {
            throw ModelError.unsupported("\(path): members declare \(total) bytes uncompressed from a \(archiveSize)-byte archive (more than \(Self.maxRatio)× it: a zip bomb?)")
        }
        members = names
    }

    static func memberNames(path: String) throws(ModelError) -> [String] {
        do { return try SafeZip(path: path).members } catch let e as ModelError { throw e } catch { throw ModelError.format("\(error)") }
    }

    /// The whole member, refusing more than `limit` bytes or more than the archive-relative cap.
    func read(_ name: String, limit: Int) throws -> [UInt8] {
        guard let entry = archive[name] else { throw ModelError.missingTensor("\(path): zip member '\(name)'") }
        let cap = min(UInt64(limit), (1 << 20) + archiveSize.multipliedReportingOverflow(by: Self.maxRatio).partialValue)
        guard entry.uncompressedSize <= cap else {
            throw ModelError.unsupported("\(path): zip member '\(name)' declares \(entry.uncompressedSize) bytes (limit \(cap))")
        }
        var out: [UInt8] = []
        out.reserveCapacity(Int(entry.uncompressedSize))
        struct TooLarge: Error {}
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                guard UInt64(out.count + chunk.count) <= entry.uncompressedSize else { throw TooLarge() }
                out.append(contentsOf: chunk)
            }
        } catch is TooLarge {
            throw ModelError.unsupported("\(path): zip member '\(name)' inflates past its declared \(entry.uncompressedSize) bytes")
        } catch {
            throw ModelError.format("\(path): cannot read zip member '\(name)': \(error)")
        }
        guard UInt64(out.count) == entry.uncompressedSize else {
            throw ModelError.truncated(offset: 0, needed: Int(entry.uncompressedSize), available: out.count, what: "zip member '\(name)'")
        }
        return out
    }
}
