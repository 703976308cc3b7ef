import ModelFormat

// ReferenceEngine runs ModelKit models: forward (`Inference`), backward and optimizer steps (`Trainer`), exactly
// and reproducibly. The arithmetic follows Keras 3 (JAX backend) detail by detail, in the model's own precision:
// f32 models compute in Float, f64 models in Double, f16/bf16 models are widened to Float for inference.
// Every rule, with its source, is written down in spec/engine.md.

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
    public static func predict(_ model: Model, inputs: [Double], rows: Int) throws -> [Double] {
        if model.floatDType == .f64 { return try predict(model, inputs: inputs, rows: rows, as: Double.self) }
        return try predict(model, inputs: inputs.map { Float($0) }, rows: rows, as: Float.self).map { Double($0) }
    }

    /// Runs `model` forward in precision `T` (see `predict(_:inputs:rows:)`); `T` need not be the model's dtype.
    public static func predict<T: EngineScalar>(_ model: Model, inputs: [T], rows: Int, as: T.Type = T.self) throws -> [T] {
        let network = try Network<T>(model: model)
        let x = try network.inputMatrix(inputs, rows: rows)
        return network.forward(x, mode: .inference).data
    }

    /// The shape of one output sample: `inputShape.dropLast() + [outputWidth]`.
    public static func outputShape(of architecture: Architecture) -> [Int] {
        Array(architecture.inputShape.dropLast()) + [architecture.outputWidth]
    }
}
