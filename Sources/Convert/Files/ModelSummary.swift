import ModelFormat

/// What `inspect` shows: structure and state without tensor data. For `.mkf` it is built from the header alone.
public struct ModelSummary: Sendable {
    public struct TensorInfo: Sendable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
    }
    public var format: FileFormat
    public var version: String?
    public var fileSize: Int?
    /// ModelKit's typed layers, when the engine can run the model.
    public var architecture: Architecture?
    /// The framework's layers, verbatim, when the model came from one.
    public var graph: LayerGraph?
    public var tensors: [TensorInfo]
    public var optimizer: OptimizerState?
    public var training: TrainingState?
    public var metadata: Metadata
}

extension ModelFiles {
    /// Summarises a file; `.mkf` reads only the header, other formats are loaded.
    public static func summary(path: String, format: FileFormat? = nil, options: ReadOptions = ReadOptions()) throws -> ModelSummary {
        let format = try format ?? detect(path: path)
        if format == .mkf {
            let h = try MKFFile.readHeader(path: path)
            return ModelSummary(format: .mkf, version: "\(h.version.major).\(h.version.minor)", fileSize: h.fileSize,
                                architecture: h.architecture, graph: h.graph,
                                tensors: h.tensors.map { ModelSummary.TensorInfo(name: $0.name, dtype: $0.dtype, shape: $0.shape) },
                                optimizer: h.optimizer, training: h.training, metadata: h.metadata)
        }
        var options = options
        options.verifyChecksums = false
        let model = try load(path: path, format: format, options: options)
        var tensors = model.weightNames.map { name in
            ModelSummary.TensorInfo(name: name, dtype: model.weights[name]!.dtype, shape: model.weights[name]!.shape)
        }
        for (parameter, slots) in (model.optimizer?.slots ?? [:]).sorted(by: { $0.key < $1.key }) {
            for (slot, t) in slots.sorted(by: { $0.key < $1.key }) {
                tensors.append(.init(name: NamedTensor.slotName(parameter: parameter, slot: slot), dtype: t.dtype, shape: t.shape))
            }
        }
        return ModelSummary(format: format, version: nil, fileSize: fileSize(path), architecture: model.engineArchitecture, graph: model.graph,
                            tensors: tensors, optimizer: model.optimizer, training: model.training, metadata: model.metadata)
    }

    /// Verifies a file completely: checksums where the format has them, then structure against the architecture.
    /// Returns a short description of what was verified; throws naming the damaged part.
    public static func check(path: String, format: FileFormat? = nil, options: ReadOptions = ReadOptions()) throws -> String {
        let format = try format ?? detect(path: path)
        var options = options
        options.verifyChecksums = true
        let model = try load(path: path, format: format, options: options)
        let count = model.weights.count + (model.optimizer?.slotTensorCount ?? 0)
        switch format {
        case .mkf, .h5: return "\(count) tensors, every checksum verified"
        default: return "\(count) tensors loaded and validated; \(format.rawValue) files carry no checksums"
        }
    }

    static func fileSize(_ path: String) -> Int? {
        (try? MappedFile(path: path))?.bytes.count
    }
}

extension FileFormat {
    /// The format an output path asks for by its extension: `.h5` is ModelKit's layout; a path without a known
    /// extension is a CSV dump folder when it ends in `/` or names an existing folder, else `.mkf`.
    public static func forOutput(path: String) -> FileFormat {
        let lower = path.lowercased()
        let table: [(String, FileFormat)] = [(".mkf", .mkf), (".h5", .h5), (".hdf5", .h5), (".keras", .keras),
                                             (".safetensors", .safetensors), (".npz", .npz), (".json", .json), (".onnx", .onnx)]
        for (ext, format) in table where lower.hasSuffix(ext) { return format }
        return .csv
    }
}
