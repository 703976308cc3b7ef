import Convert
import ModelFormat

// libhdf5: isolated
// reads: keras-h5
// seeds: Fixtures/keras/*/model.h5 Fixtures/bad/h5/*
/// Arbitrary bytes, as an in-memory HDF5 file image, as a Keras legacy .h5 file: loading must throw or return, never crash, hang or over-allocate.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    // Through a file image (HDF5's core driver): no temporary file.
    let image = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? KerasH5.read(image: image, name: "fuzz.h5")
    return 0
}
