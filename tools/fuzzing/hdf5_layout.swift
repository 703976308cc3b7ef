import Convert
import ModelFormat

// libhdf5: isolated
// seeds: Fixtures/fuzz/hdf5_layout/* Fixtures/h5/*.h5 Fixtures/bad/h5/*
/// Arbitrary bytes as ModelKit's HDF5 layout: loading must throw or return, never crash, hang or over-allocate.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    withTemporaryFile(data, size, suffix: ".h5") { path in
        let options = ReadOptions()
        _ = try? ModelFiles.load(path: path, format: .h5, options: options)
    }
    return 0
}
