import Convert
import ModelFormat

// reads: npz
// seeds: Fixtures/npz/*.npz Fixtures/bad/npz/*
/// Arbitrary bytes as a NumPy .npz archive: loading must throw or return, never crash, hang or over-allocate.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    withTemporaryFile(data, size, suffix: ".npz") { path in
        let options = ReadOptions()
        _ = try? ModelFiles.load(path: path, format: .npz, options: options)
    }
    return 0
}
