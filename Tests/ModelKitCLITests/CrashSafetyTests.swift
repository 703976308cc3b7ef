import Foundation
import Testing

/// Saves killed with SIGKILL at random moments, and saves that hit a file-size limit, never damage the file they were
/// replacing: afterwards the target is byte for byte the complete old file or the complete new one, `check` passes,
/// and no temporary file is left behind once the next save has run.
@Suite(.serialized) struct CrashSafetyTests {
    static let formats = ["mkf", "h5", "safetensors", "npz", "json"]
    static let killsPerFormat = 24

    /// A model large enough (about 3 MB as .mkf) that a save takes tens of milliseconds.
    static func makeModels(in dir: URL) throws {
        for (name, seed) in [("old.mkf", "1"), ("new.mkf", "2")] {
            let r = try CLI.run(["init", "--arch", "512-512relu-512relu-512relu-10softmax", "--seed", seed,
                                 "--optimizer", "adam", "--loss", "categorical_crossentropy", "-o", name], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
        }
    }

    static func bytes(_ dir: URL, _ name: String) -> Data? { try? Data(contentsOf: dir.appendingPathComponent(name)) }

    static func temporaries(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.contains(".tmp-") }
    }

    @Test(arguments: formats) func killedSavesLeaveTheOldOrTheNewFile(_ format: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.makeModels(in: dir)
        let target = "target.\(format)"
        // Writers are deterministic, so "complete old" and "complete new" are exact byte strings.
        #expect(try CLI.run(["convert", "old.mkf", "expected-old.\(format)"], in: dir).status == 0)
        let started = Date()
        #expect(try CLI.run(["convert", "new.mkf", "expected-new.\(format)"], in: dir).status == 0)
        let duration = Date().timeIntervalSince(started)
        #expect(try CLI.run(["convert", "new.mkf", "again.\(format)"], in: dir).status == 0)
        let old = try #require(Self.bytes(dir, "expected-old.\(format)"))
        let new = try #require(Self.bytes(dir, "expected-new.\(format)"))
        #expect(Self.bytes(dir, "again.\(format)") == new, "\(format) writer is not deterministic")
        #expect(old != new)

        var outcomes = (old: 0, new: 0)
        var generator = SystemRandomNumberGenerator()
        for kill in 0..<Self.killsPerFormat {
            try old.write(to: dir.appendingPathComponent(target))
            let process = Process()
            process.executableURL = CLI.binary
            process.arguments = ["convert", "new.mkf", target]
            process.currentDirectoryURL = dir
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32(Double.random(in: 0...(duration * 1.1), using: &generator) * 1e6))
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let after = Self.bytes(dir, target)
            if after == old { outcomes.old += 1 } else if after == new { outcomes.new += 1 } else {
                try? after?.write(to: URL(fileURLWithPath: "/tmp/crash-other-\(kill).\(format)"))
                Issue.record("\(format): kill \(kill) left a target that is neither the old nor the new file (\(after?.count ?? -1) bytes)")
            }
            if kill % 6 == 0 {
                let check = try CLI.run(["check", target], in: dir)
                #expect(check.status == 0, "\(format): check after kill \(kill): \(check.stderr)")
            }
        }
        // Both outcomes occurring shows that kills landed before and after the rename, not all at one end.
        print("\(format): \(Self.killsPerFormat) kills, old file kept \(outcomes.old) times, new file complete \(outcomes.new) times")
        #expect(try CLI.run(["convert", "new.mkf", target], in: dir).status == 0)
        #expect(Self.temporaries(dir).isEmpty, "\(format): temporaries left: \(Self.temporaries(dir))")
    }

    @Test(arguments: formats) func fileSizeLimitLeavesTheOldFileAndNoTemporaries(_ format: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.makeModels(in: dir)
        let target = "target.\(format)"
        #expect(try CLI.run(["convert", "old.mkf", target], in: dir).status == 0)
        let old = try #require(Self.bytes(dir, target))
        // A "full disk" for this process: RLIMIT_FSIZE of 1 MB, with SIGXFSZ ignored so that write() fails with EFBIG.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "trap '' XFSZ; ulimit -f 2048; exec \"$0\" convert new.mkf \(target)", CLI.binary.path]
        process.currentDirectoryURL = dir
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(format): \(process.terminationStatus) \(message)")
        #expect(message.hasPrefix("modelkit: error: "), "\(format): \(message)")
        #expect(Self.bytes(dir, target) == old, "\(format): the old file changed")
        #expect(Self.temporaries(dir).isEmpty, "\(format): temporaries left: \(Self.temporaries(dir))")
        #expect(try CLI.run(["check", target], in: dir).status == 0)
    }
}
