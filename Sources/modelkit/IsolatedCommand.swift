import ArgumentParser
import Convert
import Foundation
import ModelFormat

/// `modelkit _isolated`: the child side of `HDF5Isolation`. Detects a file's format, or loads it and writes it as a
/// scratch `.mkf` that the parent maps. Not for users; hidden from help.
struct IsolatedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_isolated", shouldDisplay: false)

    @Argument var path: String
    @Option var format: String?
    @Option var out: String?
    @Flag var noVerify = false
    @Option var layout: String = "keras"
    /// `ReadOptions.optimizer` as the user wrote it.
    @Option var optimizer: String?
    @Option var optimizerUse: String = "resume"
    @Option var sourceName: String?

    func run() throws {
        guard let format else {
            print(try ModelFiles.detectInProcess(path: path).rawValue)
            return
        }
        guard let fileFormat = FileFormat(rawValue: format), let out else { throw ValidationError("--format and --out go together") }
        var options = ReadOptions()
        options.verifyChecksums = !noVerify
        options.layout = WeightLayout(rawValue: layout) ?? .keras
        options.optimizer = try optimizer.map { try OptimizerSetting(parsing: $0) }
        options.optimizerUse = optimizerUse == "convert" ? .convert : .resume
        options.sourceName = sourceName
        // Warnings go to this child's stderr; the parent passes them on.
        options.warn = { Console.write("\(ProcessIsolation.warningPrefix)\($0)\n") }
        let model = try ModelFiles.loadInProcess(path: path, format: fileFormat, options: options)
        // The scratch file carries the assumed values; which settings they stand for goes to stdout.
        try MKFFile.write(model, path: out, durable: false)
        if let u = model.optimizer?.unrecorded {
            print(JSONValue.object([("source", .string(u.source)), ("keys", .array(u.keys.map { .string($0) })),
                                    ("assumption", .string(u.assumption))]).text)
        }
    }
}

/// The parent side: runs `modelkit _isolated` on the same executable with a time limit.
enum ProcessIsolation {
    static func install() {
        ModelFiles.isolateHDF5(HDF5Isolation(
            detect: { path in
                let output = try runChild(["_isolated", path], path: path)
                guard let format = FileFormat(rawValue: output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw ModelError.format("'\(path)': could not tell the format (isolated reader said '\(output.prefix(80))')")
                }
                return format
            },
            load: { path, format, options in
                let scratchDirectory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
                let scratch = "\(scratchDirectory)/modelkit-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).mkf"
                defer { unlink(scratch) }
                var args = ["_isolated", path, "--format", format.rawValue, "--out", scratch, "--layout", options.layout.rawValue]
                if !options.verifyChecksums { args.append("--no-verify") }
                if let optimizer = options.optimizer { args += ["--optimizer", optimizer.text] }
                if case .convert = options.optimizerUse { args += ["--optimizer-use", "convert"] }
                if let sourceName = options.sourceName { args += ["--source-name", sourceName] }
                let output = try runChild(args, path: path, warn: options.warn)
                // The scratch file was written by our own child a moment ago; its checksums were just computed.
                var model = try MKFFile.read(path: scratch, verifyChecksums: false)
                let line = output.trimmingCharacters(in: .whitespacesAndNewlines)
                if !line.isEmpty, model.optimizer != nil {
                    let json = try JSONParser.parse(Array(line.utf8))
                    guard case .string(let source)? = json["source"], case .array(let keys)? = json["keys"],
                          case .string(let assumption)? = json["assumption"] else {
                        throw ModelError.format("'\(path)': the isolated reader's answer is not understood: \(line.prefix(80))")
                    }
                    model.optimizer?.unrecorded = UnrecordedSettings(
                        source: source, keys: keys.compactMap { if case .string(let k) = $0 { return k } else { return nil } },
                        assumption: assumption)
                }
                return model
            }))
    }

    /// Seconds a child may take: generous for large files, short enough that a libhdf5 loop ends a run quickly.
    static func timeLimit(for path: String) -> Double {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.doubleValue ?? 0
        return 10 + size / 20e6
    }

    static let warningPrefix = "modelkit-isolated-warning: "

    static func runChild(_ args: [String], path: String, warn: (String) -> Void = { _ in }) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let limit = timeLimit(for: path)
        let timedOut = Flag()
        DispatchQueue.global().asyncAfter(deadline: .now() + limit) {
            if process.isRunning { timedOut.set(); kill(process.processIdentifier, SIGKILL) }
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if timedOut.value {
            throw ModelError.format("'\(path)': the HDF5 library did not finish reading this file within \(Int(limit)) s; it is damaged")
        }
        if process.terminationReason == .uncaughtSignal {
            throw ModelError.format("'\(path)': the HDF5 library crashed (signal \(process.terminationStatus)) reading this file; it is damaged")
        }
        let stderrLines = String(decoding: stderr, as: UTF8.self).split(separator: "\n")
        for line in stderrLines where line.hasPrefix(warningPrefix) { warn(String(line.dropFirst(warningPrefix.count))) }
        guard process.terminationStatus == 0 else {
            var message = stderrLines.filter { !$0.hasPrefix(warningPrefix) }.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if message.hasPrefix("modelkit: error: ") { message.removeFirst("modelkit: error: ".count) }
            throw ModelError.format(message.isEmpty ? "'\(path)': reading failed (exit \(process.terminationStatus))" : message)
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    final class Flag: @unchecked Sendable {
        // @unchecked: every access holds the lock.
        private let lock = NSLock()
        private var flag = false
        func set() { lock.lock(); flag = true; lock.unlock() }
        var value: Bool { lock.lock(); defer { lock.unlock() }; return flag }
    }
}
