import Foundation
import Testing
import ModelFormat
import ModelHDF5

@Suite struct HDF5LayoutTests {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("modelkit-h5-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// `.mkf → .h5 → .mkf` gives the golden file's bytes back, for every golden model (f16/bf16, optimizer with
    /// AMSGrad slots, training state with a u64 RNG word, NaN/-0/∞ metadata).
    @Test(arguments: ["dense-f32", "checkpoint-f64", "half-precision"])
    func mkfToH5ToMkfIsBitForBit(name: String) throws {
        let directory = try Self.temporaryDirectory()
        let golden = Fixtures.path("mkf/v1/\(name).mkf")
        let model = try MKFFile.read(path: golden)
        for compress in [false, true] {
            let h5 = directory.appendingPathComponent("\(name)-\(compress).h5").path
            try HDF5Layout.write(model, path: h5, compress: compress)
            let back = try HDF5Layout.read(path: h5)
            // Model's == compares metadata floats with ==, so NaN never equals itself; compare its JSON instead.
            #expect(Model(architecture: back.architecture, weights: back.weights, optimizer: back.optimizer, training: back.training)
                    == Model(architecture: model.architecture, weights: model.weights, optimizer: model.optimizer, training: model.training))
            #expect(HeaderSchema.json(back.metadata).text == HeaderSchema.json(model.metadata).text)
            let mkf = directory.appendingPathComponent("\(name)-\(compress).mkf").path
            try MKFFile.write(back, path: mkf)
            #expect(try Self.bytes(mkf) == Self.bytes(golden))
        }
    }

    @Test func outputIsDeterministic() throws {
        let directory = try Self.temporaryDirectory()
        let model = try MKFFile.read(path: Fixtures.path("mkf/v1/checkpoint-f64.mkf"))
        for compress in [false, true] {
            let a = directory.appendingPathComponent("a.h5").path, b = directory.appendingPathComponent("b.h5").path
            try HDF5Layout.write(model, path: a, compress: compress)
            try HDF5Layout.write(model, path: b, compress: compress)
            #expect(try Self.bytes(a) == Self.bytes(b))
        }
    }

    @Test func compressionShrinksRepetitiveTensors() throws {
        let directory = try Self.temporaryDirectory()
        let architecture = Architecture(inputShape: [256], layers: [Layer(name: "dense", kind: .dense(DenseConfig(units: 256)))])
        let model = Model(architecture: architecture, weights: [
            "dense/kernel": Tensor.zeros(dtype: .f32, shape: [256, 256]), "dense/bias": Tensor.zeros(dtype: .f32, shape: [256]),
        ])
        let plain = directory.appendingPathComponent("plain.h5").path, packed = directory.appendingPathComponent("packed.h5").path
        try HDF5Layout.write(model, path: plain)
        try HDF5Layout.write(model, path: packed, compress: true)
        #expect(try Self.bytes(packed).count * 10 < Self.bytes(plain).count)
        #expect(try HDF5Layout.read(path: packed) == model)
    }

    /// Flipping one byte of a tensor's data is caught by its CRC32C and named.
    @Test func damagedTensorIsNamed() throws {
        let directory = try Self.temporaryDirectory()
        let model = try MKFFile.read(path: Fixtures.path("mkf/v1/dense-f32.mkf"))
        let path = directory.appendingPathComponent("m.h5").path
        try HDF5Layout.write(model, path: path)
        var bytes = try Self.bytes(path)
        let needle = Array(model.weights["dense_1/kernel"]!.bytes)
        let at = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
        bytes[at + 1] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: ModelError.checksumMismatch(what: "dense_1/kernel", offset: at)) { try HDF5Layout.check(path: path) }
        // Without verification the damaged values load (so `--no-verify` can rescue a file).
        #expect(try HDF5Layout.read(path: path, verifyChecksums: false).weights["dense_1/kernel"] != model.weights["dense_1/kernel"])
    }

    @Test func truncatedFileIsAnErrorWithHDF5sMessage() throws {
        let directory = try Self.temporaryDirectory()
        let model = try MKFFile.read(path: Fixtures.path("mkf/v1/checkpoint-f64.mkf"))
        let path = directory.appendingPathComponent("m.h5").path
        try HDF5Layout.write(model, path: path)
        let bytes = try Self.bytes(path)
        for keep in [0, 7, 100, bytes.count / 2, bytes.count - 1] {
            let cut = directory.appendingPathComponent("cut-\(keep).h5").path
            try Data(bytes.prefix(keep)).write(to: URL(fileURLWithPath: cut))
            do {
                _ = try HDF5Layout.read(path: cut)
                Issue.record("a file cut to \(keep) bytes loaded")
            } catch let error as ModelError {
                // Where (opening which file), then libhdf5's own account: no signature in a file cut before the end
                // of its 8-byte signature, else a superblock that claims more bytes than the file has.
                guard case .format(let message) = error else { Issue.record("cut to \(keep) bytes: \(error)"); continue }
                #expect(message.hasPrefix("HDF5: opening \(cut): H5Fopen(): unable to open file"), "cut to \(keep) bytes: \(message)")
                if keep < 8 {
                    #expect(message.contains("file signature not found"), "cut to \(keep) bytes: \(message)")
                } else {
                    #expect(message.contains("truncated file: eof = \(keep),") && message.hasSuffix("stored_eof = \(bytes.count)"),
                            "cut to \(keep) bytes: \(message)")
                }
            }
        }
    }

    @Test func failedWriteLeavesTheTargetAlone() throws {
        let directory = try Self.temporaryDirectory()
        let path = directory.appendingPathComponent("m.h5").path
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
        var broken = try MKFFile.read(path: Fixtures.path("mkf/v1/dense-f32.mkf"))
        broken.weights["dense/bias"] = nil
        #expect(throws: ModelError.missingTensor("dense/bias")) { try HDF5Layout.write(broken, path: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["m.h5"])
    }
}

@Suite struct HDF5LayoutNamesTests {
    /// Metadata keys are free text; every one must survive (as attributes where HDF5 allows the name, and always in
    /// the JSON).
    @Test func oddMetadataKeysRoundTrip() throws {
        let directory = try HDF5LayoutTests.temporaryDirectory()
        var model = try MKFFile.read(path: Fixtures.path("mkf/v1/dense-f32.mkf"))
        model.metadata = ["a/b": .string("slash"), "": .integer(1), "x.y": .float(0.5), "ünï ✓": .bool(false), " ": .string(""),
                          ".": .integer(2), "metadata_json": .string("collides with nothing")]
        let path = directory.appendingPathComponent("m.h5").path
        try HDF5Layout.write(model, path: path)
        let back = try HDF5Layout.read(path: path)
        #expect(back.metadata == model.metadata)
    }
}

extension HDF5LayoutNamesTests {
    /// Layer names are any non-empty text without '/': HDF5 link names take them all, '.' included.
    @Test(arguments: ["..", " ", "ünï ✓", "dense:0", "a.b"])
    func oddLayerNamesRoundTrip(name: String) throws {
        let directory = try HDF5LayoutTests.temporaryDirectory()
        let model = Model(architecture: Architecture(inputShape: [2], layers: [Layer(name: name, kind: .dense(DenseConfig(units: 1)))]),
                          weights: ["\(name)/kernel": Tensor([1, 2] as [Float], shape: [2, 1]), "\(name)/bias": Tensor([3] as [Float], shape: [1])])
        let path = directory.appendingPathComponent("m.h5").path
        try HDF5Layout.write(model, path: path)
        #expect(try HDF5Layout.read(path: path) == model)
    }

    @Test func aLayerNamedDotIsRefusedBeforeWriting() throws {
        let directory = try HDF5LayoutTests.temporaryDirectory()
        let model = Model(architecture: Architecture(inputShape: [2], layers: [Layer(name: ".", kind: .dropout(rate: 0))]), weights: [:])
        #expect(throws: ModelError.self) { try HDF5Layout.write(model, path: directory.appendingPathComponent("m.h5").path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }
}

extension HDF5LayoutNamesTests {
    /// Numbers equal to a heap collection's address (2048 is where the first one usually sits) must not be mistaken
    /// for variable-length descriptors by the pre-open checks.
    @Test(arguments: [Int64(2048), 4096, 8656, 6144])
    func integersEqualToHeapAddressesAreNotDescriptors(value: Int64) throws {
        let directory = try HDF5LayoutTests.temporaryDirectory()
        var model = try MKFFile.read(path: Fixtures.path("mkf/v1/checkpoint-f64.mkf"))
        model.optimizer?.iteration = value
        model.training?.step = value
        model.training?.epoch = value
        model.training?.positionInEpoch = 1
        model.training?.rng.state = [UInt64(value), 1, UInt64(value), 2]
        model.metadata["a"] = .integer(value)
        model.metadata["b"] = .integer(1)
        let path = directory.appendingPathComponent("m.h5").path
        try HDF5Layout.write(model, path: path)
        #expect(try HDF5Layout.read(path: path).optimizer?.iteration == value)
    }
}
