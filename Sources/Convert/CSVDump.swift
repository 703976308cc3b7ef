import ModelFormat

// Placeholder until this format lands; replaced wholesale by its implementation.
public enum CSVDump {
    public static func read(path: String, options: ReadOptions) throws -> Model { throw ModelError.unsupported("CSVDump is not implemented yet") }
    public static func write(_ model: Model, path: String, options: WriteOptions) throws { throw ModelError.unsupported("CSVDump is not implemented yet") }
}
