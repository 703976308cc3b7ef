import ModelFormat

/// Applies optimizer updates to a network's trainable parameters, in the formulation the file names.
/// Slots are created lazily, as zeros of the parameter's shape, at the first step (as Keras builds them), named by
/// `OptimizerConfig.slotNames`. Scalars are cast to the model's precision the way Keras casts Python floats
/// (`1 − β1` computed in f64, then rounded: 0.1f). Step `t = iteration + 1`. Rules and sources: spec/engine.md.
final class OptimizerRunner<T: EngineScalar> {
    let config: OptimizerConfig
    private(set) var iteration: Int64
    /// `slots[parameter index][slot name]`, for trainable parameters only.
    private(set) var slots: [Int: [String: [T]]]

    init(state: OptimizerState, parameters: ParameterSet<T>) throws {
        config = state.config
        iteration = state.iteration
        var slots: [Int: [String: [T]]] = [:]
        for (name, named) in state.slots {
            guard let i = parameters.index[name], parameters.specs[i].trainable else {
                throw ModelError.unexpectedTensor("optimizer slots for '\(name)'")
            }
            for (slot, tensor) in named {
                guard config.slotNames.contains(slot) else { throw ModelError.unexpectedTensor("optimizer slot '\(name)/\(slot)'") }
                guard tensor.shape == parameters.specs[i].shape else {
                    throw ModelError.shapeMismatch(name: NamedTensor.slotName(parameter: name, slot: slot), expected: parameters.specs[i].shape, detail: "found \(tensor.shape)")
                }
                slots[i, default: [:]][slot] = T.values(of: tensor)
            }
        }
        self.slots = slots
    }

    /// The state to store: config, iteration, and every slot as a tensor of the model's dtype.
    func state(parameters: ParameterSet<T>) -> OptimizerState {
        var out: [String: [String: Tensor]] = [:]
        for (i, named) in slots {
            let spec = parameters.specs[i]
            for (slot, values) in named { out[spec.fullName, default: [:]][slot] = T.tensor(values, shape: spec.shape) }
        }
        return OptimizerState(config: config, iteration: iteration, slots: out)
    }

    /// One update of every trainable parameter from `parameters.gradients`, then `iteration += 1`.
    func step(_ parameters: ParameterSet<T>) {
        let t = iteration + 1
        for i in parameters.specs.indices where parameters.specs[i].trainable {
            var named = slots[i] ?? [:]
            for name in config.slotNames where named[name] == nil {
                named[name] = [T](repeating: 0, count: parameters.values[i].count)
            }
            slots[i] = nil  // keep the slot arrays uniquely referenced while they are updated in place
            switch config {
            case .sgd(let c):
                if c.formulation == .keras { sgdKeras(c, &parameters.values[i], parameters.gradients[i], &named) }
                else { sgdPyTorch(c, &parameters.values[i], parameters.gradients[i], &named) }
            case .adam(let c):
                if c.formulation == .keras { adamKeras(c, t, &parameters.values[i], parameters.gradients[i], &named) }
                else { adamPyTorch(c, t, &parameters.values[i], parameters.gradients[i], &named) }
            case .rmsprop(let c):
                rmsprop(c, &parameters.values[i], parameters.gradients[i], &named)
            }
            slots[i] = named
        }
        iteration += 1
    }

    /// Keras SGD (keras/src/optimizers/sgd.py): with momentum μ, `m = μ·m − lr·g`, then `p += μ·m − lr·g`
    /// (Nesterov) or `p += m`; without, `p −= g·lr`.
    private func sgdKeras(_ c: SGDConfig, _ p: inout [T], _ g: [T], _ slots: inout [String: [T]]) {
        let lr = T(c.learningRate)
        guard c.momentum != 0, var m = slots.removeValue(forKey: "momentum") else {
            for j in p.indices { p[j] = p[j] - g[j] * lr }
            return
        }
        let mu = T(c.momentum)
        for j in p.indices {
            m[j] = m[j] * mu - g[j] * lr
            p[j] = c.nesterov ? p[j] + (m[j] * mu - g[j] * lr) : p[j] + m[j]
        }
        slots["momentum"] = m
    }

    /// PyTorch SGD (torch/optim/sgd.py, dampening 0): `b = μ·b + g` (PyTorch starts b at the first g; from a zero
    /// slot `μ·0 + g` is that same g), then `p += −lr·(g + μ·b)` (Nesterov) or `p += −lr·b`; without momentum
    /// `p += −lr·g`. The slot holds b, without the learning rate.
    private func sgdPyTorch(_ c: SGDConfig, _ p: inout [T], _ g: [T], _ slots: inout [String: [T]]) {
        let negativeLR = T(-c.learningRate)
        guard c.momentum != 0, var b = slots.removeValue(forKey: "momentum") else {
            for j in p.indices { p[j] = p[j] + negativeLR * g[j] }
            return
        }
        let mu = T(c.momentum)
        for j in p.indices {
            b[j] = b[j] * mu + g[j]
            let direction = c.nesterov ? g[j] + mu * b[j] : b[j]
            p[j] = p[j] + negativeLR * direction
        }
        slots["momentum"] = b
    }

    /// Keras Adam (keras/src/optimizers/adam.py): `α = lr·√(1 − β2ᵗ)/(1 − β1ᵗ)`, `m += (g − m)(1 − β1)`,
    /// `v += (g² − v)(1 − β2)`, AMSGrad `v̂ = max(v̂, v)` used in place of v, `p −= (m·α)/(√v + ε)`.
    private func adamKeras(_ c: AdamConfig, _ step: Int64, _ p: inout [T], _ g: [T], _ slots: inout [String: [T]]) {
        let lr = T(c.learningRate), beta1 = T(c.beta1), beta2 = T(c.beta2)
        let localStep = T(step)
        let beta1Power = T.pow(beta1, localStep), beta2Power = T.pow(beta2, localStep)
        let alpha = lr * (1 - beta2Power).squareRoot() / (1 - beta1Power)
        let oneMinusBeta1 = T(1 - c.beta1), oneMinusBeta2 = T(1 - c.beta2), epsilon = T(c.epsilon)
        var m = slots.removeValue(forKey: "momentum")!, v = slots.removeValue(forKey: "velocity")!
        var vHat = c.amsgrad ? slots.removeValue(forKey: "velocity_hat")! : []
        let count = p.count
        p.withUnsafeMutableBufferPointer { p in
            g.withUnsafeBufferPointer { g in
                m.withUnsafeMutableBufferPointer { m in
                    v.withUnsafeMutableBufferPointer { v in
                        // Two branch-free loops rather than one with an AMSGrad test inside, so that both vectorise.
                        if !c.amsgrad {
                            guard count > 0 else { return }
                            T.adamKeras(p: p.baseAddress!, g: g.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, count: count,
                                        alpha: alpha, oneMinusBeta1: oneMinusBeta1, oneMinusBeta2: oneMinusBeta2, epsilon: epsilon)
                            return
                        }
                        vHat.withUnsafeMutableBufferPointer { vHat in
                            for j in 0..<count {
                                let mj = m[j] + (g[j] - m[j]) * oneMinusBeta1
                                let vj = v[j] + (g[j] * g[j] - v[j]) * oneMinusBeta2
                                let vHatj = max(vHat[j], vj)
                                m[j] = mj
                                v[j] = vj
                                vHat[j] = vHatj
                                p[j] = p[j] - (mj * alpha) / (vHatj.squareRoot() + epsilon)
                            }
                        }
                    }
                }
            }
        }
        slots["momentum"] = m; slots["velocity"] = v
        if c.amsgrad { slots["velocity_hat"] = vHat }
    }

    /// PyTorch Adam (torch/optim/adam.py, single-tensor path): `m = m + (1 − β1)(g − m)` (lerp),
    /// `v = v·β2 + (1 − β2)·g·g`, AMSGrad `v̂ = max(v̂, v)`; with bias corrections `c1 = 1 − β1ᵗ`, `c2 = 1 − β2ᵗ`
    /// computed in f64 as PyTorch does on the host, `denom = √v/√c2 + ε`, `p += −(lr/c1)·m/denom`.
    private func adamPyTorch(_ c: AdamConfig, _ step: Int64, _ p: inout [T], _ g: [T], _ slots: inout [String: [T]]) {
        let bias1 = 1 - Double.pow(c.beta1, Double(step))
        let bias2Root = (1 - Double.pow(c.beta2, Double(step))).squareRoot()
        let negativeStepSize = T(-(c.learningRate / bias1)), bias2RootT = T(bias2Root)
        let oneMinusBeta1 = T(1 - c.beta1), beta2 = T(c.beta2), oneMinusBeta2 = T(1 - c.beta2), epsilon = T(c.epsilon)
        var m = slots.removeValue(forKey: "momentum")!, v = slots.removeValue(forKey: "velocity")!
        var vHat = c.amsgrad ? slots.removeValue(forKey: "velocity_hat")! : []
        for j in p.indices {
            m[j] = m[j] + oneMinusBeta1 * (g[j] - m[j])
            v[j] = v[j] * beta2 + oneMinusBeta2 * g[j] * g[j]
            var denominatorV = v[j]
            if c.amsgrad { vHat[j] = max(vHat[j], v[j]); denominatorV = vHat[j] }
            let denominator = denominatorV.squareRoot() / bias2RootT + epsilon
            p[j] = p[j] + negativeStepSize * (m[j] / denominator)
        }
        slots["momentum"] = m; slots["velocity"] = v
        if c.amsgrad { slots["velocity_hat"] = vHat }
    }

    /// Keras RMSprop (keras/src/optimizers/rmsprop.py): `v = ρ·v + (1 − ρ)·g²`; centered: `ḡ = ρ·ḡ + (1 − ρ)·g`
    /// and denominator `v − ḡ² + ε`, else `v + ε`; `inc = lr·g/√denominator`; with momentum μ: `mom = μ·mom + inc`,
    /// `p −= mom`, else `p −= inc`.
    private func rmsprop(_ c: RMSpropConfig, _ p: inout [T], _ g: [T], _ slots: inout [String: [T]]) {
        let lr = T(c.learningRate), rho = T(c.rho), oneMinusRho = T(1 - c.rho), epsilon = T(c.epsilon), mu = T(c.momentum)
        var v = slots.removeValue(forKey: "velocity")!
        var average = c.centered ? slots.removeValue(forKey: "average_gradient")! : []
        var mom = c.momentum != 0 ? slots.removeValue(forKey: "momentum")! : []
        for j in p.indices {
            v[j] = rho * v[j] + oneMinusRho * (g[j] * g[j])
            let denominator: T
            if c.centered {
                average[j] = rho * average[j] + oneMinusRho * g[j]
                denominator = v[j] - average[j] * average[j] + epsilon
            } else {
                denominator = v[j] + epsilon
            }
            let increment = (lr * g[j]) / denominator.squareRoot()
            if c.momentum != 0 {
                mom[j] = mu * mom[j] + increment
                p[j] = p[j] - mom[j]
            } else {
                p[j] = p[j] - increment
            }
        }
        slots["velocity"] = v
        if c.centered { slots["average_gradient"] = average }
        if c.momentum != 0 { slots["momentum"] = mom }
    }
}

