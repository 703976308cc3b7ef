import Convert
import ModelFormat

// reads: json
// seeds: Fixtures/json/*.json Fixtures/bad/json/*
/// Arbitrary bytes as a ModelKit JSON dump: loading must throw or return, never crash, hang or over-allocate.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    withTemporaryFile(data, size, suffix: ".json") { path in
        let options = ReadOptions()
        _ = try? ModelFiles.load(path: path, format: .json, options: options)
    }
    return 0
}
