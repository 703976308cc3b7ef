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
