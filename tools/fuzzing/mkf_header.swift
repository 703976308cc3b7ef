import ModelFormat

// seeds: Fixtures/fuzz/mkf_header/*
/// The input is a header's JSON followed by a NUL and tensor data. The harness wraps it in a file with correct
/// checksums, so that the fuzzer explores header validation instead of stopping at the header CRC.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeBufferPointer(start: data, count: size)
    let split = input.firstIndex(of: 0) ?? size
    let header = Array(input[0..<split])
    let payload = split < size ? Array(input[(split + 1)...]) : []
    func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    func align(_ n: Int) -> Int { (n + 63) / 64 * 64 }
    var file = MKFFile.magic + le(UInt16(1)) + le(UInt16(0)) + le(UInt32(0)) + le(UInt64(header.count)) + le(UInt32(0))
    let headerCRC = CRC32C.checksum(header, continuing: CRC32C.checksum(file))
    file += le(headerCRC) + header
    file += [UInt8](repeating: 0, count: align(file.count) - file.count) + payload
    file += [UInt8](repeating: 0, count: align(file.count) - file.count)
    // Tensor CRCs as the header claims them are unknown here; the trailer carries a best guess (none), so the
    // reader gets through the header and tensor table before the trailer check.
    var trailer = MKFFile.trailerMagic + le(UInt64(file.count)) + le(CRC32C.checksum(le(headerCRC))) + le(UInt32(0)) + le(UInt32(0))
    trailer += le(CRC32C.checksum(trailer))
    file += trailer
    _ = try? file.withUnsafeBytes { try MKFFile.decode($0, owner: nil, verifyChecksums: true) }
    return 0
}
