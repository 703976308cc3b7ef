import Foundation
import Testing
import ModelFormat
import Convert
import ReferenceEngine

/// Loading, converting and predicting from many tasks at once gives the same results as doing it alone: libhdf5 sits
/// behind one lock, and nothing else shares mutable state.
@Suite struct ConcurrencyTests {
    @Test func parallelLoadConvertPredict() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mk-conc-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var initial = ModelInitializer.initialize(architecture: try ArchitectureSpec.parse("6-16tanh-8relu-3softmax"), seed: 5)
        initial.optimizer = OptimizerState(config: .adam(AdamConfig()))
        let model = initial
        let source = dir.appendingPathComponent("m.mkf").path
        try MKFFile.write(model, path: source)
        let inputs = (0..<24).map { Double($0 % 7) / 7 - 0.4 }
        let expected = try Inference.predict(model, inputs: inputs, rows: 4)
        let formats: [(FileFormat, String)] = [(.h5, "h5"), (.json, "json"), (.safetensors, "safetensors"), (.npz, "npz"), (.mkf, "mkf"),
                                               (.kerasH5, "keras.h5")]

        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<24 {
                group.addTask {
                    let (format, ext) = formats[task % formats.count]
                    let loaded = try ModelFiles.load(path: source)
                    let path = dir.appendingPathComponent("t\(task).\(ext)").path
                    try ModelFiles.save(loaded, path: path, format: format)
                    let back = try ModelFiles.load(path: path, format: format)
                    #expect(back.weights == model.weights, "\(format) in task \(task)")
                    let outputs = try Inference.predict(back, inputs: inputs, rows: 4)
                    #expect(outputs.map(\.bitPattern) == expected.map(\.bitPattern), "\(format) in task \(task)")
                }
            }
            try await group.waitForAll()
        }
    }
}
