import Foundation
import Testing
@testable import Convert
import ModelFormat

/// The damaged and hostile HDF5 and .keras files in Fixtures/bad/{h5,keras-h5,keras} (made by
/// tools/interop/make_bad_fixtures.py), each with the exact error, or the words, it must produce through the library
/// (`ModelFiles.load`, so format detection is exercised too). The CLI catalogue test checks the same files' `.expect`.
@Suite struct BadFileTests {
    static func load(_ name: String) throws -> Model {
        try ModelFiles.load(path: KerasFixtures.path("bad/\(name)"))
    }

    /// Files whose error is one exact `ModelError`.
    static let exact: [(String, ModelError)] = [
        ("keras-h5/shape-disagrees.h5", .shapeMismatch(name: "hidden1/kernel", expected: [4, 9], detail: "/model_weights/hidden1/sequential/hidden1/kernel has shape [4, 8]")),
        ("keras-h5/unknown-layer.h5", .shapeMismatch(name: "hidden2/kernel", expected: [], detail: "layer 'hidden2' of Keras class 'Conv1D' needs a rank-3 kernel, the file holds shape [8, 6]")),
        ("keras-h5/huge-unwritten-kernel.h5", .truncated(offset: 0, needed: 6 << 30, available: 0, what: "data of tensor 'probs/kernel' (/model_weights/probs/sequential/probs/kernel)")),
        ("h5/version-2.h5", .unsupportedVersion(format: "ModelKit HDF5 layout", found: "int(2)", supported: "1")),
        ("h5/missing-tensor.h5", .missingTensor("dense_1/bias")),
        ("h5/extra-tensor.h5", .unexpectedTensor("/weights/dense/extra")),
        ("h5/shape-disagrees.h5", .shapeMismatch(name: "dense/bias", expected: [2], detail: "/weights/dense/bias has shape [3]")),
        ("h5/dtype-attribute-lies.h5", .unknownDType("f16", location: "/weights/dense/kernel: the dataset holds 32-bit float, not f16")),
        ("h5/architecture-not-a-string.h5", .invalidHeader(offset: 0, message: "/architecture@architecture_json must be a string")),
        ("h5/attribute-disagrees.h5", .invalidHeader(offset: 0, message: "/architecture/layers/dense@units is int(5) but the JSON says int(2)")),
    ]

    @Test(arguments: exact.map(\.0))
    func exactError(name: String) throws {
        let expected = Self.exact.first { $0.0 == name }!.1
        #expect(throws: expected) { try Self.load(name) }
    }

    /// Files whose message must name the thing that is wrong (HDF5's or ZIPFoundation's own words follow).
    static let named: [(String, [String])] = [
        ("keras-h5/truncated.h5", ["HDF5", "truncated file"]),
        ("h5/global-heap-free-space-of-size-zero.h5", ["corrupt global heap at byte 2048", "size 0"]),
        ("h5/global-heap-object-past-collection-end.h5", ["corrupt global heap at byte 2048", "past the collection's end"]),
        ("keras-h5/vlen-length-forged.h5", ["corrupt variable-length data", "claims 3707764755 elements", "holds 19 bytes"]),
        ("keras-h5/config-not-a-string.h5", ["model_config", "must be a string"]),
        ("keras-h5/config-bad-json.h5", ["model_config:2:", "expected a value"]),
        ("keras-h5/no-model-weights.h5", ["/model_weights", "missing"]),
        ("keras-h5/missing-layer-group.h5", ["/model_weights/probs", "layer_names"]),
        ("keras-h5/kernel-is-text.h5", ["hidden2/kernel", "floating point"]),
        ("keras-h5/unknown-optimizer-variable.h5", ["sequential_mystery_kernel_momentum"]),
        ("keras/truncated.keras", ["not a readable zip"]),
        ("keras/dotdot.keras", ["../evil.txt", ".."]),
        ("keras/no-weights.keras", ["model.weights.h5"]),
        ("keras/weights-not-hdf5.keras", ["model.weights.h5", "signature"]),
        ("keras/bomb.keras", ["zip bomb"]),
        ("keras/bomb-forged-size.keras", ["inflates past its declared 4096 bytes"]),
    ]

    @Test(arguments: named.map(\.0))
    func errorNamesTheProblem(name: String) throws {
        let words = Self.named.first { $0.0 == name }!.1
        do {
            _ = try Self.load(name)
            Issue.record("\(name) loaded")
        } catch let error as ModelError {
            for word in words { #expect(error.description.contains(word), "\(name): \(error)") }
        }
    }

    /// Files that still crash libhdf5 1.10 in process (a forged object index in a variable-length descriptor makes
    /// H5HG_read index past its table; telling a forged index from tensor bytes would refuse valid files). Only the
    /// CLI, which reads HDF5 in a child process, is tested with them (BadFileCatalogueTests): exit 1, a message.
    static let crashLibHDF5InProcess = ["keras-h5/vlen-index-forged.h5"]

    @Test func everyFixtureIsCatalogued() throws {
        let files = try ["h5", "keras-h5", "keras"].flatMap { folder in
            try FileManager.default.contentsOfDirectory(atPath: KerasFixtures.path("bad/\(folder)"))
                .filter { !$0.hasSuffix(".expect") }.map { "\(folder)/\($0)" }
        }.sorted()
        #expect(files == (Self.exact.map(\.0) + Self.named.map(\.0) + Self.crashLibHDF5InProcess).sorted())
    }

    /// Cutting a Keras file or one of ours anywhere gives an error, never a crash.
    @Test func everyTruncationIsAnError() throws {
        let directory = try KerasFixtures.temporaryDirectory()
        for source in ["keras/rmsprop-batchnorm/model.h5", "keras/rmsprop-batchnorm/model.keras"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: KerasFixtures.path(source)))
            let ext = (source as NSString).pathExtension
            for keep in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 40)) {
                let cut = directory.appendingPathComponent("cut-\(keep).\(ext)").path
                try bytes.prefix(keep).write(to: URL(fileURLWithPath: cut))
                #expect(throws: ModelError.self, "\(source) cut at \(keep)") { try ModelFiles.load(path: cut) }
            }
        }
    }
}
