import ModelFormat

/// Normalises `x` over a group (a column of the batch for BatchNormalization, a row for LayerNormalization) with
/// the group's mean `μ` and biased variance `σ²` (÷N), then scales and shifts. Keras's arithmetic:
/// `inv = γ·rsqrt(σ² + ε)`, `y = x·inv + (β − μ·inv)`.
///
/// Backward, with `x̂ = (x − μ)/√(σ² + ε)` and N elements in the group: `dβ = Σ dy`, `dγ = Σ dy·x̂`, and, because
/// μ and σ² themselves depend on every x of the group,
/// `dx = (1/√(σ² + ε))·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))` where `dx̂ = γ·dy`.
struct GroupNormalization<T: EngineScalar> {
    var mean: [T] = []
    var inverseStd: [T] = []
    var normalized: [T] = []

    /// Statistics of each group; `element(g, i)` is the flat index of the i-th element of group g.
    static func statistics(groups: Int, size: Int, data: [T], element: (Int, Int) -> Int) -> (mean: [T], variance: [T]) {
        var mean = [T](repeating: 0, count: groups), variance = [T](repeating: 0, count: groups)
        let n = T(size)
        for g in 0..<groups {
            var sum: T = 0
            for i in 0..<size { sum += data[element(g, i)] }
            let m = sum / n
            var squares: T = 0
            for i in 0..<size { let d = data[element(g, i)] - m; squares += d * d }
            mean[g] = m
            variance[g] = squares / n
        }
        return (mean, variance)
    }

    /// The backward pass above for every group, written once for both layers: `dx`, and `dγ`, `dβ` summed per
    /// feature. `element(g, i)` is the flat index of the i-th element of group g, `feature(g, i)` its feature (the
    /// index into γ). Sums run in the same order as a layer-specific loop would, so the bits do not change.
    func backward(_ dy: [T], gamma: [T], groups: Int, size: Int, features: Int,
                  element: (Int, Int) -> Int, feature: (Int, Int) -> Int) -> (dx: [T], dGamma: [T], dBeta: [T]) {
        let n = T(size)
        var dGamma = [T](repeating: 0, count: features), dBeta = [T](repeating: 0, count: features)
        var dx = dy
        for g in 0..<groups {
            var sumDxHat: T = 0, sumDxHatXHat: T = 0
            for i in 0..<size {
                let k = element(g, i), f = feature(g, i)
                dBeta[f] += dy[k]
                dGamma[f] += dy[k] * normalized[k]
                let dxHat = dy[k] * gamma[f]
                sumDxHat += dxHat
                sumDxHatXHat += dxHat * normalized[k]
            }
            let meanDxHat = sumDxHat / n, meanDxHatXHat = sumDxHatXHat / n
            for i in 0..<size {
                let k = element(g, i)
                let dxHat = dy[k] * gamma[feature(g, i)]
                dx[k] = inverseStd[g] * (dxHat - meanDxHat - normalized[k] * meanDxHatXHat)
            }
        }
        return (dx, dGamma, dBeta)
    }
}

/// Batch normalisation over the last axis. Training: batch statistics, and the moving statistics move towards
/// them, `moving = moving·momentum + batch·(1 − momentum)` (biased variance, as Keras). Inference: the moving ones.
final class BatchNormLayer<T: EngineScalar>: NetworkLayer {
    let config: BatchNormalizationConfig
    let gamma: Int?, beta: Int?, movingMean: Int, movingVariance: Int
    private var cache = GroupNormalization<T>()
    private var gammaValues: [T] = []

    init(config: BatchNormalizationConfig, gamma: Int?, beta: Int?, movingMean: Int, movingVariance: Int) {
        self.config = config; self.gamma = gamma; self.beta = beta
        self.movingMean = movingMean; self.movingVariance = movingVariance
    }

    func forward(_ x: Matrix<T>, parameters: ParameterSet<T>, mode: ForwardMode) -> Matrix<T> {
        let features = x.cols, rows = x.rows
        let mean: [T], variance: [T]
        let training: Bool
        if case .training = mode {
            (mean, variance) = GroupNormalization.statistics(groups: features, size: rows, data: x.data) { g, i in i * features + g }
            let momentum = T(config.momentum), rest = T(1 - config.momentum)
            for c in 0..<features {
                parameters.values[movingMean][c] = parameters.values[movingMean][c] * momentum + mean[c] * rest
                parameters.values[movingVariance][c] = parameters.values[movingVariance][c] * momentum + variance[c] * rest
            }
            training = true
        } else {
            mean = parameters.values[movingMean]
            variance = parameters.values[movingVariance]
            training = false
        }
        let epsilon = T(config.epsilon)
        let inverseStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let g = gamma.map { parameters.values[$0] } ?? [T](repeating: 1, count: features)
        let b = beta.map { parameters.values[$0] } ?? [T](repeating: 0, count: features)
        var inv = [T](repeating: 0, count: features), shift = [T](repeating: 0, count: features)
        for c in 0..<features {
            inv[c] = gamma == nil ? inverseStd[c] : inverseStd[c] * g[c]
            shift[c] = b[c] - mean[c] * inv[c]
        }
        var y = x
        for r in 0..<rows { for c in 0..<features { y.data[r * features + c] = x.data[r * features + c] * inv[c] + shift[c] } }
        if training {
            var normalized = x.data
            for r in 0..<rows { for c in 0..<features { normalized[r * features + c] = (x.data[r * features + c] - mean[c]) * inverseStd[c] } }
            cache = GroupNormalization(mean: mean, inverseStd: inverseStd, normalized: normalized)
            gammaValues = g
        }
        return y
    }

    func backward(_ dy: Matrix<T>, parameters: ParameterSet<T>) -> Matrix<T> {
        let features = dy.cols, rows = dy.rows
        // Groups are the columns: element i of group c is row i's feature c.
        var dx = dy
        let (dxData, dGamma, dBeta) = cache.backward(dy.data, gamma: gammaValues, groups: features, size: rows, features: features,
                                                     element: { c, r in r * features + c }, feature: { c, _ in c })
        dx.data = dxData
        if let gamma { parameters.gradients[gamma] = dGamma }
        if let beta { parameters.gradients[beta] = dBeta }
        return dx
    }
}

/// Layer normalisation: each row normalised by its own mean and biased variance, the same in training and at
/// inference; `γ` and `β` act per feature.
final class LayerNormLayer<T: EngineScalar>: NetworkLayer {
    let config: LayerNormalizationConfig
    let gamma: Int?, beta: Int?
    private var cache = GroupNormalization<T>()
    private var gammaValues: [T] = []

    init(config: LayerNormalizationConfig, gamma: Int?, beta: Int?) {
        self.config = config; self.gamma = gamma; self.beta = beta
    }

    func forward(_ x: Matrix<T>, parameters: ParameterSet<T>, mode: ForwardMode) -> Matrix<T> {
        let features = x.cols, rows = x.rows
        let (mean, variance) = GroupNormalization.statistics(groups: rows, size: features, data: x.data) { g, i in g * features + i }
        let epsilon = T(config.epsilon)
        let inverseStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let g = gamma.map { parameters.values[$0] } ?? [T](repeating: 1, count: features)
        let b = beta.map { parameters.values[$0] } ?? [T](repeating: 0, count: features)
        var y = x
        var normalized = x.data
        for r in 0..<rows {
            for c in 0..<features {
                let i = r * features + c
                let inv = gamma == nil ? inverseStd[r] : inverseStd[r] * g[c]
                y.data[i] = x.data[i] * inv + (b[c] - mean[r] * inv)
                normalized[i] = (x.data[i] - mean[r]) * inverseStd[r]
            }
        }
        if case .training = mode {
            cache = GroupNormalization(mean: mean, inverseStd: inverseStd, normalized: normalized)
            gammaValues = g
        }
        return y
    }

    func backward(_ dy: Matrix<T>, parameters: ParameterSet<T>) -> Matrix<T> {
        let features = dy.cols, rows = dy.rows
        // Groups are the rows: element c of group r is row r's feature c.
        var dx = dy
        let (dxData, dGamma, dBeta) = cache.backward(dy.data, gamma: gammaValues, groups: rows, size: features, features: features,
                                                     element: { r, c in r * features + c }, feature: { _, c in c })
        dx.data = dxData
        if let gamma { parameters.gradients[gamma] = dGamma }
        if let beta { parameters.gradients[beta] = dBeta }
        return dx
    }
}
