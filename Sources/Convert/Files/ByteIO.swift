#if canImport(Glibc)
import Glibc
#endif
import ModelFormat

/// Readers take a whole file's bytes through the one memory-map type.
typealias InputFile = MappedFile

/// A byte buffer written to a file in chunks (or kept in memory when there is no file), so writers never hold a
/// whole dump in memory. `reserve(n)` guarantees `n` writable bytes at `cursor`.
///
/// A file sink saves as `AtomicFile` does: a temporary file beside the target, fsynced and renamed over the target
/// in `finish()`, then the folder fsynced; a failed or killed write never damages the file it was replacing, and
/// temporaries left by killed processes are removed by the next save to the same target.
final class ByteSink {
    private(set) var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0
    private var fd: Int32
    private let path: String
    /// The temporary file a file sink writes, put in place by `finish()`.
    private let pending: AtomicFile.Pending?
    /// Flush when this many bytes are buffered (file sinks only).
    private static let flushThreshold = 1 << 20

    /// A sink that replaces `path` when finished.
    init(path: String) throws(ModelError) {
        self.path = path
        let pending = try AtomicFile.begin(path: path)
        self.pending = pending
        fd = pending.fd
        capacity = ByteSink.flushThreshold + 4096
        buffer = .allocate(capacity: capacity)
    }

    /// A sink that keeps everything in memory (`bytes()`).
    init() {
        path = "<memory>"
        pending = nil
        fd = -1
        capacity = 4096
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        buffer.deallocate()
        if fd >= 0 { pending?.abandon() }
    }

    var cursor: UnsafeMutablePointer<UInt8> { buffer + count }

    @inline(__always)
    func reserve(_ n: Int) throws(ModelError) {
        if count + n <= capacity { return }
        try makeRoom(n)
    }

    private func makeRoom(_ n: Int) throws(ModelError) {
        if fd >= 0 { try flush() }
        if count + n > capacity {
            let newCapacity = max(capacity * 2, count + n)
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            bigger.update(from: buffer, count: count)
            buffer.deallocate()
            buffer = bigger
            capacity = newCapacity
        }
    }

    /// Records `n` bytes written at `cursor`; flushes a file sink past the threshold.
    @inline(__always)
    func advance(_ n: Int) throws(ModelError) {
        count += n
        if fd >= 0 && count >= ByteSink.flushThreshold { try flush() }
    }

    @inline(__always)
    func append(_ byte: UInt8) throws(ModelError) {
        try reserve(1)
        buffer[count] = byte
        try advance(1)
    }

    func append(_ s: String) throws(ModelError) {
        try append(Array(s.utf8))
    }

    func append(_ bytes: [UInt8]) throws(ModelError) {
        guard !bytes.isEmpty else { return }
        try reserve(bytes.count)
        bytes.withUnsafeBufferPointer { cursor.update(from: $0.baseAddress!, count: $0.count) }
        try advance(bytes.count)
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(ModelError) {
        guard bytes.count > 0 else { return }
        try reserve(bytes.count)
        UnsafeMutableRawPointer(cursor).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        try advance(bytes.count)
    }

    func flush() throws(ModelError) {
        guard fd >= 0, count > 0 else { return }
        var written = 0
        while written < count {
            let n = Glibc.write(fd, buffer + written, count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw ModelError.io(path: path, message: "write failed: \(String(cString: strerror(errno)))")
            }
            written += n
        }
        count = 0
    }

    /// Flushes, closes and renames a file sink over its target.
    func finish() throws(ModelError) {
        guard fd >= 0, let pending else { return }
        do { try flush() } catch {
            pending.abandon(); fd = -1
            throw error
        }
        fd = -1
        try pending.commit()
    }

    /// Everything written to a memory sink.
    func bytes() -> [UInt8] { Array(UnsafeBufferPointer(start: buffer, count: count)) }
}
