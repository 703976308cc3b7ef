import ArgumentParser
import Foundation
import ModelFormat
#if canImport(Glibc)
import Glibc
#endif

/// Exit codes are a contract: 0 success; 1 bad input or a failed check; 2 usage error.
@main
struct ModelKit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modelkit",
        abstract: "Archive, convert, check, run and resume training of neural-network model files.",
        version: "0.1.0",
        subcommands: [InitCommand.self, InspectCommand.self, CheckCommand.self, ConvertCommand.self,
                      PredictCommand.self, TrainCommand.self, VerifyCommand.self, DiffCommand.self, IsolatedCommand.self])

    static func main() {
        do {
            var command = try parseAsRoot()
            // libhdf5 runs in a child process (see HDF5Isolation), except in that child and when asked not to.
            if !(command is IsolatedCommand), ProcessInfo.processInfo.environment["MODELKIT_HDF5_IN_PROCESS"] != "1" {
                ProcessIsolation.install()
            }
            try command.run()
        } catch let failure as CommandFailure {
            if !failure.message.isEmpty { Console.line(failure.message) }
            finish(failure.code)
        } catch let error as ModelError {
            Console.line("error: \(error)")
            finish(1)
        } catch let code as ExitCode {
            finish(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                finish(0)
            }
            if code == .validationFailure {
                Console.line(fullMessage(for: error))
                finish(2)
            }
            Console.line("error: \(error)")
            finish(1)
        }
    }
}

/// Ends the process. Failures end with `_exit` after flushing stdio: libhdf5's exit handler would otherwise try to
/// close a file whose write failed (a full disk) and crash in H5F__close_cb, turning exit 1 into a segfault.
func finish(_ code: Int32) -> Never {
    fflush(nil)
    if code == 0 { exit(0) }
    _exit(code)
}

/// A command's own failure with its exit code (1 for a failed check or bad input).
struct CommandFailure: Error {
    var code: Int32 = 1
    var message: String
}

/// The one way the CLI writes to stderr: messages start with `modelkit: ` and end with a newline.
enum Console {
    /// `modelkit: <message>` on a line of its own.
    static func line(_ message: String) {
        var text = message
        if !text.hasPrefix("modelkit") { text = "modelkit: " + text }
        if !text.hasSuffix("\n") { text += "\n" }
        write(text)
    }

    static func warning(_ message: String) { line("warning: \(message)") }

    static func note(_ message: String) { line("note: \(message)") }

    /// Raw text (progress bars redraw with `\r`). Straight to fd 2: the C `stderr` global is shared mutable state to
    /// Swift 6.
    static func write(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
    }

    static var isTerminal: Bool { isatty(2) != 0 }
}
