import Foundation
import Testing
@testable import Convert
import ModelFormat

func temporaryFolder() throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("convert-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}

func write(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

@Suite struct CSVDumpTests {
    @Test(arguments: [DType.f32, .f64, .f16, .bf16])
    func roundTripIsBitForBit(dtype: DType) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = TestModels.checkpoint(dtype)
        try ModelFiles.save(model, path: "\(dir)/dump", format: .csv)
        #expect(try ModelFiles.load(path: "\(dir)/dump", format: .csv) == model)
    }

    @Test func layoutOfTheFolder() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = TestModels.checkpoint(.f32)
        try CSVDump.write(model, path: dir, options: WriteOptions())
        let manifest = try String(contentsOfFile: "\(dir)/manifest.csv", encoding: .utf8).split(separator: "\n")
        #expect(manifest[0] == "name,role,dtype,shape,file")
        #expect(manifest[1] == "dense/kernel,weight,f32,5x4,dense__kernel.csv")
        #expect(manifest[2] == "dense/bias,weight,f32,4,dense__bias.csv")
        #expect(manifest.contains("optimizer/dense/kernel/velocity_hat,optimizer_slot,f32,5x4,optimizer__dense__kernel__velocity_hat.csv"))
        #expect(manifest.count == 1 + 11 + 27)
        // 2-D: rows × columns; 1-D: one row.
        let kernel = try NumericCSV.readFloatMatrix(path: "\(dir)/dense__kernel.csv")
        #expect(kernel.rows == 5 && kernel.columns == 4)
        #expect(kernel.values.map(\.bitPattern) == model.weights["dense/kernel"]!.floats().map(\.bitPattern))
        let bias = try NumericCSV.readFloatMatrix(path: "\(dir)/dense__bias.csv")
        #expect(bias.rows == 1 && bias.columns == 4)
        // model.json has the state but no tensor data.
        let state = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/model.json"))))
        #expect(state["format"] == .string("modelkit-csv") && state["tensors"] == nil && state["optimizer"] != nil)
    }

    @Test func higherRanksAndScalarsUseTheDocumentedGrid() {
        #expect(CSVDump.grid([]) == (1, 1))
        #expect(CSVDump.grid([7]) == (1, 7))
        #expect(CSVDump.grid([2, 3, 4]) == (2, 12))
        #expect(CSVDump.parseShape("2x3x4") == [2, 3, 4] && CSVDump.parseShape("scalar") == [] && CSVDump.parseShape("2x-1") == nil)
    }

    @Test func damagedDumpsAreRefusedWithWhere() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CSVDump.write(TestModels.plain(.f32), path: dir, options: WriteOptions())
        func loadError() -> ModelError? {
            do { _ = try CSVDump.read(path: dir, options: ReadOptions()); return nil } catch { return error as? ModelError }
        }
        let kernel = "\(dir)/dense__kernel.csv"
        let original = try String(contentsOfFile: kernel, encoding: .utf8)
        var lines = original.split(separator: "\n").map(String.init)
        lines[2] = lines[2].split(separator: ",").dropLast().joined(separator: ",")
        try write(lines.joined(separator: "\n"), to: kernel)
        #expect(loadError() == .parse(source: kernel, line: 3, column: 1, message: "row has 3 values but the first row (line 1) has 4"))
        try write(original.replacingOccurrences(of: "\n", with: ",oops\n", options: [], range: original.range(of: "\n")), to: kernel)
        let column = original.split(separator: "\n")[0].utf8.count + 2
        #expect(loadError() == .parse(source: kernel, line: 1, column: column, message: "'oops' is not a number"))
        try write(original.split(separator: "\n").prefix(4).joined(separator: "\n"), to: kernel)
        #expect(loadError() == .shapeMismatch(name: "dense/kernel", expected: [5, 4],
                                              detail: "file '\(kernel)' has 4 rows × 4 columns, expected 5 × 4"))
        try write(original, to: kernel)
        let manifest = "\(dir)/manifest.csv"
        let m = try String(contentsOfFile: manifest, encoding: .utf8)
        try write(m.replacingOccurrences(of: "dense/kernel,weight,f32", with: "dense/kernel,weight,f8"), to: manifest)
        #expect(loadError() == .unknownDType("f8", location: "\(manifest):2 (tensor 'dense/kernel')"))
        // A declared shape far beyond the file is refused before allocating.
        try write(m.replacingOccurrences(of: "f32,5x4,", with: "f32,50000x400000,"), to: manifest)
        #expect(loadError() == .shapeMismatch(name: "dense/kernel", expected: [50000, 400000],
                                              detail: "file '\(kernel)' of \(original.utf8.count) bytes cannot hold 20000000000 values"))
    }
}

@Suite struct ForeignDumpTests {
    let torchArchitecture = try! ArchitectureSpec.parse("4-16relu-3")

    /// PyTorch names and [out, in] weights, as numpy.savetxt writes them (1-D biases one value per line).
    @Test func torchCSVFolder() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w0 = (0..<64).map { Float($0) / 8 - 4 }, b0 = (0..<16).map { Float($0) / 4 }
        let w2 = (0..<48).map { Float($0) * 0.125 }, b2: [Float] = [0.5, -0.5, 1]
        try NumericCSV.write(rows: 16, columns: 4, values: w0, to: "\(dir)/0.weight.csv")
        try NumericCSV.write(rows: 16, columns: 1, values: b0, to: "\(dir)/0.bias.csv")
        try NumericCSV.write(rows: 3, columns: 16, values: w2, to: "\(dir)/2.weight.csv")
        try write("[0.5, -0.5, 1]", to: "\(dir)/2.bias.json")
        var options = ReadOptions()
        options.architecture = torchArchitecture
        options.layout = .torch
        let model = try ModelFiles.load(path: dir, format: .csv, options: options)
        // Our kernel is [in, out]: kernel[i][o] = weight[o][i].
        let kernel = model.weights["dense/kernel"]!
        #expect(kernel.shape == [4, 16])
        let k = kernel.floats()
        var transposedOK = true
        for i in 0..<4 { for o in 0..<16 where k[i * 16 + o] != w0[o * 4 + i] { transposedOK = false } }
        #expect(transposedOK)
        #expect(model.weights["dense/bias"]!.floats() == b0)
        #expect(model.weights["dense_1/bias"]!.floats() == b2)
        #expect(model.weights["dense_1/kernel"]!.shape == [16, 3])
    }

    @Test func kerasNamesAndShapeErrors() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = ReadOptions()
        options.architecture = torchArchitecture
        try NumericCSV.write(rows: 4, columns: 16, values: [Float](repeating: 1, count: 64), to: "\(dir)/dense__kernel.csv")
        try NumericCSV.write(rows: 1, columns: 16, values: [Float](repeating: 0, count: 16), to: "\(dir)/dense.bias.csv")
        try write("[[1,2,3],[4,5,6]]", to: "\(dir)/dense_1__kernel.json")
        try NumericCSV.write(rows: 1, columns: 3, values: [Float](repeating: 0, count: 3), to: "\(dir)/dense_1__bias.csv")
        #expect(throws: ModelError.shapeMismatch(name: "dense_1/kernel", expected: [16, 3],
                                                 detail: "file '\(dir)/dense_1__kernel.json' has shape [2, 3] (Keras [in, out])")) {
            try ModelFiles.load(path: dir, format: .csv, options: options)
        }
        let rows = (0..<16).map { r in "[" + (0..<3).map { c in String(r * 3 + c) }.joined(separator: ",") + "]" }
        try write("[" + rows.joined(separator: ",\n") + "]", to: "\(dir)/dense_1__kernel.json")
        let model = try ModelFiles.load(path: dir, format: .csv, options: options)
        #expect(model.weights["dense_1/kernel"]!.floats() == (0..<48).map(Float.init))
        #expect(throws: ModelError.self) { try ModelFiles.load(path: dir, format: .csv) }  // no --arch
        try write("1,2\n", to: "\(dir)/extra.csv")
        #expect(throws: ModelError.self) { try ModelFiles.load(path: dir, format: .csv, options: options) }
    }

    @Test func naturalOrderSortsNumbersByValue() {
        #expect(["10.weight", "2.weight", "fc10", "fc2", "0"].sorted(by: ForeignWeights.naturalOrder) == ["0", "2.weight", "10.weight", "fc2", "fc10"])
    }
}

@Suite struct ParallelCSVTests {
    @Test(arguments: [DType.f32, .f64])
    func largeTensorFilesRoundTrip(dtype: DType) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shape = [300, 1000]
        let tensor = TestModels.tensor(dtype, shape: shape, seed: 3)
        let path = "\(dir)/t.csv"
        let sink = try ByteSink(path: path)
        try TensorText.writeFloats(tensor, rowLength: 1000, rowEnd: 0x0a, quoteNonFinite: false, to: sink)
        try sink.finish()
        #expect(try CSVDump.readTensorFile(path, dtype: dtype, shape: shape, name: "t") == tensor)
        // The parallel path itself accepts the file.
        let direct = Tensor.zeros(dtype: dtype, shape: shape)
        let file = try InputFile(path: path)
        #expect(ParallelParse.csv(file.bytes, rows: 300, columns: 1000, dtype: dtype, into: UnsafeMutableRawPointer(mutating: direct.storage.base)))
        #expect(direct == tensor)
        // Errors deep in a large file keep their line and column (reported by the sequential parser).
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        var fields = lines[249].split(separator: ",").map(String.init)
        fields[10] = "oops"
        lines[249] = fields.joined(separator: ",")
        try write(lines.joined(separator: "\n") + "\n", to: path)
        let column = fields[0..<10].reduce(0) { $0 + $1.utf8.count + 1 } + 1
        #expect(throws: ModelError.parse(source: path, line: 250, column: column, message: "'oops' is not a number")) {
            try CSVDump.readTensorFile(path, dtype: dtype, shape: shape, name: "t")
        }
    }
}

@Suite struct ForeignWeightsTests {
    /// A PyTorch Sequential(Linear(3,4), BatchNorm1d(4), ReLU(), Dropout(), Linear(4,2), LayerNorm(2)) state_dict.
    func torchStateDict() -> [String: Tensor] {
        func t(_ values: [Float], _ shape: [Int]) -> Tensor { Tensor(values, shape: shape) }
        return [
            "0.weight": t((0..<12).map(Float.init), [4, 3]), "0.bias": t([1, 2, 3, 4], [4]),
            "1.weight": t([5, 6, 7, 8], [4]), "1.bias": t([9, 10, 11, 12], [4]),
            "1.running_mean": t([13, 14, 15, 16], [4]), "1.running_var": t([17, 18, 19, 20], [4]),
            "1.num_batches_tracked": try! Tensor(dtype: .i64, shape: [], bytes: [7, 0, 0, 0, 0, 0, 0, 0]),
            "4.weight": t((0..<8).map { Float($0) * 10 }, [2, 4]), "4.bias": t([21, 22], [2]),
            "5.weight": t([23, 24], [2]), "5.bias": t([25, 26], [2]),
        ]
    }

    @Test func torchNamesMapOntoEveryLayerKind() throws {
        let architecture = try ArchitectureSpec.parse("3-4-bn-relu-dropout0.5-2-ln")
        let w = try ForeignWeights.map(torchStateDict(), architecture: architecture, layout: .torch) { $0 }
        #expect(w["dense/kernel"]!.shape == [3, 4])
        // kernel[i][o] = weight[o][i] with weight[o][i] = 3·o + i.
        var kernel: [Float] = []
        for i in 0..<3 { for o in 0..<4 { kernel.append(Float(3 * o + i)) } }
        #expect(w["dense/kernel"]!.floats() == kernel)
        #expect(w["batch_normalization/gamma"]!.floats() == [5, 6, 7, 8])
        #expect(w["batch_normalization/beta"]!.floats() == [9, 10, 11, 12])
        #expect(w["batch_normalization/moving_mean"]!.floats() == [13, 14, 15, 16])
        #expect(w["batch_normalization/moving_variance"]!.floats() == [17, 18, 19, 20])
        var kernel1: [Float] = []
        for i in 0..<4 { for o in 0..<2 { kernel1.append(Float((4 * o + i) * 10)) } }
        #expect(w["dense_1/kernel"]!.floats() == kernel1)
        #expect(w["layer_normalization/gamma"]!.floats() == [23, 24])
        #expect(w["layer_normalization/beta"]!.floats() == [25, 26])
        #expect(w.count == architecture.parameters.count)
    }

    @Test func torchMismatchesAreNamed() throws {
        let architecture = try ArchitectureSpec.parse("3-4-bn-relu-dropout0.5-2-ln")
        var extra = torchStateDict()
        extra["6.weight"] = Tensor([1] as [Float], shape: [1])
        #expect(throws: ModelError.self) { try ForeignWeights.map(extra, architecture: architecture, layout: .torch) { $0 } }
        var missing = torchStateDict()
        missing["1.running_var"] = nil
        #expect(throws: ModelError.missingTensor("batch_normalization/moving_variance (PyTorch layout; no file or tensor maps to it)")) {
            try ForeignWeights.map(missing, architecture: architecture, layout: .torch) { $0 }
        }
        var wrong = torchStateDict()
        wrong["0.weight"] = Tensor((0..<12).map(Float.init), shape: [3, 4])  // Keras orientation given as torch
        #expect(throws: ModelError.shapeMismatch(name: "dense/kernel", expected: [4, 3], detail: "0.weight has shape [3, 4] (PyTorch [out, in])")) {
            try ForeignWeights.map(wrong, architecture: architecture, layout: .torch) { $0 }
        }
    }
}
