// Placeholder: the .mkf v1 reader and writer land next (spec/binary-format.md).
public enum MKFFile {
    public static func read(path: String, verifyChecksums: Bool = true) throws -> Model {
        throw ModelError.unsupported(".mkf is not implemented yet")
    }
    public static func write(_ model: Model, path: String) throws {
        throw ModelError.unsupported(".mkf is not implemented yet")
    }
}
