import Foundation

/// Runs the built `modelkit` executable. `swift build` (or `swift test`, which builds every target) puts it in
/// the same folder as the test bundle; MODELKIT_BIN overrides.
enum CLI {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["MODELKIT_BIN"] { return URL(fileURLWithPath: path) }
        // The test bundle lives in .build/<config>/; the executable beside it.
        let bundleDir = Bundle.main.bundleURL
        let candidate = bundleDir.appendingPathComponent("modelkit")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        return repoRoot.appendingPathComponent(".build/debug/modelkit")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `modelkit args...` in `directory` and returns its exit status and output. A run that outlives
    /// `timeout` seconds is killed and reported with status -9 and stderr "timed out".
    @discardableResult
    static func run(_ args: [String], in directory: URL? = nil, timeout: Double) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = args
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = DispatchTime.now() + timeout
        let timedOut = ManagedFlag()
        DispatchQueue.global().asyncAfter(deadline: deadline) {
            if process.isRunning { timedOut.set(); kill(process.processIdentifier, SIGKILL) }
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if timedOut.value { return Result(status: -9, stdout: "", stderr: "timed out after \(timeout) s") }
        if process.terminationReason == .uncaughtSignal {
            return Result(status: -process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                          stderr: "killed by signal \(process.terminationStatus)")
        }
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs with a limit far beyond any test's needs, so that a hang still ends the test.
    @discardableResult
    static func run(_ args: [String], in directory: URL? = nil) throws -> Result {
        try run(args, in: directory, timeout: 600)
    }

    /// A fresh empty directory for one test.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("modelkit-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A flag set from another thread.
final class ManagedFlag: @unchecked Sendable {
    // @unchecked: every access holds the lock.
    private let lock = NSLock()
    private var flag = false
    func set() { lock.lock(); flag = true; lock.unlock() }
    var value: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}
