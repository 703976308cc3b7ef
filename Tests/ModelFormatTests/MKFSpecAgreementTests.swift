import Foundation
import Testing
@testable import ModelFormat

/// What spec/binary-format.md says a reader refuses, refused member by member (issue 9, section 2): reserved words,
/// slot names, duplicate slots, slots the optimizer does not keep, slot dtypes.
@Suite struct MKFSpecAgreementTests {
    /// A file of a 2→1 dense layer without bias (`d/kernel`, f32 [2, 1]) whose optimizer is `optimizer` and whose
    /// slot entries follow the kernel, each 8 zero bytes of shape [2, 1] in `slotDType` (f32 or i32), with correct checksums.
    static func slotFile(optimizer: String, slots: [(name: String, parameter: String, slot: String)],
                         slotDType: String = "f32") -> [UInt8] {
        let zeros = [UInt8](repeating: 0, count: 8)
        let crc = CRC32C.checksum(zeros)
        var entries = [#"{"name":"d/kernel","role":"weight","dtype":"f32","shape":[2,1],"offset":0,"length":8,"crc32c":\#(crc)}"#]
        for (i, s) in slots.enumerated() {
            entries.append(#"{"name":"\#(s.name)","role":"optimizer_slot","parameter":"\#(s.parameter)","slot":"\#(s.slot)","dtype":"\#(slotDType)","shape":[2,1],"offset":\#(64 * (i + 1)),"length":8,"crc32c":\#(crc)}"#)
        }
        let header = #"{"architecture":\#(oneTensorArchitecture),"tensors":[\#(entries.joined(separator: ","))],"optimizer":\#(optimizer)}"#
        var data: [UInt8] = []
        for i in 0...slots.count { data += zeros + (i < slots.count ? [UInt8](repeating: 0, count: 56) : []) }
        return craftMKF(header: header, data: data, tensorCRCs: Array(repeating: crc, count: slots.count + 1))
    }

    static let adam = #"{"type":"adam","iteration":1,"learning_rate":0.001}"#

    @Test func wellFormedSlotFileLoads() throws {
        let model = try decode(Self.slotFile(optimizer: Self.adam, slots: [
            ("optimizer/d/kernel/momentum", "d/kernel", "momentum"), ("optimizer/d/kernel/velocity", "d/kernel", "velocity")]))
        #expect(model.optimizer?.slots["d/kernel"]?.keys.sorted() == ["momentum", "velocity"])
    }

    // MARK: Reserved words

    /// The dense-f32 golden model's file with the reserved words at bytes 24 and T+24 set to `preamble` and
    /// `trailer`, and every checksum that covers them recomputed, so that only the reserved-word check can refuse it.
    static func withReserved(preamble: UInt32 = 0, trailer: UInt32 = 0) throws -> [UInt8] {
        let written = try MKFFile.encode(GoldenModels.denseF32)
        let tensorCRCs = try written.withUnsafeBytes { try MKFFile.parseHeader($0) }.tensors.map(\.crc32c)
        var bytes = written
        bytes.replaceSubrange(24..<28, with: MKFFile.le(preamble))
        let headerLength = Int(bytes[16..<24].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let headerCRC = CRC32C.checksum(Array(bytes[32..<(32 + headerLength)]), continuing: CRC32C.checksum(Array(bytes[0..<28])))
        bytes.replaceSubrange(28..<32, with: MKFFile.le(headerCRC))
        let t = bytes.count - 32
        var fileChecksum = CRC32C.checksum(MKFFile.le(headerCRC))
        for crc in tensorCRCs { fileChecksum = CRC32C.checksum(MKFFile.le(crc), continuing: fileChecksum) }
        bytes.replaceSubrange((t + 16)..<(t + 20), with: MKFFile.le(fileChecksum))
        bytes.replaceSubrange((t + 24)..<(t + 28), with: MKFFile.le(trailer))
        bytes.replaceSubrange((t + 28)..<(t + 32), with: MKFFile.le(CRC32C.checksum(Array(bytes[t..<(t + 28)]))))
        return bytes
    }

    @Test func reservedWordsRecomputedAsZeroGiveTheWrittenFile() throws {
        #expect(try Self.withReserved() == MKFFile.encode(GoldenModels.denseF32))
    }

    @Test func nonzeroPreambleReservedWordIsRefused() throws {
        expectError(try Self.withReserved(preamble: 7)) { $0 == .nonZeroReserved(structure: "preamble", offset: 24, value: 7) }
    }

    @Test func nonzeroTrailerReservedWordIsRefusedNotAsAChecksum() throws {
        let bytes = try Self.withReserved(trailer: 0x0100)
        expectError(bytes) { $0 == .nonZeroReserved(structure: "trailer", offset: bytes.count - 32 + 24, value: 0x0100) }
    }

    // MARK: Slots

    @Test func slotNamedOtherThanItsParameterAndSlotIsRefused() {
        let bytes = Self.slotFile(optimizer: Self.adam, slots: [("optimizer/d/kernel/velocity", "d/kernel", "momentum")])
        expectError(bytes) { $0 == .slotNameMismatch(tensor: "optimizer/d/kernel/velocity", expected: "optimizer/d/kernel/momentum") }
        let elsewhere = Self.slotFile(optimizer: Self.adam, slots: [("moments/d/kernel", "d/kernel", "momentum")])
        expectError(elsewhere) { $0 == .slotNameMismatch(tensor: "moments/d/kernel", expected: "optimizer/d/kernel/momentum") }
    }

    @Test func twoTensorsForOneSlotAreRefused() {
        let bytes = Self.slotFile(optimizer: Self.adam, slots: [
            ("optimizer/d/kernel/momentum", "d/kernel", "momentum"), ("optimizer/d/kernel/momentum_copy", "d/kernel", "momentum")])
        expectError(bytes) {
            $0 == .duplicateSlot(parameter: "d/kernel", slot: "momentum", tensors: ["optimizer/d/kernel/momentum", "optimizer/d/kernel/momentum_copy"])
        }
    }

    @Test func slotTheOptimizerDoesNotKeepIsRefused() {
        let bytes = Self.slotFile(optimizer: Self.adam, slots: [("optimizer/d/kernel/average_gradient", "d/kernel", "average_gradient")])
        expectError(bytes) {
            $0 == .unusedSlot(tensor: "optimizer/d/kernel/average_gradient", optimizer: "adam without amsgrad", keeps: ["momentum", "velocity"])
        }
    }

    @Test func sgdMomentumSlotWithoutMomentumMemberIsRefused() {
        let sgd = #"{"type":"sgd","iteration":1,"learning_rate":0.1}"#
        let bytes = Self.slotFile(optimizer: sgd, slots: [("optimizer/d/kernel/momentum", "d/kernel", "momentum")])
        expectError(bytes) { $0 == .unusedSlot(tensor: "optimizer/d/kernel/momentum", optimizer: "sgd with momentum 0.0", keeps: []) }
        let withMomentum = #"{"type":"sgd","iteration":1,"learning_rate":0.1,"momentum":0.9}"#
        #expect(throws: Never.self) { try decode(Self.slotFile(optimizer: withMomentum, slots: [("optimizer/d/kernel/momentum", "d/kernel", "momentum")])) }
    }

    @Test func unusedSlotIsRefusedByValidateSoEveryReaderAndWriterRefusesIt() {
        var model = Model(architecture: try! HeaderSchema.architecture(try! JSONParser.parse(Array(oneTensorArchitecture.utf8))),
                          weights: ["d/kernel": Tensor([0, 0] as [Float], shape: [2, 1])])
        model.optimizer = OptimizerState(config: .rmsprop(RMSpropConfig()), slots: ["d/kernel": ["momentum": Tensor([0, 0] as [Float], shape: [2, 1])]])
        #expect(throws: ModelError.unusedSlot(tensor: "optimizer/d/kernel/momentum", optimizer: "rmsprop with momentum 0.0, not centered", keeps: ["velocity"])) {
            try model.validate()
        }
        #expect(throws: ModelError.self) { try MKFFile.encode(model) }
    }

    @Test func slotsMustBeFloatingPoint() {
        let bytes = Self.slotFile(optimizer: Self.adam, slots: [("optimizer/d/kernel/momentum", "d/kernel", "momentum")], slotDType: "i32")
        expectError(bytes) { if case .unknownDType("i32", let location) = $0 { return location.contains("optimizer/d/kernel/momentum") }; return false }
    }

    @Test func slotDTypeMayDifferFromItsParameters() throws {
        var model = Model(architecture: try HeaderSchema.architecture(try JSONParser.parse(Array(oneTensorArchitecture.utf8))),
                          weights: ["d/kernel": Tensor([1, 2] as [Float], shape: [2, 1])])
        model.optimizer = OptimizerState(config: .adam(AdamConfig()), slots: ["d/kernel": ["momentum": Tensor([0.5, 0.25] as [Double], shape: [2, 1])]])
        #expect(try decode(try MKFFile.encode(model)) == model)
    }
}
