import ModelFormat

/// The losses, as Keras 3 defines them (keras/src/losses/losses.py and backend/jax/nn.py), with their gradients
/// with respect to the predictions. Targets are always a matrix shaped like the predictions: sparse labels are
/// turned into one-hot rows first, as Keras does. Every loss is a per-sample value averaged over the batch
/// (Keras's "sum_over_batch_size" reduction). ε = 1e-7 (Keras's `backend.epsilon()`), cast to the model's precision.
enum LossFunction {
    /// The batch's loss and dL/d(prediction).
    static func evaluate<T: EngineScalar>(_ loss: Loss, predictions: Matrix<T>, targets: Matrix<T>) -> (value: T, gradient: Matrix<T>) {
        precondition(predictions.rows == targets.rows && predictions.cols == targets.cols)
        let batch = predictions.rows, width = predictions.cols
        var gradient = Matrix<T>(zeros: batch, width)
        var total: T = 0
        let b = T(batch), d = T(width)
        let epsilon = T(1e-7), oneMinusEpsilon = T(1 - 1e-7)

        /// `clip(p, ε, 1 − ε)` and its derivative (1 inside, ½ at a bound as JAX's min/max split ties, 0 outside).
        func clip(_ p: T) -> (value: T, slope: T) {
            if p < epsilon { return (epsilon, 0) }
            if p > oneMinusEpsilon { return (oneMinusEpsilon, 0) }
            if p == epsilon || p == oneMinusEpsilon { return (p, T(0.5)) }
            return (p, 1)
        }

        for r in 0..<batch {
            let base = r * width
            var rowLoss: T = 0
            switch (loss.kind, loss.fromLogits) {
            case (.mse, _):
                // mean((ŷ − y)²) over the last axis; d/dŷ = 2(ŷ − y)/D, then /B for the batch mean.
                for c in 0..<width {
                    let diff = predictions.data[base + c] - targets.data[base + c]
                    rowLoss += diff * diff
                    gradient.data[base + c] = 2 * diff / d / b
                }
                rowLoss = rowLoss / d
            case (.mae, _):
                // mean|ŷ − y|; d/dŷ = sign(ŷ − y)/(D·B) with sign(0) = 0.
                for c in 0..<width {
                    let diff = predictions.data[base + c] - targets.data[base + c]
                    rowLoss += abs(diff)
                    let sign: T = diff > 0 ? 1 : (diff < 0 ? -1 : 0)
                    gradient.data[base + c] = sign / d / b
                }
                rowLoss = rowLoss / d
            case (.binaryCrossentropy, false):
                // p = clip(ŷ); −(t·log p + (1 − t)·log(1 − p)), mean over the last axis.
                for c in 0..<width {
                    let t = targets.data[base + c]
                    let (p, slope) = clip(predictions.data[base + c])
                    rowLoss += -(t * T.log(p) + (1 - t) * T.log(1 - p))
                    gradient.data[base + c] = slope * (-(t / p) + (1 - t) / (1 - p)) / d / b
                }
                rowLoss = rowLoss / d
            case (.binaryCrossentropy, true):
                // −t·log σ(z) − (1 − t)·log σ(−z) = t·softplus(−z) + (1 − t)·softplus(z); d/dz = σ(z) − t.
                for c in 0..<width {
                    let t = targets.data[base + c], z = predictions.data[base + c]
                    rowLoss += t * ActivationFunction.softplus(-z) + (1 - t) * ActivationFunction.softplus(z)
                    gradient.data[base + c] = (ActivationFunction.sigmoid(z) - t) / d / b
                }
                rowLoss = rowLoss / d
            case (.categoricalCrossentropy, false), (.sparseCategoricalCrossentropy, false):
                // q = ŷ/Σŷ, p = clip(q), −Σ t·log p. Back: dL/dp = −t/p, through the clip, then through the
                // normalisation: dq_c/dŷ_j = (δ_cj − q_c)/s, so dL/dŷ_j = (g_j − Σ_c g_c·q_c)/s.
                var s: T = 0
                for c in 0..<width { s += predictions.data[base + c] }
                var g = [T](repeating: 0, count: width), q = [T](repeating: 0, count: width)
                var weighted: T = 0
                for c in 0..<width {
                    q[c] = predictions.data[base + c] / s
                    let (p, slope) = clip(q[c])
                    let t = targets.data[base + c]
                    rowLoss -= t * T.log(p)
                    g[c] = slope * (-t / p)
                    weighted += g[c] * q[c]
                }
                for c in 0..<width { gradient.data[base + c] = (g[c] - weighted) / s / b }
            case (.categoricalCrossentropy, true), (.sparseCategoricalCrossentropy, true):
                // −Σ t·log_softmax(z), log_softmax(z) = z − max − log Σ exp(z − max); d/dz_j = softmax_j·Σt − t_j.
                var largest = -T.infinity
                for c in 0..<width { largest = max(largest, predictions.data[base + c]) }
                var sumExp: T = 0
                for c in 0..<width { sumExp += T.exp(predictions.data[base + c] - largest) }
                let logSum = T.log(sumExp)
                var targetSum: T = 0
                for c in 0..<width { targetSum += targets.data[base + c] }
                for c in 0..<width {
                    let logSoftmax = predictions.data[base + c] - largest - logSum
                    rowLoss -= targets.data[base + c] * logSoftmax
                    gradient.data[base + c] = (T.exp(logSoftmax) * targetSum - targets.data[base + c]) / b
                }
            }
            total += rowLoss
        }
        return (total / b, gradient)
    }
}
