import Foundation
import ModelFormat
import Testing

/// Random damage to files of every format ModelKit writes, fed to check, inspect, convert and predict: each run ends
/// with exit 0 or 1 and, on 1, a one-line message; never a signal, never a hang. `check` finds every damaged .mkf.
@Suite struct MutationTests {
    /// Formats ModelKit writes and reads back, by output file name.
    static let outputs = ["m.mkf", "m.h5", "m.safetensors", "m.npz", "m.json"]

    struct Mutator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

        /// One of: flip a few random bytes, truncate, insert random bytes, or overwrite a run with 0xFF.
        mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
            var b = bytes
            switch below(4) {
            case 0: for _ in 0...below(4) { let i = below(b.count); b[i] ^= UInt8(truncatingIfNeeded: 1 + below(255)) }
            case 1: b = Array(b[0..<below(b.count)])
            case 2: b.insert(contentsOf: (0..<(1 + below(16))).map { _ in UInt8(truncatingIfNeeded: next()) }, at: below(b.count))
            default:
                let start = below(b.count)
                for i in start..<min(b.count, start + 1 + below(64)) { b[i] = 0xFF }
            }
            return b
        }
    }

    @Test(arguments: outputs) func damagedFilesNeverCrashOrHang(_ output: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let made = try CLI.run(["init", "--arch", "3-5relu-bn-2softmax", "--seed", "7", "--optimizer", "adam", "--loss",
                                "categorical_crossentropy", "-o", "m.mkf"], in: dir)
        #expect(made.status == 0, "\(made.stderr)")
        if output != "m.mkf" {
            let converted = try CLI.run(["convert", "m.mkf", output], in: dir)
            #expect(converted.status == 0, "\(output): \(converted.stderr)")
            guard converted.status == 0 else { return }
        }
        try "0.5,-1,2\n1,0,0.25\n".write(to: dir.appendingPathComponent("x.csv"), atomically: true, encoding: .utf8)
        let original = [UInt8](try Data(contentsOf: dir.appendingPathComponent(output)))
        let ext = (output as NSString).pathExtension
        var mutator = Mutator(state: UInt64(truncatingIfNeeded: output.hashValue & 0) &+ UInt64(truncatingIfNeeded: output.utf8.reduce(0) { $0 &* 31 &+ Int($1) }))
        var damages: [[UInt8]] = (0..<12).map { _ in
            // A mutation can leave the bytes as they were (0xFF over 0xFF, two flips of one byte that cancel): draw again.
            var damaged = mutator.mutate(original)
            while damaged == original { damaged = mutator.mutate(original) }
            return damaged
        }
        if ext == "mkf" {
            // Random damage seldom lands in tensor data (about a fifth of this file, much of it padding): one flipped
            // byte in the middle of each tensor too, which only that tensor's checksum can find.
            let header = try MKFFile.readHeader(path: dir.appendingPathComponent(output).path)
            for entry in header.tensors {
                var damaged = original
                damaged[header.dataStart + entry.offset + entry.length / 2] ^= 0x10
                damages.append(damaged)
            }
        }
        for (round, damaged) in damages.enumerated() {
            let name = "bad\(round).\(ext)"
            try Data(damaged).write(to: dir.appendingPathComponent(name))
            for args in [["check", name], ["inspect", name], ["convert", name, "out\(round).mkf"], ["predict", name, "--input", "x.csv"]] {
                let r = try CLI.run(args, in: dir, timeout: 30)
                #expect(r.status == 0 || r.status == 1, "\(args.joined(separator: " ")) (round \(round)): status \(r.status): \(r.stderr)")
                if ext == "mkf" && args[0] == "check" {
                    // Checksums cover every byte of a .mkf (and the trailer its length): any change is found.
                    #expect(r.status == 1, "check passed a damaged .mkf (round \(round))")
                }
                if r.status == 1 {
                    #expect(r.stderr.hasPrefix("modelkit: "), "\(args.joined(separator: " ")): \(r.stderr)")
                }
                if r.status != 0 && r.status != 1 {
                    // Keep the input that broke it, for a regression fixture.
                    try? Data(damaged).write(to: FileManager.default.temporaryDirectory.appendingPathComponent("modelkit-mutation-\(output)-\(round).\(ext)"))
                }
            }
        }
    }
}
