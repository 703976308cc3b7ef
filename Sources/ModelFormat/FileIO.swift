#if canImport(Glibc)
import Glibc
#endif

/// A whole file's bytes: memory-mapped read-only when it is a regular file, read into memory otherwise (a pipe).
/// Tensors borrow slices of it; the bytes live as long as any of them. The one way ModelKit reads a file whole.
public final class MappedFile: @unchecked Sendable {
    // @unchecked: the bytes are read-only and never change after init.
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    /// The mapping, or nil when the bytes were read into allocated memory (or the file is empty).
    private let mapping: UnsafeMutableRawPointer?

    public init(path: String) throws(ModelError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ModelError.io(path: path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ModelError.io(path: path, message: String(cString: strerror(errno))) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw ModelError.io(path: path, message: "is a directory") }
        if (info.st_mode & S_IFMT) == S_IFREG {
            let size = Int(info.st_size)
            if size == 0 {
                mapping = nil
                bytes = UnsafeRawBufferPointer(start: nil, count: 0)
                return
            }
            // MAP_PRIVATE of a file we never write: ModelKit replaces files by rename, so the mapped inode never changes.
            if let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED {
                mapping = m
                bytes = UnsafeRawBufferPointer(start: m, count: size)
                return
            }
        }
        // Not a regular file (or mmap failed): read it in chunks.
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ModelError.io(path: path, message: "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            data += chunk[0..<n]
        }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
        data.withUnsafeBytes { if let base = $0.baseAddress { memory.copyMemory(from: base, byteCount: data.count) } }
        mapping = nil
        bytes = UnsafeRawBufferPointer(start: memory, count: data.count)
    }

    deinit {
        if let mapping { munmap(mapping, bytes.count) } else if let base = bytes.baseAddress { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }
}

/// Writes a file so that a crash, a kill or a full disk at any moment leaves either the old file or the new one:
/// the bytes go to a temporary file in the same folder (`.<name>.tmp-<pid>-<random>`), which is fsynced, renamed
/// over the target, and the folder fsynced. On failure the temporary file is removed and the target is untouched.
/// Every writer saves through here (`write`, `write(throughTemporaryPath:)`, streaming sinks through `begin`), and
/// folders through the same names and stale-temporary rule (`AtomicFolder`).
public struct AtomicFile {
    /// A temporary file being written for `path`; `commit` puts it in place, `abandon` removes it.
    public struct Pending {
        public let path: String
        public let temporary: String
        public let directory: String
        public let fd: Int32

        /// fsync (when durable), close, rename over the target, fsync the folder.
        public func commit(durable: Bool = true) throws(ModelError) {
            if durable, fsync(fd) != 0 {
                let message = String(cString: strerror(errno))
                abandon()
                throw ModelError.io(path: path, message: "fsync failed: \(message)")
            }
            guard close(fd) == 0 else {
                unlink(temporary)
                throw ModelError.io(path: path, message: "close failed: \(String(cString: strerror(errno)))")
            }
            try AtomicFile.rename(temporary, over: path, directory: directory, durable: durable)
        }

        public func abandon() {
            close(fd)
            unlink(temporary)
        }
    }

    /// Creates the temporary file for `path` (after removing temporaries that killed saves left).
    public static func begin(path: String) throws(ModelError) -> Pending {
        let (directory, temporary) = temporaryPath(for: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ModelError.io(path: path, message: "cannot create a temporary file: \(String(cString: strerror(errno)))") }
        return Pending(path: path, temporary: temporary, directory: directory, fd: fd)
    }

    /// With `durable: false` the fsyncs are skipped (for scratch files that need no crash safety).
    public static func write(path: String, durable: Bool = true, _ body: (inout FileWriter) throws -> Void) throws {
        let pending = try begin(path: path)
        var writer = FileWriter(fd: pending.fd, path: path)
        do {
            try body(&writer)
            try writer.flush()
        } catch {
            pending.abandon()
            throw error
        }
        try pending.commit(durable: durable)
    }

    /// The same protocol for writers that must write by file name (libhdf5, ZIPFoundation): `body` writes the file
    /// at the temporary path it is given; it is then fsynced and renamed over `path`, and the folder fsynced.
    public static func write(path: String, throughTemporaryPath body: (String) throws -> Void) throws {
        let (directory, temporary) = temporaryPath(for: path)
        do {
            try body(temporary)
            let fd = open(temporary, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ModelError.io(path: path, message: "cannot reopen the temporary file: \(String(cString: strerror(errno)))") }
            let synced = fsync(fd) == 0
            close(fd)
            guard synced else { throw ModelError.io(path: path, message: "fsync failed: \(String(cString: strerror(errno)))") }
        } catch {
            unlink(temporary)
            throw error
        }
        try rename(temporary, over: path, directory: directory, durable: true)
    }

    /// The folder of `path` and a fresh temporary name beside it; temporaries of killed saves are removed first.
    public static func temporaryPath(for path: String) -> (directory: String, temporary: String) {
        let (directory, name) = split(path)
        removeStaleTemporaries(directory: directory, name: name)
        return (directory, "\(directory)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// Renames `temporary` over `path` (removing it on failure), then fsyncs the folder when durable.
    static func rename(_ temporary: String, over path: String, directory: String, durable: Bool) throws(ModelError) {
        guard Glibc.rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw ModelError.io(path: path, message: "rename failed: \(message)")
        }
        if durable { syncDirectory(directory) }
    }

    /// fsyncs a folder, so that a rename in it is durable.
    public static func syncDirectory(_ directory: String) {
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
        while let entry = readdir(dir) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if isStaleTemporary(entryName, of: name) { unlink("\(directory)/\(entryName)") }
        }
    }

    /// Whether `entry` is a temporary of a save to `name` (`.<name>.tmp-<pid>-...`) whose process no longer runs.
    public static func isStaleTemporary(_ entry: String, of name: String) -> Bool {
        let prefix = ".\(name).tmp-"
        guard entry.hasPrefix(prefix) else { return false }
        let rest = entry.dropFirst(prefix.count)
        guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]) else { return false }
        return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
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
