import ArgumentParser
import Convert
import ModelFormat

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a model between formats (mkf, h5, keras-h5, keras, safetensors, npz, json, csv, onnx).",
        discussion: """
        Formats come from the extensions and are confirmed from the content; --from and --to override. A .h5 output
        is ModelKit's HDF5 layout unless --to keras-h5. A folder output is a CSV dump. Nothing is dropped silently:
        what the target cannot hold is refused, or dropped with a warning under --allow-lossy.
        """)

    @Argument(help: "Input file or folder.") var input: String
    @Argument(help: "Output file or folder.") var output: String
    @Option(help: "Input format.") var from: String?
    @Option(help: "Output format.") var to: String?
    @Option(name: .customLong("arch"), help: "Architecture for inputs that carry none (safetensors, foreign dumps), e.g. 4-16relu-3.")
    var architecture: String?
    @Option(help: "Naming and orientation of foreign weights: keras ([in, out], <layer>/kernel) or torch ([out, in], N.weight).")
    var layout: String = "keras"
    @Flag(help: "Chunk and deflate tensors (HDF5 outputs).") var compress = false
    @Flag(help: "Drop what the target cannot hold, with a warning naming it, instead of refusing.") var allowLossy = false

    func run() throws {
        var readOptions = ReadOptions()
        if let architecture { readOptions.architecture = try ArchitectureSpec.parse(architecture) }
        guard let layout = WeightLayout(rawValue: layout) else { throw ValidationError("--layout must be keras or torch") }
        readOptions.layout = layout
        readOptions.warn = { printError("warning: \($0)") }
        let inputFormat = try from.map { try OutputFormat.resolve(path: input, requested: $0) } ?? ModelFiles.detect(path: input)
        let outputFormat = try OutputFormat.resolve(path: output, requested: to)
        let model = try ModelFiles.load(path: input, format: inputFormat, options: readOptions)
        var writeOptions = WriteOptions()
        writeOptions.compress = compress
        writeOptions.allowLossy = allowLossy
        writeOptions.warn = { printError("warning: \($0)") }
        try ModelFiles.save(model, path: output, format: outputFormat, options: writeOptions)
        print("converted \(input) (\(inputFormat.rawValue)) to \(output) (\(outputFormat.rawValue))")
    }
}
