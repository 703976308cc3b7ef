import ArgumentParser
import Convert
import ModelFormat
import ReferenceEngine

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Run a model forward on the rows of a CSV file.",
        discussion: """
        One output row per input row, each value printed as the shortest text that reads back to the same value in \
        the model's dtype (f32, or f64 for f64 models). Dropout is off and BatchNormalization uses its moving \
        statistics. Writes to stdout unless -o is given.
        """)

    @Argument(help: "The model file (any format ModelKit reads).")
    var model: String

    @OptionGroup var source: ModelInput

    @Option(help: "CSV of inputs: one sample per row.")
    var input: String

    @Option(name: .shortAndLong, help: "Output CSV (default: stdout).")
    var output: String?

    func run() throws {
        let model = try source.load(model)
        let architecture = try model.runnableArchitecture()
        let inputs = try EngineSupport.readInputs(input, for: architecture)
        let outputColumns = Inference.outputShape(of: architecture).reduce(1, *)
        let bytes: [UInt8]
        if model.floatDType == .f64 {
            let y = try Inference.predict(model, inputs: inputs.values, rows: inputs.rows, as: Double.self)
            if let output { try NumericCSV.write(rows: inputs.rows, columns: outputColumns, values: y, to: output); return }
            bytes = NumericCSV.encode(rows: inputs.rows, columns: outputColumns, values: y)
        } else {
            // Each input rounded once from its text's Double value to Float, as float32(numpy.loadtxt(...)) does.
            let y = try Inference.predict(model, inputs: inputs.values.map { Float($0) }, rows: inputs.rows, as: Float.self)
            if let output { try NumericCSV.write(rows: inputs.rows, columns: outputColumns, values: y, to: output); return }
            bytes = NumericCSV.encode(rows: inputs.rows, columns: outputColumns, values: y)
        }
        print(String(decoding: bytes, as: UTF8.self), terminator: "")
    }
}
