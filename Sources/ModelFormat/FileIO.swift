#if canImport(Glibc)
import Glibc
#endif

/// A read-only memory map of a whole file. Tensors borrow slices of it; the map lives as long as any of them.
public final class MappedFile: @unchecked Sendable {
    // @unchecked: the mapping is read-only and never changes after init.
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?

    public init(path: String) throws(ModelError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ModelError.io(path: path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ModelError.io(path: path, message: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ModelError.io(path: path, message: "not a regular file") }
        let size = Int(info.st_size)
        if size == 0 {
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        // MAP_PRIVATE of a file we never write: ModelKit replaces files by rename, so the mapped inode never changes.
        guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else {
            throw ModelError.io(path: path, message: "mmap failed: \(String(cString: strerror(errno)))")
        }
        mapping = m
        bytes = UnsafeRawBufferPointer(start: m, count: size)
    }

    deinit { if let mapping { munmap(mapping, bytes.count) } }
}

/// Writes a file so that a crash, a kill or a full disk at any moment leaves either the old file or the new one:
/// the bytes go to a temporary file in the same folder, which is fsynced, renamed over the target, and the folder
/// fsynced. On failure the temporary file is removed and the target is untouched.
public struct AtomicFile {
    /// With `durable: false` the fsyncs are skipped (for scratch files that need no crash safety).
    public static func write(path: String, durable: Bool = true, _ body: (inout FileWriter) throws -> Void) throws {
        let (directory, name) = split(path)
        removeStaleTemporaries(directory: directory, name: name)
        let temporary = "\(directory)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ModelError.io(path: path, message: "cannot create a temporary file: \(String(cString: strerror(errno)))") }
        var writer = FileWriter(fd: fd, path: path)
        do {
            try body(&writer)
            try writer.flush()
            guard !durable || fsync(fd) == 0 else { throw ModelError.io(path: path, message: "fsync failed: \(String(cString: strerror(errno)))") }
            guard close(fd) == 0 else {
                unlink(temporary)
                throw ModelError.io(path: path, message: "close failed: \(String(cString: strerror(errno)))")
            }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw ModelError.io(path: path, message: "rename failed: \(message)")
        }
        guard durable else { return }
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// The same protocol for writers that must write by file name (libhdf5, ZIPFoundation): `body` writes the file
    /// at the temporary path it is given; it is then fsynced and renamed over `path`, and the folder fsynced.
    public static func write(path: String, throughTemporaryPath body: (String) throws -> Void) throws {
        let (directory, name) = split(path)
        removeStaleTemporaries(directory: directory, name: name)
        let temporary = "\(directory)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try body(temporary)
            let fd = open(temporary, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ModelError.io(path: path, message: "cannot reopen the temporary file: \(String(cString: strerror(errno)))") }
            let synced = fsync(fd) == 0
            close(fd)
            guard synced else { throw ModelError.io(path: path, message: "fsync failed: \(String(cString: strerror(errno)))") }
            guard rename(temporary, path) == 0 else {
                throw ModelError.io(path: path, message: "rename failed: \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    public static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// Removes temporaries of this target left by a process that was killed mid-save (its pid no longer runs).
    public static func removeStaleTemporaries(directory: String, name: String) {
        guard let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        let prefix = ".\(name).tmp-"
        while let entry = readdir(dir) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            guard entryName.hasPrefix(prefix) else { continue }
            let rest = entryName.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]) else { continue }
            if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH { unlink("\(directory)/\(entryName)") }
        }
    }
}

/// Buffered writes to a file descriptor; errors (a full disk) become `ModelError.io` naming the target.
public struct FileWriter {
    let fd: Int32
    let path: String
    private var buffer: [UInt8] = []
    public private(set) var offset = 0
    private static let bufferLimit = 1 << 20

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        buffer.reserveCapacity(FileWriter.bufferLimit)
    }

    public mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        offset += bytes.count
        if buffer.count + bytes.count <= FileWriter.bufferLimit {
            buffer.append(contentsOf: bytes)
            return
        }
        try flush()
        if bytes.count >= FileWriter.bufferLimit { try writeAll(bytes) } else { buffer.append(contentsOf: bytes) }
    }

    public mutating func writeZeros(_ count: Int) throws {
        guard count > 0 else { return }
        try write([UInt8](repeating: 0, count: count))
    }

    public mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ModelError.io(path: path, message: "write failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }
}
