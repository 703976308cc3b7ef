import ArgumentParser
import Convert
import ModelFormat

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a model between formats (mkf, h5, keras-h5, keras, safetensors, npz, json, csv, onnx).",
        discussion: """
        Formats come from the extensions and are confirmed from the content; --from and --to override. A .h5 \
        output is ModelKit's HDF5 layout unless --to keras-h5. A folder output is a CSV dump.

        Nothing is dropped silently: what the target cannot hold is refused, or dropped with a warning under \
        --allow-lossy. A file that keeps optimizer state without the settings it depends on (a .keras whose \
        config.json has no optimizer) converts once --optimizer gives them.
        """)

    @Argument(help: "Input file or folder.") var input: String
    @Argument(help: "Output file or folder.") var output: String
    @OptionGroup var source: ModelInput
    @Option(help: "Output format (default: from the extension).") var to: FileFormat?
    @Option(help: "Optimizer settings the input keeps state for but does not record, e.g. sgd:lr=0.05,momentum=0.9,nesterov=false; must agree with what it records.",
            transform: OptionValue.optimizer)
    var optimizer: OptimizerSetting?
    @Flag(help: "Chunk and deflate tensors (HDF5 outputs).") var compress = false
    @Flag(help: "Drop what the target cannot hold, with a warning naming it, instead of refusing.") var allowLossy = false

    var outputFormat: FileFormat { to ?? FileFormat.forOutput(path: output) }

    func validate() throws {
        if compress, outputFormat != .h5, outputFormat != .kerasH5 {
            throw ValidationError("--compress applies to HDF5 outputs (h5, keras-h5); the output is \(outputFormat.rawValue)")
        }
    }

    func run() throws {
        let inputFormat = try source.format(of: input)
        let model = try source.load(input, format: inputFormat, optimizer: optimizer, use: .convert)
        if optimizer != nil, model.optimizer == nil {
            throw CommandFailure(message: "error: --optimizer does not apply to \(input): it holds no optimizer state to complete")
        }
        var writeOptions = WriteOptions()
        writeOptions.compress = compress
        writeOptions.allowLossy = allowLossy
        writeOptions.warn = { Console.warning($0) }
        try ModelFiles.save(model, path: output, format: outputFormat, options: writeOptions)
        print("converted \(input) (\(inputFormat.rawValue)) to \(output) (\(outputFormat.rawValue))")
    }
}
