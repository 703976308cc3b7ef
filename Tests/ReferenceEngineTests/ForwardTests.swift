import Foundation
import Testing
import ModelFormat
@testable import ReferenceEngine

/// The forward pass against a plain f64 computation written here, loop by loop, from the layer definitions.
struct ForwardTests {
    /// y = act(x·W + b), computed naively.
    func naiveDense(_ x: [Double], rows: Int, _ w: [Double], _ b: [Double], inWidth: Int, units: Int, _ f: (Double) -> Double) -> [Double] {
        var out = [Double](repeating: 0, count: rows * units)
        for r in 0..<rows {
            for u in 0..<units {
                var s = 0.0
                for k in 0..<inWidth { s += x[r * inWidth + k] * w[k * units + u] }
                out[r * units + u] = f(s + b[u])
            }
        }
        return out
    }

    @Test(arguments: [DType.f32, DType.f64])
    func denseStackMatchesNaiveComputation(dtype: DType) throws {
        let arch = Architecture(inputShape: [5], layers: [dense("d1", 7, .tanh), dense("d2", 4, .relu), dense("d3", 3, .sigmoid)])
        let model = randomModel(arch, dtype: dtype, seed: 11)
        var random = TestRandom(5)
        let rows = 9
        let x = random.values(rows * 5, -2, 2).map { dtype == .f32 ? Double(Float($0)) : $0 }
        let w = { (name: String) in model.weights[name]!.doubles() }
        var h = naiveDense(x, rows: rows, w("d1/kernel"), w("d1/bias"), inWidth: 5, units: 7, Foundation.tanh)
        h = naiveDense(h, rows: rows, w("d2/kernel"), w("d2/bias"), inWidth: 7, units: 4) { max($0, 0) }
        h = naiveDense(h, rows: rows, w("d3/kernel"), w("d3/bias"), inWidth: 4, units: 3) { 1 / (1 + Foundation.exp(-$0)) }
        let y = try Inference.predict(model, inputs: x, rows: rows)
        #expect(y.count == rows * 3)
        let tolerance = dtype == .f32 ? 1e-6 : 1e-14
        for i in 0..<y.count { #expect(abs(y[i] - h[i]) <= tolerance, "output \(i): \(y[i]) vs \(h[i])") }
    }

    /// predict cuts each batch into fixed blocks run on several threads: the result must be the blocks' forward
    /// passes run one after the other, bit for bit, on every run.
    @Test func blocksOnThreadsEqualSequentialForwardPasses() throws {
        let arch = Architecture(inputShape: [40], layers: [dense("d1", 64, .relu),
                                                           Layer(name: "ln", kind: .layerNormalization(LayerNormalizationConfig())),
                                                           dense("d2", 5, .softmax)])
        let model = randomModel(arch, dtype: .f32, seed: 4)
        var random = TestRandom(8)
        let rows = 1300
        let x = random.values(rows * 40).map { Float($0) }
        let blocks = Inference.blocks(rows: rows, batchSize: 1000)
        #expect(blocks.map(\.count) == [250, 250, 250, 250, 150, 150])
        let network = try Network<Float>(model: model)
        var expected: [Float] = []
        for block in blocks {
            let part = Matrix(rows: block.count, cols: 40, data: Array(x[(block.lowerBound * 40)..<(block.upperBound * 40)]))
            expected += network.forward(part, mode: .inference).data
        }
        for _ in 0..<3 {
            let y = try Inference.predict(model, inputs: x, rows: rows, batchSize: 1000, as: Float.self)
            #expect(y.map(\.bitPattern) == expected.map(\.bitPattern))
        }
    }

    /// f16 and bf16 models run in f32 on their widened weights; training them is refused with a typed error.
    @Test(arguments: [DType.f16, DType.bf16])
    func halfPrecisionModelsRunWidened(dtype: DType) throws {
        let arch = Architecture(inputShape: [3], layers: [dense("d1", 4, .silu), dense("d2", 2)])
        let half = randomModel(arch, dtype: dtype, seed: 2)
        var widened = half
        widened.weights = half.weights.mapValues { Tensor($0.floats(), shape: $0.shape) }
        let x = [0.5, -1, 2, 0.25, 0, -0.75]
        #expect(try Inference.predict(half, inputs: x, rows: 2) == Inference.predict(widened, inputs: x, rows: 2))
        #expect(throws: ModelError.self) {
            try Training.run(half, data: TrainingSet(inputs: x, targets: [0, 1, 1, 0], rows: 2, targetColumns: 2), options: TrainingOptions())
        }
    }

    @Test func wrongInputSizeIsATypedError() throws {
        let model = randomModel(Architecture(inputShape: [3], layers: [dense("d", 2)]), dtype: .f32, seed: 1)
        #expect(throws: ModelError.self) { try Inference.predict(model, inputs: [1, 2, 3, 4], rows: 2) }
    }

    @Test func missingWeightIsATypedError() throws {
        var model = randomModel(Architecture(inputShape: [3], layers: [dense("d", 2)]), dtype: .f32, seed: 1)
        model.weights["d/bias"] = nil
        #expect(throws: ModelError.missingTensor("d/bias")) { try Inference.predict(model, inputs: [1, 2, 3], rows: 1) }
    }
}
