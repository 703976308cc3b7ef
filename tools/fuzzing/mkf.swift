import ModelFormat

// reads: mkf
// seeds: Fixtures/mkf/v1/*.mkf Fixtures/bad/mkf/*
/// Arbitrary bytes to the .mkf reader: it must throw or return, never crash, hang or over-allocate.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    _ = try? MKFFile.decode(bytes, owner: nil, verifyChecksums: true)
    return 0
}
