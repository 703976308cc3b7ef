import Convert
import ModelFormat

// seeds: Fixtures/bad/csv/*/*.csv
/// Arbitrary bytes as a numeric CSV matrix (the --input/--x/--y reader and each tensor file of a CSV dump).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    withTemporaryFile(data, size, suffix: ".csv") { path in
        _ = try? NumericCSV.readMatrix(path: path)
    }
    return 0
}
