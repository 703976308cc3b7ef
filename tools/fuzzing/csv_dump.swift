import Convert
import Foundation
import ModelFormat

// reads: csv
// seeds: Fixtures/fuzz/csv_dump/*
/// Arbitrary bytes as a ModelKit CSV dump (a folder): the input is NUL-separated parts, manifest.csv, model.json, then
/// pairs of a file name and its contents. Loading the folder must throw or return, never crash, hang or over-allocate.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let parts = UnsafeBufferPointer(start: data, count: size).split(separator: 0, omittingEmptySubsequences: false)
    var files: [(String, ArraySlice<UInt8>)] = []
    if parts.count > 0 { files.append((CSVDump.manifestName, ArraySlice(parts[0]))) }
    if parts.count > 1 { files.append((CSVDump.stateName, ArraySlice(parts[1]))) }
    var i = 2
    while i + 1 < parts.count {
        // Names the fuzzer makes up that cannot be a file in the folder are skipped; the reader refuses them itself.
        if let name = String(validating: parts[i], as: UTF8.self), !name.isEmpty, name.utf8.count <= 64, !name.contains("/"),
           name != ".", name != ".." {
            files.append((name, ArraySlice(parts[i + 1])))
        }
        i += 2
    }
    let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let folder = "\(dir)/modelkit-fuzz-\(getpid())-dump"
    try? FileManager.default.removeItem(atPath: folder)
    guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)) != nil else { return 0 }
    for (name, bytes) in files {
        FileManager.default.createFile(atPath: "\(folder)/\(name)", contents: Data(bytes))
    }
    _ = try? ModelFiles.load(path: folder, format: .csv, options: ReadOptions())
    try? FileManager.default.removeItem(atPath: folder)
    return 0
}
