import Foundation
import ModelFormat
import ModelHDF5

/// The file formats ModelKit reads or writes.
public enum FileFormat: String, CaseIterable, Sendable {
    /// Native binary format (spec/binary-format.md).
    case mkf
    /// ModelKit's HDF5 layout (spec/hdf5-layout.md).
    case h5
    /// Keras legacy HDF5 (`model.save("m.h5")`).
    case kerasH5 = "keras-h5"
    /// Keras 3 zip (`.keras`).
    case keras
    case safetensors
    case npz
    /// One JSON document (spec/json-format.md).
    case json
    /// A folder with manifest.csv (spec/csv-format.md).
    case csv
    /// ONNX (export only).
    case onnx
}

/// How to read a file. `architecture` and `layout` are for files that carry weights but no architecture.
public struct ReadOptions: Sendable {
    /// Verify checksums on load (`.mkf`, our `.h5`); skipping saves a pass over the data.
    public var verifyChecksums = true
    /// Architecture for formats or dumps that have none (`--arch`).
    public var architecture: Architecture?
    /// Weight naming and orientation of foreign dumps (`--layout`).
    public var layout: WeightLayout = .keras
    /// `--optimizer`: completes the settings a file keeps optimizer state for but does not record (a `.keras` whose
    /// config.json lacks the optimizer), and must agree with every setting it records (`OptimizerState.reconciled`).
    public var optimizer: OptimizerSetting?
    /// What `--optimizer` is completing the state for, which the refusal names.
    public var optimizerUse: OptimizerUse = .resume
    /// The file's name in messages about it (default: the path).
    public var sourceName: String?
    /// Receives one line per warning about what was read.
    public var warn: @Sendable (String) -> Void = { _ in }
    /// Set by the readers that used `architecture` and `layout`, so that a caller can refuse flags that had no effect.
    public var usage = ReadUsage()
    public init() {}
}

/// What a read used of its options (shared by the copies of one `ReadOptions`).
public final class ReadUsage: @unchecked Sendable {
    // @unchecked: every access holds the lock.
    private let lock = NSLock()
    private var used = false
    public init() {}
    /// Whether a reader attached `ReadOptions.architecture` (and so `layout`) to weights that came without one.
    public var architectureUsed: Bool { lock.lock(); defer { lock.unlock() }; return used }
    func noteArchitectureUsed() { lock.lock(); used = true; lock.unlock() }
}

/// Where a foreign dump's weights come from: Keras (`[in, out]` kernels, `<layer>/kernel` names) or PyTorch
/// (`[out, in]` Linear weights, `N.weight` / `N.bias` names).
public enum WeightLayout: String, Sendable, CaseIterable {
    case keras, torch
}

public struct WriteOptions: Sendable {
    /// Chunk and deflate tensors (HDF5).
    public var compress = false
    /// Drop what the target cannot hold, with a warning, instead of refusing.
    public var allowLossy = false
    /// Receives one line per thing dropped or changed.
    public var warn: @Sendable (String) -> Void = { _ in }
    public init() {}
}

/// One place that maps a format to its reader and writer.
public enum ModelFiles {
    /// The format named by the path's extension (a directory means a CSV dump), confirmed from the content where the
    /// content can tell (magic bytes, HDF5 root attributes, zip members).
    public static func detect(path: String) throws -> FileFormat {
        if let isolation, detectionNeedsHDF5(path) { return try isolation.detect(path) }
        return try FormatDetection.detect(path: path)
    }

    /// Detects in this process, libhdf5 included, whatever isolation is installed.
    public static func detectInProcess(path: String) throws -> FileFormat {
        try FormatDetection.detect(path: path)
    }

    public static func load(path: String, format: FileFormat? = nil, options: ReadOptions = ReadOptions()) throws -> Model {
        let format = try format ?? detect(path: path)
        var options = options
        if options.sourceName == nil { options.sourceName = path }
        if let isolation, hdf5Formats.contains(format) { return try isolation.load(path, format, options) }
        return try loadInProcess(path: path, format: format, options: options)
    }

    /// Loads in this process, libhdf5 included, whatever isolation is installed.
    public static func loadInProcess(path: String, format: FileFormat, options: ReadOptions) throws -> Model {
        var options = options
        if options.sourceName == nil { options.sourceName = path }
        var model = try read(path: path, format: format, options: options)
        if let setting = options.optimizer, let state = model.optimizer {
            model.optimizer = try state.reconciled(with: setting, use: options.optimizerUse, source: options.sourceName ?? path)
        }
        return model
    }

    static func read(path: String, format: FileFormat, options: ReadOptions) throws -> Model {
        switch format {
        case .mkf: return try MKFFile.read(path: path, verifyChecksums: options.verifyChecksums)
        case .h5: return try HDF5Layout.read(path: path, verifyChecksums: options.verifyChecksums)
        case .kerasH5: return try KerasH5.read(path: path, options: options)
        case .keras: return try KerasZip.read(path: path, options: options)
        case .safetensors: return try SafetensorsFile.read(path: path, options: options)
        case .npz: return try NPZFile.read(path: path, options: options)
        case .json: return try JSONDump.read(path: path, options: options)
        case .csv: return try CSVDump.read(path: path, options: options)
        case .onnx: throw ModelError.unsupported("reading ONNX files (ModelKit exports ONNX; it does not import it)")
        }
    }

    public static func save(_ model: Model, path: String, format: FileFormat, options: WriteOptions = WriteOptions()) throws {
        var model = model
        if let state = model.optimizer, state.unrecorded != nil {
            // Writing the assumed values would record a guess as fact.
            guard options.allowLossy else { throw state.unrecordedError(use: .convert) }
            options.warn("dropped the optimizer state (\(state.config.kindName), iteration \(state.iteration), \(state.slotTensorCount) slot tensors): its \(state.unrecorded!.keys.joined(separator: ", ")) are not recorded")
            model.optimizer = nil
        }
        switch format {
        case .mkf: try MKFFile.write(model, path: path)
        case .h5: try HDF5Layout.write(model, path: path, compress: options.compress)
        case .kerasH5: try KerasH5.write(model, path: path, options: options)
        case .keras: throw ModelError.unsupported("writing .keras zips; write Keras legacy .h5 with --to keras-h5")
        case .safetensors: try SafetensorsFile.write(model, path: path, options: options)
        case .npz: try NPZFile.write(model, path: path, options: options)
        case .json: try JSONDump.write(model, path: path, options: options)
        case .csv: try CSVDump.write(model, path: path, options: options)
        case .onnx: try ONNXExport.write(model, path: path, options: options)
        }
    }
}
