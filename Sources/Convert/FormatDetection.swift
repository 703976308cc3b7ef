import ModelFormat

// Placeholder: extension only. Replaced by content-confirming detection.
enum FormatDetection {
    static func detect(path: String) throws(ModelError) -> FileFormat {
        let lower = path.lowercased()
        if lower.hasSuffix(".mkf") { return .mkf }
        if lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") { return .h5 }
        if lower.hasSuffix(".keras") { return .keras }
        if lower.hasSuffix(".safetensors") { return .safetensors }
        if lower.hasSuffix(".npz") { return .npz }
        if lower.hasSuffix(".json") { return .json }
        if lower.hasSuffix(".onnx") { return .onnx }
        throw ModelError.unsupported("cannot tell the format of '\(path)' from its name; use --from")
    }
}
