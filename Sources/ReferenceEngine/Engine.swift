import Foundation
import ModelFormat

// ReferenceEngine runs ModelKit models: forward (`Inference`), backward and optimizer steps (`Training`), exactly
// and reproducibly. The arithmetic follows Keras 3 (JAX backend) detail by detail, in the model's own precision:
// f32 models compute in Float, f64 models in Double, f16/bf16 models are widened to Float for inference.
// Every rule, with its source, is written down in spec/engine.md.
//
// A map of the module, in the order a reader might take it:
// - Scalar.swift: the two precisions, libm per precision, GEMM through OpenBLAS on one thread.
// - Matrix.swift: a batch as a row-major matrix; `matmul` (large products cut in two fixed halves).
// - Activations.swift: every activation, forward and derivative.
// - DenseLayer.swift (Dense, Activation, Dropout), NormalizationLayers.swift (BatchNormalization,
//   LayerNormalization): each layer's forward, and its backward as the chain rule written out.
// - Network.swift: the layers in order; backpropagation is the loop over them in reverse.
// - Losses.swift: the losses and their gradients. Optimizers.swift: SGD, Adam, RMSprop in both formulations.
// - RandomStream.swift: the counter-based RNG (shuffle orders, dropout masks). Training.swift: the training loop,
//   checkpoints and exact resume.

/// Running a model forward.
public enum Inference {
    /// Runs `model` forward at inference (Dropout off, BatchNormalization on its moving statistics).
    ///
    /// - Parameters:
    ///   - inputs: `rows` samples, row-major, each of `architecture.inputShape` (for an MLP, `rows × inputWidth`).
    ///   - rows: the number of samples.
    /// - Returns: `rows` outputs, row-major, each of `inputShape.dropLast() + [outputWidth]`. The arithmetic is in
    ///   the model's float dtype (`Model.floatDType`: Float for f32/f16/bf16, Double for f64); the inputs are first
    ///   rounded to it and the outputs widened to Double exactly.
    /// - Throws: `ModelError.shapeMismatch(name: "input", …)` when `inputs.count != rows × inputShape` elements,
    ///   `ModelError.missingTensor` / `.shapeMismatch` when a weight is absent or misshapen, `.unsupported` for
    ///   layers this engine cannot run.
    ///   - batchSize: samples per forward pass (memory stays bounded for any number of rows). Each batch is cut
    ///     into blocks of at most `blockRows` samples, run on as many threads as there are cores. The cut depends
    ///     on the batch size only, never on the number of cores, so the results are the same bits on any machine
    ///     with the same BLAS (each block is one GEMM per layer on one thread; see spec/engine.md).
    public static func predict(_ model: Model, inputs: [Double], rows: Int, batchSize: Int = defaultBatchSize) throws -> [Double] {
        if model.floatDType == .f64 { return try predict(model, inputs: inputs, rows: rows, batchSize: batchSize, as: Double.self) }
        return try predict(model, inputs: inputs.map { Float($0) }, rows: rows, batchSize: batchSize, as: Float.self).map { Double($0) }
    }

    /// Samples per forward pass unless told otherwise.
    public static let defaultBatchSize = 1000
    /// Largest block of samples one thread runs forward at a time.
    public static let blockRows = 256

    /// Runs `model` forward in precision `T` (see `predict(_:inputs:rows:)`); `T` need not be the model's dtype.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func predict<T: EngineScalar>(_ model: Model, inputs: [T], rows: Int, batchSize: Int = defaultBatchSize,
                                                as: T.Type = T.self) throws -> [T] {
        let network = try Network<T>(model: model)
        let x = try network.inputMatrix(inputs, rows: rows)
        let perSample = network.rowsPerSample
        let width = network.architecture.outputWidth
        // Blocks: batches of batchSize samples, each cut into equal blocks of at most blockRows samples.
        let blocks = Self.blocks(rows: rows, batchSize: batchSize)
        var output = [T](repeating: 0, count: rows * perSample * width)
        let shared = SharedForward(network: network)
        output.withUnsafeMutableBufferPointer { out in
            let destination = SendablePointer(base: out.baseAddress)
            let run: @Sendable (Range<Int>) -> Void = { block in
                let part = Matrix(rows: block.count * perSample, cols: x.cols,
                                  data: Array(x.data[(block.lowerBound * perSample * x.cols)..<(block.upperBound * perSample * x.cols)]))
                let y = shared.network.forward(part, mode: .inference)
                y.data.withUnsafeBufferPointer { src in
                    destination.base!.advanced(by: block.lowerBound * perSample * width).update(from: src.baseAddress!, count: src.count)
                }
            }
            let threads = min(blocks.count, ProcessInfo.processInfo.activeProcessorCount)
            if threads <= 1 {
                for block in blocks { run(block) }
            } else {
                // Each worker takes every threads-th block; blocks write disjoint rows of the output.
                DispatchQueue.concurrentPerform(iterations: threads) { worker in
                    for b in stride(from: worker, to: blocks.count, by: threads) { run(blocks[b]) }
                }
            }
        }
        return output
    }

    /// Batches of `batchSize` samples, each cut into equal blocks of at most `blockRows`.
    static func blocks(rows: Int, batchSize: Int) -> [Range<Int>] {
        var blocks: [Range<Int>] = []
        let batch = max(1, batchSize)
        var start = 0
        while start < rows {
            let end = min(start + batch, rows)
            let pieces = (end - start + blockRows - 1) / blockRows
            for k in 0..<pieces {
                blocks.append((start + (end - start) * k / pieces)..<(start + (end - start) * (k + 1) / pieces))
            }
            start = end
        }
        return blocks
    }

    /// The shape of one output sample: `inputShape.dropLast() + [outputWidth]`.
    public static func outputShape(of architecture: Architecture) -> [Int] {
        Array(architecture.inputShape.dropLast()) + [architecture.outputWidth]
    }
}

/// A network shared by the threads of one `predict`: at inference no layer writes to itself, so concurrent
/// forward passes are safe.
private final class SharedForward<T: EngineScalar>: @unchecked Sendable {
    let network: Network<T>
    init(network: Network<T>) { self.network = network }
}

/// The output buffer, written by several threads at disjoint rows.
private struct SendablePointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>?
}
