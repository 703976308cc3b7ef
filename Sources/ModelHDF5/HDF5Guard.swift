#if canImport(Glibc)
import Glibc
#endif
import ModelFormat

/// Checks libhdf5 1.10 does not make itself, run over the raw bytes of every HDF5 file (and file image) before
/// libhdf5 opens it. Each guards against a failure found by fuzzing or mutation runs:
///
/// 1. **Global heap collections** (signature `GCOL`, version 1; where variable-length strings live). libhdf5 trusts
///    the object sizes: an object of index 0 (free space) with size 0 makes its parser loop forever, and an object
///    claiming more bytes than its collection holds makes it copy from past the end (a crash). Every collection is
///    walked the way libhdf5 walks it.
/// 2. **Variable-length descriptors** (`length u32, collection address u64, object index u32`, in attribute and
///    dataset data) pointing into those collections. libhdf5 allocates and clears `length × element size` bytes and
///    then copies the heap object into that buffer, so a forged length makes it allocate gigabytes or overrun the
///    buffer. Every occurrence of a collection's address followed by one of its object indices is taken as a
///    descriptor, and the object's size must be the length times 1, 2, 4 or 8 (the element sizes of the strings and
///    numbers ModelKit and Keras store). Tensor data matching such a 16-byte pattern by chance would need a denormal
///    or small integer equal to the collection's address next to a valid index: not seen in model files.
extension HDF5 {
    /// Scanning for descriptors costs one pass over the file per collection; files with more collections than this
    /// (many megabytes of strings) are only checked for the heap-structure failures.
    static let maxCollectionsForDescriptorScan = 64

    struct HeapCollection {
        var offset: Int
        /// Object sizes by index (index 0, free space, excluded).
        var objects: [UInt16: UInt64]
    }

    static func checkGlobalHeaps(_ bytes: UnsafeRawBufferPointer, source: String) throws(ModelError) {
        let collections = try walkCollections(bytes, source: source)
        guard !collections.isEmpty, collections.count <= maxCollectionsForDescriptorScan else { return }
        // Addresses in an HDF5 file count from its superblock, which a user block may push to 512, 1024, 2048, …
        var baseAddress = 0
        for candidate in [0, 512, 1024, 2048, 4096] where candidate + 8 <= bytes.count {
            if (0..<8).allSatisfy({ bytes[candidate + $0] == [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A][$0] }) { baseAddress = candidate; break }
        }
        for collection in collections where collection.offset >= baseAddress {
            try checkDescriptors(bytes, pointingAt: collection, address: UInt64(collection.offset - baseAddress), source: source)
        }
    }

    static func walkCollections(_ bytes: UnsafeRawBufferPointer, source: String) throws(ModelError) -> [HeapCollection] {
        guard let base = bytes.baseAddress, bytes.count >= 16 else { return [] }
        let count = bytes.count
        var found: [HeapCollection] = []
        var from = 0
        while from + 16 <= count {
            guard let hit = memchr(base + from, 0x47, count - from) else { break }  // "G"
            let at = base.distance(to: UnsafeRawPointer(hit))
            from = at + 1
            guard at + 16 <= count, bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self) == 0x4C4F_4347,  // "GCOL"
                  bytes[at + 4] == 1 else { continue }
            let size = bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)
            // A collection libhdf5 cannot read whole fails with an error, not a loop.
            guard size >= 16, size <= UInt64(count - at) else { continue }
            let end = at + Int(size)
            var collection = HeapCollection(offset: at, objects: [:])
            var p = at + 16
            while p < end {
                if p + 16 > end { break }  // too small for an object header: free space
                let index = bytes.loadUnaligned(fromByteOffset: p, as: UInt16.self)
                let objectSize = bytes.loadUnaligned(fromByteOffset: p + 8, as: UInt64.self)
                func pastTheEnd() -> ModelError {
                    .format("HDF5: \(source): corrupt global heap at byte \(at): object \(index) at byte \(p) claims \(objectSize) bytes, past the collection's end at byte \(end)")
                }
                let need: UInt64
                if index > 0 {
                    // A 16-byte object header, then the data padded to 8 bytes. The size is compared with the room
                    // left before it is padded: a size near 2^64 would overflow the sum (found by tools/fuzz, keras_h5).
                    guard objectSize <= UInt64(end - p - 16) else { throw pastTheEnd() }
                    need = 16 + ((objectSize + 7) & ~7)
                    collection.objects[index] = objectSize
                } else {
                    need = objectSize
                }
                guard need > 0 else {
                    throw ModelError.format("HDF5: \(source): corrupt global heap at byte \(at): a free-space object of size 0 at byte \(p) (libhdf5 would never finish reading it)")
                }
                guard need <= UInt64(end - p) else { throw pastTheEnd() }
                p += Int(need)
            }
            found.append(collection)
        }
        return found
    }

    static func checkDescriptors(_ bytes: UnsafeRawBufferPointer, pointingAt collection: HeapCollection, address: UInt64,
                                 source: String) throws(ModelError) {
        guard let base = bytes.baseAddress, !collection.objects.isEmpty else { return }
        let count = bytes.count
        let pattern = withUnsafeBytes(of: address.littleEndian) { Array($0) }
        // Search on the pattern's first nonzero byte (addresses are never 0 here: the superblock is there).
        guard let key = pattern.firstIndex(where: { $0 != 0 }) else { return }
        var from = 4 + key
        while from < count {
            guard let hit = memchr(base + from, Int32(pattern[key]), count - from) else { return }
            let keyAt = base.distance(to: UnsafeRawPointer(hit))
            from = keyAt + 1
            let q = keyAt - key  // where the address would start
            guard q >= 4, q + 12 <= count, bytes.loadUnaligned(fromByteOffset: q, as: UInt64.self) == address.littleEndian else { continue }
            let index = bytes.loadUnaligned(fromByteOffset: q + 8, as: UInt32.self)
            guard index > 0, index <= UInt32(UInt16.max), let objectSize = collection.objects[UInt16(index)] else { continue }
            let length = UInt64(bytes.loadUnaligned(fromByteOffset: q - 4, as: UInt32.self))
            guard length > 0 else { continue }
            guard [1, 2, 4, 8].contains(where: { length * $0 == objectSize }) else {
                throw ModelError.format("HDF5: \(source): corrupt variable-length data at byte \(q - 4): it claims \(length) elements, but heap object \(index) at byte \(collection.offset) holds \(objectSize) bytes")
            }
        }
    }
}
