import Convert
import ModelFormat

// libhdf5: isolated
// seeds: Fixtures/keras/*/model.h5 Fixtures/bad/h5/*
/// Arbitrary bytes as a Keras legacy .h5 file: loading must throw or return, never crash, hang or over-allocate.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    withTemporaryFile(data, size, suffix: ".h5") { path in
        let options = ReadOptions()
        _ = try? ModelFiles.load(path: path, format: .kerasH5, options: options)
    }
    return 0
}
