import ModelFormat

// Placeholder until this format lands; replaced wholesale by its implementation.
public enum KerasZip {
    public static func read(path: String) throws -> Model { throw ModelError.unsupported("KerasZip is not implemented yet") }
}
