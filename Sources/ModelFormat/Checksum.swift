import CChecksum

/// CRC-32C (Castagnoli). Chosen over zlib's CRC-32 because x86-64 computes it in hardware (SSE4.2),
/// several GB/s, so verifying every byte on load stays cheap. See spec/binary-format.md.
public enum CRC32C {
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return mk_crc32c(crc, base, bytes.count)
    }

    public static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }
}
