import Convert
import ModelFormat

// reads: safetensors
// seeds: Fixtures/safetensors/*.safetensors Fixtures/bad/safetensors/*
/// Arbitrary bytes as a safetensors file, read with --arch 4-8relu-3 as the torch layout when it carries no architecture: loading must throw or return, never crash, hang or over-allocate.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    withTemporaryFile(data, size, suffix: ".safetensors") { path in
        var options = ReadOptions()
        options.architecture = try? ArchitectureSpec.parse("4-8relu-3")
        options.layout = .torch
        _ = try? ModelFiles.load(path: path, format: .safetensors, options: options)
    }
    return 0
}
