import CBLAS
import CEngineKernels
import ModelFormat
#if canImport(Glibc)
import Glibc
#endif

/// The two element types the engine computes in: `Float` for f32 (and f16/bf16, widened) models, `Double` for f64.
/// Every operation of a model runs in its own precision, as Keras does, so that f32 results agree with Keras's f32
/// arithmetic to the last few bits rather than to f64's.
public protocol EngineScalar: BinaryFloatingPoint, Sendable where Self.RawSignificand: FixedWidthInteger {
    /// The dtype tensors of this scalar are stored in.
    static var dtype: DType { get }
    static func exp(_ x: Self) -> Self
    static func expm1(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func erfc(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
    /// `c = alpha·op(a)·op(b) + beta·c` on row-major matrices, `op(a)` being `m×k` and `op(b)` `k×n`
    /// (`cblas_sgemm` / `cblas_dgemm`).
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// Keras's Adam update of n elements (`modelkit_adam_keras_f32/f64` in CEngineKernels).
    static func adamKeras(p: UnsafeMutablePointer<Self>, g: UnsafePointer<Self>, m: UnsafeMutablePointer<Self>,
                          v: UnsafeMutablePointer<Self>, count: Int, alpha: Self, oneMinusBeta1: Self, oneMinusBeta2: Self, epsilon: Self)
    /// Values of a tensor of any floating-point dtype, converted to this precision.
    static func values(of tensor: Tensor) -> [Self]
    /// A tensor of `dtype` holding `values`.
    static func tensor(_ values: [Self], shape: [Int]) -> Tensor
}

extension Float: EngineScalar {
    public static var dtype: DType { .f32 }
    @inline(__always) public static func exp(_ x: Float) -> Float { expf(x) }
    @inline(__always) public static func expm1(_ x: Float) -> Float { expm1f(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { logf(x) }
    @inline(__always) public static func log1p(_ x: Float) -> Float { log1pf(x) }
    @inline(__always) public static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) public static func erfc(_ x: Float) -> Float { erfcf(x) }
    @inline(__always) public static func pow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        BLAS.ensureSingleThreaded()
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
    public static func adamKeras(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                                 v: UnsafeMutablePointer<Float>, count: Int, alpha: Float, oneMinusBeta1: Float, oneMinusBeta2: Float, epsilon: Float) {
        modelkit_adam_keras_f32(p, g, m, v, count, alpha, oneMinusBeta1, oneMinusBeta2, epsilon)
    }
    public static func values(of tensor: Tensor) -> [Float] { tensor.floats() }
    public static func tensor(_ values: [Float], shape: [Int]) -> Tensor { Tensor(values, shape: shape) }
}

extension Double: EngineScalar {
    public static var dtype: DType { .f64 }
    @inline(__always) public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inline(__always) public static func expm1(_ x: Double) -> Double { Glibc.expm1(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Glibc.log(x) }
    @inline(__always) public static func log1p(_ x: Double) -> Double { Glibc.log1p(x) }
    @inline(__always) public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    @inline(__always) public static func erfc(_ x: Double) -> Double { Glibc.erfc(x) }
    @inline(__always) public static func pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        BLAS.ensureSingleThreaded()
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
    public static func adamKeras(p: UnsafeMutablePointer<Double>, g: UnsafePointer<Double>, m: UnsafeMutablePointer<Double>,
                                 v: UnsafeMutablePointer<Double>, count: Int, alpha: Double, oneMinusBeta1: Double, oneMinusBeta2: Double, epsilon: Double) {
        modelkit_adam_keras_f64(p, g, m, v, count, alpha, oneMinusBeta1, oneMinusBeta2, epsilon)
    }
    public static func values(of tensor: Tensor) -> [Double] { tensor.doubles() }
    public static func tensor(_ values: [Double], shape: [Int]) -> Tensor { Tensor(values, shape: shape) }
}

/// OpenBLAS runs on one thread. A multi-threaded GEMM may split the inner (k) dimension differently depending on
/// the number of cores, which changes the order of each output's sum and so its last bits; with one thread every
/// product is computed the same way on every run of the same machine, whatever its core count.
enum BLAS {
    private static let configured: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    @inline(__always) static func ensureSingleThreaded() { _ = configured }
}
