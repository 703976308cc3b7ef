import Foundation
import Testing
import ModelFormat
import ModelHDF5

/// The root group carried creation/modification times, so two saves of one model in different seconds differed
/// (found by the SIGKILL test, which compares a killed save's target with a complete save byte for byte).
@Suite struct HDF5DeterminismTests {
    @Test func savesInDifferentSecondsGiveTheSameBytes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mk-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.h5").path, b = dir.appendingPathComponent("b.h5").path
        try HDF5Layout.write(GoldenModels.checkpointF64, path: a)
        sleep(1)
        try HDF5Layout.write(GoldenModels.checkpointF64, path: b)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
    }
}

/// The in-memory reader (a file image, used by the fuzz harnesses) gives what the file reader gives.
@Suite struct HDF5ImageTests {
    @Test func imageReadEqualsFileRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mk-\(UUID()).h5").path
        defer { unlink(path) }
        try HDF5Layout.write(GoldenModels.checkpointF64, path: path)
        let image = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try HDF5Layout.read(image: image, name: "memory.h5") == GoldenModels.checkpointF64)
        #expect(throws: (any Error).self) { try HDF5Layout.read(image: Array(image.prefix(image.count / 2)), name: "half.h5") }
    }
}
