import ModelFormat

// Placeholder until this format lands; replaced wholesale by its implementation.
public enum ONNXExport {
    public static func write(_ model: Model, path: String, options: WriteOptions) throws { throw ModelError.unsupported("ONNXExport is not implemented yet") }
}
