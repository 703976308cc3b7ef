import Foundation
import Testing
import ModelFormat
@testable import ReferenceEngine

/// Two updates of one parameter p with gradients g₁ then g₂, against the update rule worked out by hand here from
/// the published definitions (Keras 3's optimizer classes; torch.optim's documented algorithms).
struct OptimizerTests {
    let p0 = 0.5, g1 = 0.2, g2 = -0.4

    /// Runs two steps in f64 and returns p and the slots afterwards.
    func run(_ config: OptimizerConfig) throws -> (p: Double, slots: [String: Double], iteration: Int64) {
        let arch = Architecture(inputShape: [1], layers: [dense("d", 1, bias: false)])
        let model = Model(architecture: arch, weights: ["d/kernel": Tensor([p0], shape: [1, 1])])
        let parameters = try ParameterSet<Double>(model: model, architecture: model.architecture)
        let optimizer = try OptimizerRunner<Double>(state: OptimizerState(config: config), parameters: parameters)
        for g in [g1, g2] {
            parameters.gradients[0] = [g]
            optimizer.step(parameters)
        }
        let state = optimizer.state(parameters: parameters)
        #expect(Set(state.slots["d/kernel"]?.keys.map { $0 } ?? []) == Set(config.slotNames))
        return (parameters.values[0][0], (state.slots["d/kernel"] ?? [:]).mapValues { $0.doubles()[0] }, state.iteration)
    }

    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-15 * max(1, abs(b)) }

    @Test func kerasSGD() throws {
        let lr = 0.1
        let r = try run(.sgd(SGDConfig(learningRate: lr)))
        #expect(close(r.p, p0 - lr * g1 - lr * g2))
        #expect(r.slots.isEmpty && r.iteration == 2)
    }

    @Test func kerasSGDMomentumAndNesterov() throws {
        let lr = 0.1, mu = 0.9
        // m₁ = −lr·g₁, m₂ = μ·m₁ − lr·g₂; p += m (plain) or p += μ·m − lr·g (Nesterov).
        let m1 = -lr * g1, m2 = mu * m1 - lr * g2
        let plain = try run(.sgd(SGDConfig(learningRate: lr, momentum: mu)))
        #expect(close(plain.p, p0 + m1 + m2))
        #expect(close(plain.slots["momentum"]!, m2))
        let nesterov = try run(.sgd(SGDConfig(learningRate: lr, momentum: mu, nesterov: true)))
        #expect(close(nesterov.p, p0 + (mu * m1 - lr * g1) + (mu * m2 - lr * g2)))
    }

    @Test func pytorchSGDMomentumAndNesterov() throws {
        let lr = 0.1, mu = 0.9
        // b₁ = g₁ (the first gradient), b₂ = μ·b₁ + g₂; p −= lr·b, or p −= lr·(g + μ·b) with Nesterov.
        let b1 = g1, b2 = mu * b1 + g2
        let plain = try run(.sgd(SGDConfig(learningRate: lr, momentum: mu, formulation: .pytorch)))
        #expect(close(plain.p, p0 - lr * b1 - lr * b2))
        #expect(close(plain.slots["momentum"]!, b2))
        let nesterov = try run(.sgd(SGDConfig(learningRate: lr, momentum: mu, nesterov: true, formulation: .pytorch)))
        #expect(close(nesterov.p, p0 - lr * (g1 + mu * b1) - lr * (g2 + mu * b2)))
    }

    @Test(arguments: [false, true])
    func kerasAdam(amsgrad: Bool) throws {
        let lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7
        var p = p0, m = 0.0, v = 0.0, vMax = 0.0
        for (t, g) in [(1.0, g1), (2.0, g2)] {
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            vMax = max(vMax, v)
            // Keras: ε added to the uncorrected √v, the corrections folded into the step size.
            let alpha = lr * (1 - pow(b2, t)).squareRoot() / (1 - pow(b1, t))
            p -= alpha * m / ((amsgrad ? vMax : v).squareRoot() + eps)
        }
        let r = try run(.adam(AdamConfig(learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, amsgrad: amsgrad)))
        #expect(abs(r.p - p) <= 1e-14)
        #expect(abs(r.slots["momentum"]! - m) <= 1e-15 && abs(r.slots["velocity"]! - v) <= 1e-15)
        if amsgrad { #expect(abs(r.slots["velocity_hat"]! - vMax) <= 1e-15) }
    }

    @Test(arguments: [false, true])
    func pytorchAdam(amsgrad: Bool) throws {
        let lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-3  // a large ε makes where it is added visible
        var p = p0, m = 0.0, v = 0.0, vMax = 0.0
        for (t, g) in [(1.0, g1), (2.0, g2)] {
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            vMax = max(vMax, v)
            // PyTorch: ε added to the bias-corrected √v̂.
            let mHat = m / (1 - pow(b1, t)), vHat = (amsgrad ? vMax : v) / (1 - pow(b2, t))
            p -= lr * mHat / (vHat.squareRoot() + eps)
        }
        let r = try run(.adam(AdamConfig(learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, amsgrad: amsgrad, formulation: .pytorch)))
        #expect(abs(r.p - p) <= 1e-14)
        let keras = try run(.adam(AdamConfig(learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, amsgrad: amsgrad)))
        #expect(abs(keras.p - p) > 1e-6, "the two formulations differ when ε is large")
    }

    @Test(arguments: [(0.0, false), (0.5, false), (0.0, true), (0.5, true)])
    func kerasRMSprop(momentum: Double, centered: Bool) throws {
        let lr = 0.01, rho = 0.9, eps = 1e-7
        var p = p0, v = 0.0, mg = 0.0, mom = 0.0
        for g in [g1, g2] {
            v = rho * v + (1 - rho) * g * g
            mg = rho * mg + (1 - rho) * g
            let denominator = centered ? v - mg * mg + eps : v + eps  // ε inside the root
            let increment = lr * g / denominator.squareRoot()
            mom = momentum * mom + increment
            p -= momentum > 0 ? mom : increment
        }
        let r = try run(.rmsprop(RMSpropConfig(learningRate: lr, rho: rho, momentum: momentum, epsilon: eps, centered: centered)))
        #expect(abs(r.p - p) <= 1e-14)
        #expect(abs(r.slots["velocity"]! - v) <= 1e-15)
        if centered { #expect(abs(r.slots["average_gradient"]! - mg) <= 1e-15) }
        if momentum > 0 { #expect(abs(r.slots["momentum"]! - mom) <= 1e-15) }
    }

    /// Keras casts Python floats to float32 before use: in f32, `1 − β1` is Float(0.1), the step count a Float.
    @Test func float32UsesKerasCasts() throws {
        let arch = Architecture(inputShape: [1], layers: [dense("d", 1, bias: false)])
        let model = Model(architecture: arch, weights: ["d/kernel": Tensor([Float(0.5)], shape: [1, 1])])
        let parameters = try ParameterSet<Float>(model: model, architecture: model.architecture)
        let optimizer = try OptimizerRunner<Float>(state: OptimizerState(config: .adam(AdamConfig(learningRate: 0.001))), parameters: parameters)
        parameters.gradients[0] = [0.25]
        optimizer.step(parameters)
        let lr = Float(0.001), one = Float(1)
        let m = Float(0) + (Float(0.25) - 0) * Float(0.1)
        let v = Float(0) + (Float(0.25) * Float(0.25) - 0) * Float(1 - 0.999)
        let alpha = lr * (one - powf(Float(0.999), 1)).squareRoot() / (one - powf(Float(0.9), 1))
        let expected = Float(0.5) - (m * alpha) / (v.squareRoot() + Float(1e-7))
        #expect(parameters.values[0][0] == expected)
    }

    @Test func slotsForAnotherParameterAreRefused() throws {
        let arch = Architecture(inputShape: [1], layers: [dense("d", 1, bias: false)])
        let model = Model(architecture: arch, weights: ["d/kernel": Tensor([Float(0.5)], shape: [1, 1])])
        let parameters = try ParameterSet<Float>(model: model, architecture: model.architecture)
        let state = OptimizerState(config: .adam(AdamConfig()), slots: ["e/kernel": ["momentum": Tensor([Float(0)], shape: [1, 1])]])
        #expect(throws: ModelError.unexpectedTensor("optimizer slots for 'e/kernel'")) { try OptimizerRunner<Float>(state: state, parameters: parameters) }
    }
}
