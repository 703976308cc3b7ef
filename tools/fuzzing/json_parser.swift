import ModelFormat

// seeds: spec/*.json Fixtures/fuzz/json_parser/*
/// Strict JSON parsing and the header schema on whatever parses.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    _ = value.serialized()
    _ = try? HeaderSchema.architecture(value)
    _ = try? HeaderSchema.optimizer(value)
    _ = try? HeaderSchema.training(value)
    _ = try? HeaderSchema.metadata(value)
    if let a = value["architecture"] { _ = try? HeaderSchema.architecture(a) }
    return 0
}
