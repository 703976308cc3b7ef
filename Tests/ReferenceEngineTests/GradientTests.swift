import Testing
import ModelFormat
@testable import ReferenceEngine

/// Backpropagation against central finite differences in f64: for every activation (in a Dense layer and as an
/// Activation layer), every layer and every loss, dL/dθ of every parameter element must equal
/// (L(θ + h) − L(θ − h)) / 2h.
struct GradientTests {
    static let activations: [Activation] = [.linear, .relu, .sigmoid, .tanh, .softmax, .leakyRelu(negativeSlope: 0.2),
                                            .elu(alpha: 1.0), .selu, .gelu(approximate: false), .gelu(approximate: true),
                                            .softplus, .silu]

    /// Compares analytic and numeric gradients of `loss` for `architecture` on a random batch.
    func check(_ architecture: Architecture, loss: Loss, targets: (inout TestRandom, Int, Int) -> [Double], seed: UInt64 = 3) throws {
        let model = randomModel(architecture, dtype: .f64, seed: seed)
        let network = try Network<Double>(model: model)
        var random = TestRandom(seed &+ 100)
        let rows = 6
        let x = Matrix(rows: rows, cols: architecture.inputWidth, data: random.values(rows * architecture.inputWidth, -1.5, 1.5))
        let y = Matrix(rows: rows, cols: architecture.outputWidth, data: targets(&random, rows, architecture.outputWidth))
        let mode = ForwardMode.training(step: 7, rng: CounterRNG(seed: 11))
        func lossValue() -> Double { LossFunction.evaluate(loss, predictions: network.forward(x, mode: mode), targets: y).value }

        let (_, dPrediction) = LossFunction.evaluate(loss, predictions: network.forward(x, mode: mode), targets: y)
        network.backward(dPrediction)
        let analytic = network.parameters.gradients
        let h = 1e-6
        var checked = 0
        for (i, spec) in network.parameters.specs.enumerated() where spec.trainable {
            for j in network.parameters.values[i].indices {
                let saved = network.parameters.values[i][j]
                network.parameters.values[i][j] = saved + h
                let plus = lossValue()
                network.parameters.values[i][j] = saved - h
                let minus = lossValue()
                network.parameters.values[i][j] = saved
                let numeric = (plus - minus) / (2 * h)
                let scale = max(1, abs(numeric), abs(analytic[i][j]))
                #expect(abs(numeric - analytic[i][j]) <= 2e-7 * scale,
                        "\(spec.fullName)[\(j)]: backprop \(analytic[i][j]), finite difference \(numeric)")
                checked += 1
            }
        }
        #expect(checked > 0)
    }

    static func regressionTargets(_ r: inout TestRandom, _ rows: Int, _ width: Int) -> [Double] { r.values(rows * width) }
    static func binaryTargets(_ r: inout TestRandom, _ rows: Int, _ width: Int) -> [Double] { (0..<(rows * width)).map { _ in r.next() < 0.5 ? 0 : 1 } }
    static func oneHotTargets(_ r: inout TestRandom, _ rows: Int, _ width: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * width)
        for row in 0..<rows { out[row * width + Int(r.next() * Double(width))] = 1 }
        return out
    }

    @Test(arguments: activations)
    func activationInDenseLayer(_ activation: Activation) throws {
        let arch = Architecture(inputShape: [4], layers: [dense("d1", 5, activation), dense("d2", 3)])
        try check(arch, loss: Loss(kind: .mse), targets: Self.regressionTargets)
    }

    @Test(arguments: activations)
    func activationLayer(_ activation: Activation) throws {
        let arch = Architecture(inputShape: [4], layers: [dense("d1", 5), Layer(name: "act", kind: .activation(activation)), dense("d2", 3)])
        try check(arch, loss: Loss(kind: .mse), targets: Self.regressionTargets)
    }

    @Test(arguments: [(true, true), (true, false), (false, true), (false, false)])
    func batchNormalization(scale: Bool, center: Bool) throws {
        let bn = Layer(name: "bn", kind: .batchNormalization(BatchNormalizationConfig(momentum: 0.9, epsilon: 0.01, center: center, scale: scale)))
        let arch = Architecture(inputShape: [4], layers: [dense("d1", 5), bn, dense("d2", 3, .tanh)])
        try check(arch, loss: Loss(kind: .mse), targets: Self.regressionTargets)
    }

    @Test(arguments: [(true, true), (true, false), (false, true), (false, false)])
    func layerNormalization(scale: Bool, center: Bool) throws {
        let ln = Layer(name: "ln", kind: .layerNormalization(LayerNormalizationConfig(epsilon: 0.01, center: center, scale: scale)))
        let arch = Architecture(inputShape: [4], layers: [dense("d1", 5), ln, dense("d2", 3, .tanh)])
        try check(arch, loss: Loss(kind: .mse), targets: Self.regressionTargets)
    }

    @Test func dropout() throws {
        let arch = Architecture(inputShape: [4], layers: [dense("d1", 8, .tanh), Layer(name: "drop", kind: .dropout(rate: 0.4)), dense("d2", 3)])
        try check(arch, loss: Loss(kind: .mse), targets: Self.regressionTargets)
    }

    @Test(arguments: [
        (LossKind.mse, false, Activation.linear), (.mse, true, .linear), (.mae, false, .tanh), (.mae, true, .linear),
        (.binaryCrossentropy, false, .sigmoid), (.binaryCrossentropy, true, .linear),
        (.categoricalCrossentropy, false, .softmax), (.categoricalCrossentropy, false, .sigmoid), (.categoricalCrossentropy, true, .linear),
        (.sparseCategoricalCrossentropy, false, .softmax), (.sparseCategoricalCrossentropy, true, .linear),
    ])
    func loss(_ kind: LossKind, fromLogits: Bool, outputActivation: Activation) throws {
        let arch = Architecture(inputShape: [4], layers: [dense("d1", 5, .tanh), dense("out", 3, outputActivation)])
        let targets: (inout TestRandom, Int, Int) -> [Double]
        switch kind {
        case .mse, .mae: targets = Self.regressionTargets
        case .binaryCrossentropy: targets = Self.binaryTargets
        case .categoricalCrossentropy, .sparseCategoricalCrossentropy: targets = Self.oneHotTargets
        }
        try check(arch, loss: Loss(kind: kind, fromLogits: fromLogits), targets: targets)
    }

    /// Below the clipping bound the loss is flat in the prediction, so the gradient there must be zero (Keras's clip).
    @Test func clippedProbabilitiesHaveZeroGradient() {
        let predictions = Matrix<Double>(rows: 1, cols: 2, data: [1e-9, 1 - 1e-9])
        let targets = Matrix<Double>(rows: 1, cols: 2, data: [1, 0])
        let (value, gradient) = LossFunction.evaluate(Loss(kind: .binaryCrossentropy), predictions: predictions, targets: targets)
        #expect(gradient.data == [0, 0])
        // −(log(1e-7) + log(1e-7))/2: both clipped to the bound.
        #expect(abs(value - (-Foundation.log(1e-7))) < 1e-9)
    }
}

import Foundation
