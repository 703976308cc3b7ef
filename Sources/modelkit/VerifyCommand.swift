import ArgumentParser
import Convert
import Foundation
import ModelFormat
import ReferenceEngine

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Run two model files forward on the same inputs and compare. Exit 0 when equivalent, 1 when not.",
        discussion: """
        Each model runs in its own dtype. Without --input, --rows seeded random samples uniform in [-1, 1) are used. \
        For each output column, prints the max absolute and relative difference and the max distance in units in \
        the last place (counted in the coarser of the two dtypes). Equivalent when every pair satisfies \
        |a − b| ≤ atol + rtol·|b| (numpy.allclose), NaN matching NaN.
        """)

    @Argument(help: "First model file.")
    var a: String

    @Argument(help: "Second model file.")
    var b: String

    @OptionGroup var source: ModelInput

    @Option(help: "CSV of inputs (default: seeded random inputs).")
    var input: String?

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-5

    @Option(help: "Absolute tolerance.")
    var atol: Double = 1e-6

    @Option(help: "Number of random samples when no --input is given.")
    var rows: Int = 32

    @Option(help: "Seed of the random inputs.")
    var seed: UInt64 = 0

    func validate() throws {
        guard rtol >= 0, atol >= 0, rtol.isFinite, atol.isFinite else { throw ValidationError("--rtol and --atol must be finite and ≥ 0") }
        guard rows > 0, rows <= 1 << 20 else { throw ValidationError("--rows must be in 1...1048576") }
    }

    func run() throws {
        let modelA = try source.load(a), modelB = try source.load(b)
        let architectureA = try modelA.runnableArchitecture(), architectureB = try modelB.runnableArchitecture()
        guard architectureA.inputShape == architectureB.inputShape else {
            throw CommandFailure(message: "modelkit: not equivalent: input shapes differ (\(architectureA.inputShape) vs \(architectureB.inputShape))")
        }
        let shapeA = Inference.outputShape(of: architectureA), shapeB = Inference.outputShape(of: architectureB)
        guard shapeA == shapeB else {
            throw CommandFailure(message: "modelkit: not equivalent: output shapes differ (\(shapeA) vs \(shapeB))")
        }
        let samples: NumericMatrix
        if let input {
            samples = try EngineSupport.readInputs(input, for: architectureA)
        } else {
            let perSample = architectureA.inputShape.reduce(1, *)
            let values = CounterRNG(seed: seed).uniforms(count: rows * perSample, counter: 0, lower: -1, upper: 1)
            samples = NumericMatrix(rows: rows, columns: perSample, values: values)
        }
        let outA = try Inference.predict(modelA, inputs: samples.values, rows: samples.rows)
        let outB = try Inference.predict(modelB, inputs: samples.values, rows: samples.rows)
        let columns = shapeA.reduce(1, *)
        let coarse: DType = modelA.floatDType == .f64 && modelB.floatDType == .f64 ? .f64 : .f32

        print("\(samples.rows) samples\(input == nil ? " (random, seed \(seed))" : " from \(input!)"); comparing in \(coarse.rawValue)")
        print("output  max_abs_diff  max_rel_diff  max_ulp")
        var equivalent = true
        var worst = (abs: 0.0, rel: 0.0, ulp: UInt64(0))
        for c in 0..<columns {
            var maxAbs = 0.0, maxRel = 0.0, maxUlp: UInt64 = 0
            for r in 0..<samples.rows {
                let x = outA[r * columns + c], y = outB[r * columns + c]
                if x.isNaN || y.isNaN {
                    if x.isNaN != y.isNaN { equivalent = false; maxAbs = .nan; maxRel = .nan; maxUlp = .max }
                    continue
                }
                let d = abs(x - y)
                maxAbs = max(maxAbs, d)
                if y != 0 || x != 0 { maxRel = max(maxRel, d / max(abs(x), abs(y))) }
                maxUlp = max(maxUlp, Self.ulpDistance(x, y, in: coarse))
                if !(d <= atol + rtol * abs(y)) { equivalent = false }
            }
            worst = (max(worst.abs, maxAbs), max(worst.rel, maxRel), max(worst.ulp, maxUlp))
            print("\(c)  \(Self.format(maxAbs))  \(Self.format(maxRel))  \(maxUlp == .max ? "nan" : String(maxUlp))")
        }
        if equivalent {
            print("equivalent within rtol \(rtol), atol \(atol) (max abs \(Self.format(worst.abs)), max ulp \(worst.ulp))")
        } else {
            throw CommandFailure(message: "modelkit: not equivalent within rtol \(rtol), atol \(atol): max abs diff \(Self.format(worst.abs)), max rel diff \(Self.format(worst.rel))")
        }
    }

    static func format(_ v: Double) -> String { v.isNaN ? "nan" : String(format: "%.3e", v) }

    /// Number of representable values of `dtype` between a and b (0 when equal; ±0 count as equal).
    static func ulpDistance(_ a: Double, _ b: Double, in dtype: DType) -> UInt64 {
        if dtype == .f64 { return distance(ordered(a.bitPattern, signBit: 1 << 63), ordered(b.bitPattern, signBit: 1 << 63)) }
        return distance(ordered(UInt64(Float(a).bitPattern), signBit: 1 << 31), ordered(UInt64(Float(b).bitPattern), signBit: 1 << 31))
    }

    /// Maps IEEE bits to integers that order like the values (negative values below positive, −0 = +0).
    private static func ordered(_ bits: UInt64, signBit: UInt64) -> Int64 {
        let magnitude = Int64(bitPattern: bits & (signBit - 1))
        return bits & signBit != 0 ? -magnitude : magnitude
    }

    /// |x − y| without overflow: across zero it can exceed Int64.max (never UInt64.max, magnitudes being < 2⁶³).
    private static func distance(_ x: Int64, _ y: Int64) -> UInt64 {
        x > y ? UInt64(bitPattern: x &- y) : UInt64(bitPattern: y &- x)
    }
}
