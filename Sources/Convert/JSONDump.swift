import ModelFormat

// Placeholder until this format lands; replaced wholesale by its implementation.
public enum JSONDump {
    public static func read(path: String, options: ReadOptions) throws -> Model { throw ModelError.unsupported("JSONDump is not implemented yet") }
    public static func write(_ model: Model, path: String, options: WriteOptions) throws { throw ModelError.unsupported("JSONDump is not implemented yet") }
}
