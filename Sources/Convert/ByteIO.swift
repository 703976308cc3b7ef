#if canImport(Glibc)
import Glibc
#endif
import ModelFormat

/// A whole file's bytes, memory-mapped read-only (read into memory when the file cannot be mapped, e.g. a pipe).
final class InputFile {
    let path: String
    let bytes: UnsafeRawBufferPointer
    private let mapped: Bool

    init(path: String) throws(ModelError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw InputFile.ioError(path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw InputFile.ioError(path, "cannot stat: \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw InputFile.ioError(path, "is a directory") }
        if (st.st_mode & S_IFMT) == S_IFREG {
            let size = Int(st.st_size)
            if size == 0 {
                bytes = UnsafeRawBufferPointer(start: nil, count: 0); mapped = false; return
            }
            if let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED {
                bytes = UnsafeRawBufferPointer(start: p, count: size); mapped = true; return
            }
        }
        // Not a regular file (or mmap failed): read in chunks.
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw InputFile.ioError(path, "read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            data += chunk[0..<n]
        }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 16)
        data.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: data.count) }
        bytes = UnsafeRawBufferPointer(start: memory, count: data.count)
        mapped = false
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if mapped { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) } else { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }

    static func ioError(_ path: String, _ message: String) -> ModelError { .io(path: path, message: message) }
}

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
    private let directory: String
    private let temporary: String
    /// Flush when this many bytes are buffered (file sinks only).
    private static let flushThreshold = 1 << 20

    /// A sink that replaces `path` when finished.
    init(path: String) throws(ModelError) {
        self.path = path
        let (directory, name) = AtomicFile.split(path)
        self.directory = directory
        AtomicFile.removeStaleTemporaries(directory: directory, name: name)
        temporary = "\(directory)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ModelError.io(path: path, message: "cannot create: \(String(cString: strerror(errno)))") }
        capacity = ByteSink.flushThreshold + 4096
        buffer = .allocate(capacity: capacity)
    }

    /// A sink that keeps everything in memory (`bytes()`).
    init() {
        path = "<memory>"
        directory = ""
        temporary = ""
        fd = -1
        capacity = 4096
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        buffer.deallocate()
        if fd >= 0 { close(fd); unlink(temporary) }
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
        guard fd >= 0 else { return }
        try flush()
        guard fsync(fd) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd); fd = -1; unlink(temporary)
            throw ModelError.io(path: path, message: "fsync failed: \(message)")
        }
        let closed = close(fd)
        fd = -1
        guard closed == 0 else {
            unlink(temporary)
            throw ModelError.io(path: path, message: "close failed: \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw ModelError.io(path: path, message: "rename failed: \(message)")
        }
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// Everything written to a memory sink.
    func bytes() -> [UInt8] { Array(UnsafeBufferPointer(start: buffer, count: count)) }
}
