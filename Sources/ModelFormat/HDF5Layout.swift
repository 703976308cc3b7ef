// Placeholder until the HDF5 layout lands (spec/hdf5-layout.md); replaced wholesale by its implementation.
public enum HDF5Layout {
    public static func read(path: String, verifyChecksums: Bool = true) throws -> Model {
        throw ModelError.unsupported("the HDF5 layout is not implemented yet")
    }
    public static func write(_ model: Model, path: String, compress: Bool = false) throws {
        throw ModelError.unsupported("the HDF5 layout is not implemented yet")
    }
}
