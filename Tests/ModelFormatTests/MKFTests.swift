import Foundation
import Testing
@testable import ModelFormat

/// Builds a file around an arbitrary header text with correct checksums, so that each validation step can be
/// reached on its own (a wrong checksum would stop the reader earlier).
func craftMKF(header: String, data: [UInt8] = [], major: UInt16 = 1, minor: UInt16 = 0, tensorCRCs: [UInt32] = []) -> [UInt8] {
    let h = Array(header.utf8)
    var bytes = MKFFile.magic + MKFFile.le(major) + MKFFile.le(minor) + MKFFile.le(UInt32(0)) + MKFFile.le(UInt64(h.count)) + MKFFile.le(UInt32(0))
    let headerCRC = CRC32C.checksum(h, continuing: CRC32C.checksum(bytes))
    bytes += MKFFile.le(headerCRC) + h
    bytes += [UInt8](repeating: 0, count: MKFFile.align(bytes.count) - bytes.count)
    bytes += data
    bytes += [UInt8](repeating: 0, count: MKFFile.align(bytes.count) - bytes.count)
    var fileChecksum = CRC32C.checksum(MKFFile.le(headerCRC))
    for c in tensorCRCs { fileChecksum = CRC32C.checksum(MKFFile.le(c), continuing: fileChecksum) }
    var trailer = MKFFile.trailerMagic + MKFFile.le(UInt64(bytes.count)) + MKFFile.le(fileChecksum) + MKFFile.le(UInt32(tensorCRCs.count)) + MKFFile.le(UInt32(0))
    trailer += MKFFile.le(CRC32C.checksum(trailer))
    return bytes + trailer
}

func decode(_ bytes: [UInt8]) throws -> Model {
    try bytes.withUnsafeBytes { try MKFFile.decode($0) }
}

func expectError(_ bytes: [UInt8], _ match: (ModelError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try decode(bytes)
        Issue.record("expected an error", sourceLocation: sourceLocation)
    } catch let error as ModelError {
        #expect(match(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("not a ModelError: \(error)", sourceLocation: sourceLocation)
    }
}

let oneTensorArchitecture = #"{"input_shape":[2],"layers":[{"name":"d","type":"dense","units":1,"activation":"linear","use_bias":false}]}"#

func oneTensorHeader(_ tensor: String) -> String {
    #"{"architecture":\#(oneTensorArchitecture),"tensors":[\#(tensor)]}"#
}

@Suite struct MKFTests {
    @Test func roundTripIsBitExact() throws {
        for (name, model) in GoldenModels.all {
            let back = try decode(try MKFFile.encode(model))
            #expect(back == model, "\(name)")
        }
    }

    @Test func sameModelGivesSameBytes() throws {
        for (_, model) in GoldenModels.all {
            #expect(try MKFFile.encode(model) == MKFFile.encode(model))
        }
        let a = ModelInitializer.initialize(architecture: try ArchitectureSpec.parse("5-7relu-2"), seed: 9)
        let b = ModelInitializer.initialize(architecture: try ArchitectureSpec.parse("5-7relu-2"), seed: 9)
        #expect(try MKFFile.encode(a) == MKFFile.encode(b))
    }

    @Test func craftedFileMatchesWriter() throws {
        // The test's own encoder (craftMKF, written from the spec) and the writer agree byte for byte.
        let model = GoldenModels.denseF32
        let written = try MKFFile.encode(model)
        let header = try MKFFile.parseHeader(written.withUnsafeBytes { $0 })
        let headerLength = Int(written[16..<24].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let headerText = String(decoding: written[32..<(32 + headerLength)], as: UTF8.self)
        var data: [UInt8] = []
        for e in header.tensors {
            data += [UInt8](repeating: 0, count: e.offset - data.count)
            data += Array(written[(header.dataStart + e.offset)..<(header.dataStart + e.offset + e.length)])
        }
        #expect(craftMKF(header: headerText, data: data, tensorCRCs: header.tensors.map(\.crc32c)) == written)
    }

    @Test func tensorDataIsAlignedAndMapped() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mk-\(UUID()).mkf").path
        defer { unlink(path) }
        try MKFFile.write(GoldenModels.checkpointF64, path: path)
        let model = try MKFFile.read(path: path)
        for (_, t) in model.weights { #expect(Int(bitPattern: t.storage.base) % 64 == 0) }
        #expect(model == GoldenModels.checkpointF64)
    }

    /// Every single-byte change anywhere, every bit flip in the preamble and header, and every truncation is refused.
    @Test func everyByteChangeAndTruncationIsDetected() throws {
        for (name, model) in GoldenModels.all {
            let good = try MKFFile.encode(model)
            let headerEnd = 32 + Int(good[16..<24].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
            for i in good.indices {
                var bad = good
                bad[i] = bad[i] &+ 1
                #expect(throws: ModelError.self, "\(name): byte \(i) changed") { try decode(bad) }
                if i < headerEnd {
                    for bit in 0..<8 where bit != 0 {
                        var flipped = good
                        flipped[i] ^= UInt8(1 << bit)
                        #expect(throws: ModelError.self, "\(name): bit \(bit) of byte \(i)") { try decode(flipped) }
                    }
                }
            }
            for length in 0..<good.count {
                #expect(throws: ModelError.self, "\(name): truncated to \(length)") { try decode(Array(good[0..<length])) }
            }
            #expect(throws: ModelError.self, "\(name): a byte appended") { try decode(good + [0]) }
        }
    }

    @Test func damageNamesTheTensor() throws {
        var bytes = try MKFFile.encode(GoldenModels.denseF32)
        let header = try MKFFile.parseHeader(bytes.withUnsafeBytes { $0 })
        let bias = header.tensors.first { $0.name == "dense/bias" }!
        bytes[header.dataStart + bias.offset + 1] ^= 0x40
        expectError(bytes) { $0 == .checksumMismatch(what: "dense/bias", offset: header.dataStart + bias.offset) }
        #expect(ModelError.checksumMismatch(what: "dense/bias", offset: 5).description.contains("dense/bias"))
    }

    @Test func newerMajorVersionIsRefusedNamingBoth() throws {
        let bytes = craftMKF(header: oneTensorHeader(""), major: 3, minor: 3)
        do { _ = try decode(bytes); Issue.record("accepted version 3") } catch let e as ModelError {
            #expect(e.description.contains("3.3"))
            #expect(e.description.contains("1.x and 2.x"))
        }
    }

    @Test func newerMinorVersionWithUnknownFieldsLoads() throws {
        let kernel: [Float] = [0.5, -2]
        let data = kernel.withUnsafeBytes { Array($0) }
        let crc = CRC32C.checksum(data)
        let header = #"{"future":{"x":[1,2]},"architecture":\#(oneTensorArchitecture),"tensors":[{"name":"d/kernel","role":"weight","dtype":"f32","shape":[2,1],"offset":0,"length":8,"crc32c":\#(crc),"compression":null}],"metadata":{}}"#
        let model = try decode(craftMKF(header: header, data: data, minor: 7, tensorCRCs: [crc]))
        #expect(model.weights["d/kernel"]?.floats() == kernel)
    }

    @Test func hostileHeadersAreRefusedBeforeAllocating() throws {
        let huge = oneTensorHeader(#"{"name":"d/kernel","role":"weight","dtype":"f32","shape":[1152921504606846976,16],"offset":0,"length":8,"crc32c":0}"#)
        expectError(craftMKF(header: huge)) { if case .shapeMismatch(let n, _, _) = $0 { return n == "d/kernel" }; return false }
        let claimsMore = oneTensorHeader(#"{"name":"d/kernel","role":"weight","dtype":"f32","shape":[1048576,1024],"offset":0,"length":4294967296,"crc32c":0}"#)
        expectError(craftMKF(header: claimsMore)) { if case .invalidOffset(let n, _, _) = $0 { return n == "d/kernel" }; return false }
        let negative = oneTensorHeader(#"{"name":"d/kernel","role":"weight","dtype":"f32","shape":[-2,-1],"offset":0,"length":8,"crc32c":0}"#)
        expectError(craftMKF(header: negative)) { if case .shapeMismatch = $0 { return true }; return false }
    }

    @Test func headerLengthBeyondLimitOrFile() {
        var bytes = craftMKF(header: oneTensorHeader(""))
        bytes.replaceSubrange(16..<24, with: MKFFile.le(UInt64(1) << 40))
        expectError(bytes) { if case .headerTooLarge = $0 { return true }; return false }
        bytes.replaceSubrange(16..<24, with: MKFFile.le(UInt64(1) << 20))
        expectError(bytes) { if case .truncated = $0 { return true }; return false }
    }

    @Test func badTensorTablesAreRefused() {
        let d = [UInt8](repeating: 0, count: 8)
        let crc = CRC32C.checksum(d)
        func entry(_ name: String = "d/kernel", dtype: String = "f32", offset: Int = 0, length: Int = 8) -> String {
            #"{"name":"\#(name)","role":"weight","dtype":"\#(dtype)","shape":[2,1],"offset":\#(offset),"length":\#(length),"crc32c":\#(crc)}"#
        }
        // Unknown dtype, misaligned and gapped offsets, overlap (a duplicate), duplicate names, unknown role.
        expectError(craftMKF(header: oneTensorHeader(entry(dtype: "f128")), data: d, tensorCRCs: [crc])) { if case .unknownDType = $0 { return true }; return false }
        expectError(craftMKF(header: oneTensorHeader(entry(offset: 8)), data: d, tensorCRCs: [crc])) { if case .invalidOffset = $0 { return true }; return false }
        expectError(craftMKF(header: oneTensorHeader(entry(offset: 64)), data: d, tensorCRCs: [crc])) { if case .invalidOffset = $0 { return true }; return false }
        let twice = #"{"architecture":\#(oneTensorArchitecture),"tensors":[\#(entry()),\#(entry("x", offset: 0))]}"#
        expectError(craftMKF(header: twice, data: d + [UInt8](repeating: 0, count: 56) + d, tensorCRCs: [crc, crc])) { if case .invalidOffset(let n, _, _) = $0 { return n == "x" }; return false }
        let dup = #"{"architecture":\#(oneTensorArchitecture),"tensors":[\#(entry()),\#(entry(offset: 64))]}"#
        expectError(craftMKF(header: dup, data: d + [UInt8](repeating: 0, count: 56) + d, tensorCRCs: [crc, crc])) { $0 == .duplicateName("d/kernel") }
        let role = oneTensorHeader(entry().replacingOccurrences(of: "weight", with: "gradient"))
        expectError(craftMKF(header: role, data: d, tensorCRCs: [crc])) { if case .invalidHeader = $0 { return true }; return false }
    }

    @Test func modelLevelChecks() {
        let d = [UInt8](repeating: 0, count: 8)
        let crc = CRC32C.checksum(d)
        // A tensor whose shape disagrees with the architecture (kernel [2,1] stored as [1,2]).
        let wrongShape = oneTensorHeader(#"{"name":"d/kernel","role":"weight","dtype":"f32","shape":[1,2],"offset":0,"length":8,"crc32c":\#(crc)}"#)
        expectError(craftMKF(header: wrongShape, data: d, tensorCRCs: [crc])) { if case .shapeMismatch(let n, _, _) = $0 { return n == "d/kernel" }; return false }
        // Missing tensor, unknown layer type and activation, NaN and negative hyperparameters.
        expectError(craftMKF(header: oneTensorHeader(""))) { $0 == .missingTensor("d/kernel") }
        let unknownLayer = #"{"architecture":{"input_shape":[2],"layers":[{"name":"c","type":"conv2d"}]},"tensors":[]}"#
        expectError(craftMKF(header: unknownLayer)) { $0.description.contains("conv2d") }
        let unknownActivation = #"{"architecture":{"input_shape":[2],"layers":[{"name":"a","type":"activation","activation":"mish"}]},"tensors":[]}"#
        expectError(craftMKF(header: unknownActivation)) { $0.description.contains("mish") }
        let noWeights = #"{"architecture":{"input_shape":[2],"layers":[{"name":"a","type":"activation","activation":"relu"}]},"tensors":[],"#
        expectError(craftMKF(header: noWeights + #""optimizer":{"type":"adam","iteration":0,"learning_rate":"NaN"}}"#)) { $0.description.contains("learning_rate") }
        expectError(craftMKF(header: noWeights + #""optimizer":{"type":"sgd","iteration":0,"learning_rate":0.1,"momentum":-0.5}}"#)) { $0.description.contains("momentum") }
        expectError(craftMKF(header: noWeights + #""optimizer":{"type":"sgd","iteration":-1,"learning_rate":0.1}}"#)) { $0.description.contains("iteration") }
    }

    @Test func malformedHeaderJSONReportsOffset() {
        let bad = craftMKF(header: #"{"architecture": [1,2,}"#)
        expectError(bad) { if case .invalidHeader(let offset, _) = $0 { return offset == 32 + 22 }; return false }
        // A name that is not UTF-8, behind a correct header checksum.
        var raw = Array(#"{"x":"ab"}"#.utf8)
        raw[6] = 0xFF
        var bytes = MKFFile.magic + MKFFile.le(UInt16(1)) + MKFFile.le(UInt16(0)) + MKFFile.le(UInt32(0)) + MKFFile.le(UInt64(raw.count)) + MKFFile.le(UInt32(0))
        bytes += MKFFile.le(CRC32C.checksum(raw, continuing: CRC32C.checksum(bytes))) + raw
        bytes += [UInt8](repeating: 0, count: MKFFile.align(bytes.count) - bytes.count + 32)
        expectError(bytes) { if case .invalidHeader(_, let m) = $0 { return m.contains("UTF-8") }; return false }
    }

    @Test func failedSaveKeepsTheOldFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mk-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.mkf").path
        try MKFFile.write(GoldenModels.denseF32, path: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        var broken = GoldenModels.denseF32
        broken.weights["dense/kernel"] = Tensor([1, 2] as [Float], shape: [2])
        #expect(throws: ModelError.self) { try MKFFile.write(broken, path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.mkf"])
    }
}
