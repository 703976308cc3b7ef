#if canImport(Glibc)
import Glibc
#endif
import CFileSystem
import Foundation
import ModelFormat

/// Replaces a folder as a whole, as `AtomicFile` does a file: the new content is written into a temporary folder
/// beside the target (`.<name>.tmp-<pid>-<random>`), which then takes the target's place in one step
/// (renameat2 with RENAME_EXCHANGE when a target exists, rename otherwise), and the old content, now at the
/// temporary name, is removed. A failed or killed save leaves the target the complete old folder or the complete new
/// one; folders left by killed saves are removed by the next save to the same target.
enum AtomicFolder {
    /// `body` writes the new content into the folder path it is given. `replaceable` says whether an existing folder
    /// at `path` may be replaced (it is never replaced when it holds something else than a model dump).
    static func write(path: String, replaceable: (String) -> Bool, _ body: (String) throws -> Void) throws {
        var target = path
        while target.count > 1, target.hasSuffix("/") { target.removeLast() }
        let (directory, name) = AtomicFile.split(target)
        removeStaleTemporaries(directory: directory, name: name)
        var st = stat()
        let exists = lstat(target, &st) == 0
        if exists {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw ModelError.io(path: target, message: "exists and is not a folder") }
            guard replaceable(target) else {
                throw ModelError.io(path: target, message: "is a folder with other files than a ModelKit dump; not replacing it")
            }
        }
        let temporary = AtomicFile.temporaryPath(for: target).temporary
        guard mkdir(temporary, 0o755) == 0 else {
            throw ModelError.io(path: target, message: "cannot create a temporary folder: \(String(cString: strerror(errno)))")
        }
        do {
            try body(temporary)
            try fsync(path: temporary, target: target)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        do {
            // Another save may create the target between the check above and the rename: then swap with it.
            let renamed = exists ? false : try renameOntoMissing(temporary, target, replaceable: replaceable)
            if !renamed { try exchange(temporary, target) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        AtomicFile.syncDirectory(directory)
    }

    /// Renames `temporary` to the missing `target`: true when done, false when a replaceable target appeared meanwhile.
    static func renameOntoMissing(_ temporary: String, _ target: String, replaceable: (String) -> Bool) throws -> Bool {
        if rename(temporary, target) == 0 { return true }
        let code = errno
        guard code == ENOTEMPTY || code == EEXIST, replaceable(target) else {
            throw ModelError.io(path: target, message: "rename failed: \(String(cString: strerror(code)))")
        }
        return false
    }

    /// Puts `temporary` in `target`'s place in one step and removes the old content (now at `temporary`).
    static func exchange(_ temporary: String, _ target: String) throws {
        if mk_rename_exchange(temporary, target) == 0 {
            try? FileManager.default.removeItem(atPath: temporary)
            return
        }
        let code = errno
        guard code == EINVAL || code == ENOSYS else {
            throw ModelError.io(path: target, message: "cannot swap in the new folder: \(String(cString: strerror(code)))")
        }
        // A file system that cannot exchange: two renames, so a kill between them leaves the old folder at
        // `<temporary>.old` and no target; the next save's clean-up keeps such a folder while the target is missing.
        let old = temporary + ".old"
        guard rename(target, old) == 0 else {
            throw ModelError.io(path: target, message: "rename failed: \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, target) == 0 else {
            let message = String(cString: strerror(errno))
            _ = rename(old, target)
            throw ModelError.io(path: target, message: "rename failed: \(message)")
        }
        try? FileManager.default.removeItem(atPath: old)
    }

    /// Device and inode of what `path` names now (nil when absent): a swap in of a new folder changes it.
    static func identity(_ path: String) -> [UInt64]? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return [UInt64(st.st_dev), UInt64(st.st_ino)]
    }

    /// The names in a folder (without `.` and `..`), or nil when it cannot be read.
    static func entries(_ path: String) -> [String]? {
        try? FileManager.default.contentsOfDirectory(atPath: path)
    }

    /// Every file in the folder, then the folder itself, reaches the disk before the folder takes the target's place.
    static func fsync(path: String, target: String) throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            let fd = open("\(path)/\(name)", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            let ok = Glibc.fsync(fd) == 0
            close(fd)
            guard ok else { throw ModelError.io(path: target, message: "fsync failed: \(String(cString: strerror(errno)))") }
        }
        AtomicFile.syncDirectory(path)
    }

    /// Removes temporary folders of this target whose process no longer runs. A `.old` folder (the two-rename
    /// fallback killed between its renames) is kept when the target is missing: it is then the only copy.
    static func removeStaleTemporaries(directory: String, name: String) {
        let targetExists = access("\(directory)/\(name)", F_OK) == 0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            if entry.hasSuffix(".old") && !targetExists { continue }
            if AtomicFile.isStaleTemporary(entry, of: name) {
                try? FileManager.default.removeItem(atPath: "\(directory)/\(entry)")
            }
        }
    }
}
