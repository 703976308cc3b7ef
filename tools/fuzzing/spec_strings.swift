import ModelFormat

// seeds: Fixtures/fuzz/spec_strings/*
/// The --arch, --optimizer and --loss string parsers, and initialising whatever architecture parses (small ones).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let s = text(data, size) else { return 0 }
    if let a = try? ArchitectureSpec.parse(s), a.parameterCount < 1 << 16 {
        _ = ModelInitializer.initialize(architecture: a, seed: 1)
    }
    _ = try? OptimizerSpec.parse(s)
    _ = try? LossSpec.parse(s)
    return 0
}
