import Convert
import ModelFormat

// libhdf5: isolated
// reads: keras
// seeds: Fixtures/keras/*/model.keras Fixtures/bad/keras/*
/// Arbitrary bytes as a Keras 3 .keras zip: loading must throw or return, never crash, hang or over-allocate.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    withTemporaryFile(data, size, suffix: ".keras") { path in
        let options = ReadOptions()
        _ = try? ModelFiles.load(path: path, format: .keras, options: options)
    }
    return 0
}
