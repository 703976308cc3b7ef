import ModelFormat

// Placeholder until this format lands; replaced wholesale by its implementation.
public enum KerasH5 {
    public static func read(path: String) throws -> Model { throw ModelError.unsupported("KerasH5 is not implemented yet") }
    public static func write(_ model: Model, path: String, options: WriteOptions) throws { throw ModelError.unsupported("KerasH5 is not implemented yet") }
}
