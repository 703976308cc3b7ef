import Foundation
import Testing
@testable import ModelFormat

/// What spec/binary-format.md says a reader refuses, refused member by member (issue 9, section 2).
@Suite struct MKFSpecAgreementTests {
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
}
