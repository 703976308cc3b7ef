import Foundation
import Testing
@testable import Convert
import ModelFormat

@Suite struct NPZTests {
    @Test(arguments: [DType.f32, .f64, .f16, .bf16])
    func roundTripLosesNothing(dtype: DType) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = TestModels.checkpoint(dtype)
        try ModelFiles.save(model, path: "\(dir)/m.npz", format: .npz)
        #expect(try ModelFiles.load(path: "\(dir)/m.npz", format: .npz) == model)
        // Deterministic: saving again gives the same bytes.
        let first = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/m.npz"))
        try ModelFiles.save(model, path: "\(dir)/m.npz", format: .npz)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/m.npz")) == first)
    }

    func npy(_ dict: String, data: [UInt8], version: UInt8 = 1) -> [UInt8] {
        var header = dict
        let prefix = version == 1 ? 10 : 12
        header += String(repeating: " ", count: (64 - (prefix + header.utf8.count + 1) % 64) % 64) + "\n"
        let n = header.utf8.count
        let length: [UInt8] = version == 1 ? [UInt8(n & 0xff), UInt8(n >> 8)] : [UInt8(n & 0xff), UInt8(n >> 8), 0, 0]
        return NPY.magic + [version, 0] + length + Array(header.utf8) + data
    }

    func decode(_ bytes: [UInt8]) throws -> Tensor { try bytes.withUnsafeBytes { try NPY.decode($0, source: "a.npy") } }

    @Test func headerIsWhatNumpyWrites() {
        let h = NPY.header(dtype: .f32, shape: [4, 16])
        #expect(h.count % 64 == 0)
        #expect(String(decoding: h[10...], as: UTF8.self).hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 16), }"))
        #expect(String(decoding: NPY.header(dtype: .f64, shape: [3])[10...], as: UTF8.self).contains("'shape': (3,), }"))
        #expect(String(decoding: NPY.header(dtype: .f64, shape: [])[10...], as: UTF8.self).contains("'shape': (), }"))
    }

    @Test func readsFortranOrderBigEndianAndVersion2() throws {
        // [[1, 2, 3], [4, 5, 6]] stored column by column.
        let columns: [Float] = [1, 4, 2, 5, 3, 6]
        let t = try decode(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data: columns.withUnsafeBytes { Array($0) }))
        #expect(t.shape == [2, 3] && t.floats() == [1, 2, 3, 4, 5, 6])
        let big: [UInt8] = [0x3F, 0xF0, 0, 0, 0, 0, 0, 0]  // 1.0 as big-endian f64
        #expect(try decode(npy("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", data: big)).doubles() == [1])
        #expect(try decode(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (), }", data: [7, 0, 0, 0], version: 2)).doubles() == [7])
    }

    @Test func damagedArraysAreRefused() {
        func error(_ bytes: [UInt8]) -> ModelError? { do { _ = try decode(bytes); return nil } catch { return error as? ModelError } }
        let four: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0]
        if case .badMagic = error([0x93] + Array("NUMPX".utf8) + [1, 0, 0, 0]) {} else { Issue.record("bad magic accepted") }
        #expect(error(NPY.magic + [9, 0, 0, 0]) == .unsupportedVersion(format: ".npy (a.npy)", found: "9.0", supported: "1.0, 2.0, 3.0"))
        #expect(error(NPY.magic + [1, 0, 0xff, 0x7f]) == .truncated(offset: 10, needed: 0x7fff, available: 0, what: "a.npy header"))
        #expect(error(NPY.magic + [2, 0, 0xff, 0xff, 0xff, 0x7f]) == .headerTooLarge(size: 0x7fff_ffff, limit: 100_000))
        if case .unknownDType("<c8", _) = error(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data: four)) {} else {
            Issue.record("complex accepted")
        }
        #expect(error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data: four)) ==
                .shapeMismatch(name: "a.npy", expected: [3], detail: "'<f4' [3] needs 12 bytes of data, the array has 8"))
        // Shapes far beyond the data are refused without allocating.
        #expect(error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2000000000, 2000000000), }", data: four)) ==
                .shapeMismatch(name: "a.npy", expected: [2_000_000_000, 2_000_000_000], detail: "the size overflows"))
        #expect(error(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }", data: four)) ==
                .shapeMismatch(name: "a.npy", expected: [100_000, 100_000], detail: "'<f4' [100000, 100000] needs 40000000000 bytes of data, the array has 8"))
        for bad in ["{'descr': '<f4', 'shape': (2,), }", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
                    "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }",
                    "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"] {
            if case .invalidHeader = error(npy(bad, data: four)) {} else { Issue.record("accepted \(bad)") }
        }
    }
}
