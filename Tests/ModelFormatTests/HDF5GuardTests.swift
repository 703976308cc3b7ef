import Foundation
import Testing
import ModelFormat
import ModelHDF5

/// The checks on HDF5 bytes before libhdf5 sees them (HDF5Guard.swift), on files found by fuzzing.
@Suite struct HDF5GuardTests {
    /// Found by tools/fuzz (keras_h5): a global heap object claiming 2^64 − 12 bytes overflowed the guard's own size
    /// arithmetic (a trap, killing the reading process) before the check that refuses an object past its collection.
    @Test func heapObjectSizeNear2To64IsRefused() throws {
        let path = Fixtures.path("fuzz/regressions/keras-h5-global-heap-object-size-overflow.h5")
        let image = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func error(_ source: String) -> ModelError {
            .format("HDF5: \(source): corrupt global heap at byte 7110: object 11 at byte 7558 claims 18446744073709551604 bytes, past the collection's end at byte 11206")
        }
        #expect(throws: error("fuzz.h5")) { try HDF5Layout.read(image: image, name: "fuzz.h5") }
        #expect(throws: error(path)) { try HDF5Layout.read(path: path) }
    }
}
