import Foundation
import ModelFormat
import ModelHDF5

/// Reading HDF5 in a separate process. libhdf5 (1.10 in Debian 12) can crash or loop forever on a damaged file; a
/// tool that must answer "exit 0 or 1, never a signal, never a hang" cannot run it in its own process. When an
/// isolation is installed, `ModelFiles.detect` and `ModelFiles.load` hand every file that libhdf5 would parse (HDF5
/// signature, `.h5`, `.keras`) to it; the CLI installs one that re-runs itself (`modelkit _isolated`) with a time limit.
public struct HDF5Isolation: Sendable {
    public var detect: @Sendable (String) throws -> FileFormat
    public var load: @Sendable (String, FileFormat, ReadOptions) throws -> Model
    public init(detect: @escaping @Sendable (String) throws -> FileFormat,
                load: @escaping @Sendable (String, FileFormat, ReadOptions) throws -> Model) {
        self.detect = detect
        self.load = load
    }
}

extension ModelFiles {
    private static let isolationBox = IsolationBox()

    /// Installs (or, with nil, removes) the process isolation for libhdf5 reads.
    public static func isolateHDF5(_ isolation: HDF5Isolation?) { isolationBox.set(isolation) }

    static var isolation: HDF5Isolation? { isolationBox.get() }

    static let hdf5Formats: Set<FileFormat> = [.h5, .kerasH5, .keras]

    /// Whether detecting this file's format would open it with libhdf5 (an HDF5 signature where HDF5 looks for one).
    static func detectionNeedsHDF5(_ path: String) -> Bool {
        for offset in [0, 512, 1024, 2048] {
            if (try? FormatDetection.readStart(path, count: 8, at: UInt64(offset))) == FormatDetection.hdf5Signature { return true }
        }
        return false
    }
}

private final class IsolationBox: @unchecked Sendable {
    // @unchecked: every access holds the lock.
    private let lock = NSLock()
    private var value: HDF5Isolation?
    func set(_ v: HDF5Isolation?) { lock.lock(); value = v; lock.unlock() }
    func get() -> HDF5Isolation? { lock.lock(); defer { lock.unlock() }; return value }
}
