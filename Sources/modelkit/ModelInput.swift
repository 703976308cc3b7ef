import ArgumentParser
import Convert
import ModelFormat

extension FileFormat: ExpressibleByArgument {}
extension WeightLayout: ExpressibleByArgument {}

/// How every command that reads a model reads it (inspect, check, convert, predict, train, verify, diff): one set of
/// flags, parsed once, typed so that a bad value is a usage error (exit 2) listing the choices.
///
/// `--arch` and `--layout` describe weights that come without an architecture (foreign safetensors, npz, weight
/// folders). Given for a file that has its own, they would have no effect, so the read is refused (exit 1: it
/// depends on the file).
struct ModelInput: ParsableArguments {
    @Option(help: "Input format, when the extension does not tell.")
    var from: FileFormat?

    @Option(name: .customLong("arch"),
            help: "Architecture for weights that come without one (foreign safetensors, npz, weight folders), e.g. 4-16relu-3.",
            transform: { try ArchitectureSpec.parse($0) })
    var architecture: Architecture?

    @Option(help: "Naming and orientation of weights read with --arch: keras ([in, out], <layer>/kernel) or torch ([out, in], N.weight). Default: keras.")
    var layout: WeightLayout?

    /// Read options for these flags; `optimizer` is the command's own `--optimizer` where it takes one.
    func readOptions(optimizer: OptimizerSetting? = nil, use: OptimizerUse = .resume) -> ReadOptions {
        var options = ReadOptions()
        options.architecture = architecture
        if let layout { options.layout = layout }
        options.optimizer = optimizer
        options.optimizerUse = use
        options.warn = { Console.warning($0) }
        return options
    }

    /// The format of `path`: `--from` when given, else detected from the extension and the content.
    func format(of path: String) throws -> FileFormat {
        try from ?? ModelFiles.detect(path: path)
    }

    /// Loads `path`, refusing `--arch` or `--layout` when the file did not need them.
    func load(_ path: String, format known: FileFormat? = nil, optimizer: OptimizerSetting? = nil,
              use: OptimizerUse = .resume) throws -> Model {
        let options = readOptions(optimizer: optimizer, use: use)
        let model = try ModelFiles.load(path: path, format: try known ?? format(of: path), options: options)
        try refuseUnusedFlags(path, used: options.usage)
        return model
    }

    /// `--arch`/`--layout` given for a file that carries its own architecture: exit 1 naming the flag.
    func refuseUnusedFlags(_ path: String, used: ReadUsage) throws {
        guard !used.architectureUsed else { return }
        if architecture != nil {
            throw CommandFailure(message: "error: --arch does not apply to \(path): it carries its own architecture (--arch is for weights that come without one)")
        }
        if let layout {
            throw CommandFailure(message: "error: --layout \(layout.rawValue) does not apply to \(path): it carries its own architecture and tensor names (--layout describes weights read with --arch)")
        }
    }
}

/// Parsers for option values, so that a bad value is a usage error (exit 2) with the parser's message.
enum OptionValue {
    static func optimizer(_ text: String) throws -> OptimizerSetting { try OptimizerSetting(parsing: text) }
    static func loss(_ text: String) throws -> Loss { try LossSpec.parse(text) }
}
