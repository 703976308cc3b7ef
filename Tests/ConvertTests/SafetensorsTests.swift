import Foundation
import Testing
@testable import Convert
import ModelFormat
import ReferenceEngine

enum ConvertFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

@Suite struct SafetensorsTests {
    @Test(arguments: [DType.f32, .f64, .f16, .bf16])
    func roundTripLosesNothing(dtype: DType) throws {
        for model in [TestModels.plain(dtype), TestModels.checkpoint(dtype)] {
            let bytes = try SafetensorsFile.encode(model)
            #expect(try bytes.withUnsafeBytes { try SafetensorsFile.decode($0) } == model)
        }
    }

    /// The shared reference (written by the safetensors library from numpy, PyTorch names and [out, in] weights)
    /// predicts its outputs.csv with --arch 4-16relu-3 --layout torch.
    @Test func torchReferencePredictsItsOutputs() throws {
        var options = ReadOptions()
        options.architecture = try ArchitectureSpec.parse("4-16relu-3")
        options.layout = .torch
        let model = try ModelFiles.load(path: ConvertFixtures.path("safetensors/torch-mlp/model.safetensors"), options: options)
        let inputs = try NumericCSV.readMatrix(path: ConvertFixtures.path("safetensors/torch-mlp/inputs.csv"))
        let expected = try NumericCSV.readMatrix(path: ConvertFixtures.path("safetensors/torch-mlp/outputs.csv"))
        let outputs = try Inference.predict(model, inputs: inputs.values, rows: inputs.rows)
        #expect(outputs.count == expected.values.count)
        let worst = zip(outputs, expected.values).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5)
        // Without --arch it is a weights-only model: PyTorch's names, file order, no layers; running it asks for --arch.
        let weightsOnly = try ModelFiles.load(path: ConvertFixtures.path("safetensors/torch-mlp/model.safetensors"))
        #expect(weightsOnly.engineArchitecture == nil && weightsOnly.graph == nil)
        #expect(weightsOnly.weightNames == ["0.bias", "0.weight", "2.bias", "2.weight"])
        #expect(weightsOnly.weights["0.weight"]?.shape == [16, 4])
        #expect(throws: ModelError.noArchitecture(tensors: 4)) { try weightsOnly.runnableArchitecture() }
    }

    /// A small valid file, built by hand: header, then two F32 tensors "a" [2] and "b" [1].
    func file(header: String, data: [UInt8] = [UInt8](repeating: 0, count: 12), length: UInt64? = nil) -> [UInt8] {
        var out = withUnsafeBytes(of: (length ?? UInt64(header.utf8.count)).littleEndian) { Array($0) }
        out += Array(header.utf8) + data
        return out
    }

    func decodeError(_ bytes: [UInt8]) -> ModelError? {
        var options = ReadOptions()
        options.architecture = Architecture(inputShape: [2], layers: [Layer(name: "d", kind: .dense(DenseConfig(units: 1, useBias: false)))])
        do { _ = try bytes.withUnsafeBytes { try SafetensorsFile.decode($0, options: options) }; return nil } catch { return error as? ModelError }
    }

    @Test func damagedFilesAreRefused() {
        let good = #"{"d/kernel":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}}"#
        #expect(decodeError(file(header: good, data: [UInt8](repeating: 0, count: 8))) == nil)
        #expect(decodeError([1, 2, 3]) == .truncated(offset: 0, needed: 8, available: 3, what: "safetensors header length"))
        #expect(decodeError(file(header: good, length: 100_000_001)) == .headerTooLarge(size: 100_000_001, limit: 100_000_000))
        #expect(decodeError(file(header: good, length: 1000)) == .truncated(offset: 8, needed: 1000, available: good.utf8.count + 12, what: "safetensors header"))
        // Trailing bytes that no tensor covers.
        #expect(decodeError(file(header: good, data: [UInt8](repeating: 0, count: 12))) ==
                .invalidOffset(tensor: "d/kernel", offset: 8 + good.utf8.count + 8, message: "4 bytes after the last tensor belong to none"))
        // A hole, an overlap, and data past the end.
        let hole = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"d/kernel":{"dtype":"F32","shape":[2,1],"data_offsets":[8,16]}}"#
        #expect(decodeError(file(header: hole, data: [UInt8](repeating: 0, count: 16))) ==
                .invalidOffset(tensor: "d/kernel", offset: 8 + hole.utf8.count + 8, message: "leaves a hole of 4 bytes before it (previous data ends at 4)"))
        let overlap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"d/kernel":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}}"#
        #expect(decodeError(file(header: overlap, data: [UInt8](repeating: 0, count: 8))) ==
                .invalidOffset(tensor: "d/kernel", offset: 8 + overlap.utf8.count, message: "overlaps the previous tensor (which ends at 4)"))
        #expect(decodeError(file(header: good, data: [0, 0, 0, 0])) ==
                .invalidOffset(tensor: "d/kernel", offset: 8 + good.utf8.count, message: "ends at 8, past the end of the 4-byte buffer"))
        // Sizes that disagree with shapes, including an overflowing shape.
        let wrongSize = #"{"d/kernel":{"dtype":"F32","shape":[3,1],"data_offsets":[0,8]}}"#
        #expect(decodeError(file(header: wrongSize, data: [UInt8](repeating: 0, count: 8))) ==
                .shapeMismatch(name: "d/kernel", expected: [3, 1], detail: "F32 [3, 1] needs 12 bytes, data_offsets [0, 8] give 8"))
        let huge = #"{"d/kernel":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#
        #expect(decodeError(file(header: huge, data: [UInt8](repeating: 0, count: 8))) ==
                .shapeMismatch(name: "d/kernel", expected: [4611686018427387904, 4], detail: "negative dimension, or the size overflows"))
        let f8 = #"{"d/kernel":{"dtype":"F8_E4M3","shape":[2,1],"data_offsets":[0,2]}}"#
        if case .unknownDType(let name, _) = decodeError(file(header: f8, data: [0, 0])) { #expect(name == "F8_E4M3") } else { Issue.record("F8 accepted") }
        // Bad JSON and bad UTF-8 in the header.
        if case .invalidHeader(let offset, _) = decodeError(file(header: #"{"d/kernel":{"dtype":"F32",}}"#, data: [])) {
            #expect(offset == 8 + 27)  // the "}" where a member name should follow ","
        } else { Issue.record("bad JSON accepted") }
        var badUTF8 = file(header: #"{"d/kernel":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},"x":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}"#,
                           data: [UInt8](repeating: 0, count: 8))
        badUTF8[8 + 67] = 0xFF  // inside the name "x"
        if case .invalidHeader = decodeError(badUTF8) {} else { Issue.record("bad UTF-8 accepted: \(String(describing: decodeError(badUTF8)))") }
    }

    @Test func exportOrdersBySizeThenCanonicalAndPadsTheHeader() throws {
        var model = TestModels.plain(.f32)
        model.weights["dense/bias"] = TestModels.tensor(.f64, shape: [4], seed: 9)
        let bytes = try SafetensorsFile.encode(model)
        let n = Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        #expect(n % 8 == 0)
        let (_, entries, _) = try bytes.withUnsafeBytes { try SafetensorsFile.parse($0) }
        #expect(entries.first?.name == "dense/bias" && entries.first?.begin == 0)
        #expect(entries[1].name == "dense/kernel")
    }
}
