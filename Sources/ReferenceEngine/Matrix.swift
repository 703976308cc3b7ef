/// A row-major `rows × cols` matrix: a batch of samples, one per row, features along the columns.
/// Inputs with more than one axis per sample (`inputShape = [t, f]`) are flattened to `batch·t` rows of `f`:
/// every layer of the data model acts on the last axis only.
public struct Matrix<T: EngineScalar>: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public var data: [T]

    public init(rows: Int, cols: Int, data: [T]) {
        precondition(data.count == rows * cols, "matrix data disagrees with its shape")
        self.rows = rows; self.cols = cols; self.data = data
    }

    public init(zeros rows: Int, _ cols: Int) {
        self.init(rows: rows, cols: cols, data: [T](repeating: 0, count: rows * cols))
    }

    @inline(__always) public subscript(row: Int, col: Int) -> T {
        get { data[row * cols + col] }
        set { data[row * cols + col] = newValue }
    }

    /// Rows `indices` of this matrix, in that order.
    public func gatherRows(_ indices: ArraySlice<Int>) -> Matrix {
        var out = [T]()
        out.reserveCapacity(indices.count * cols)
        for r in indices { out.append(contentsOf: data[(r * cols)..<((r + 1) * cols)]) }
        return Matrix(rows: indices.count, cols: cols, data: out)
    }
}

/// `a·b` (or with either transposed) through BLAS, one single-threaded GEMM call (spec/engine.md, §2). A fixed
/// split into two GEMMs on two threads was measured and gave nothing on this machine (two hyperthreads share one
/// core's vector units), so products are not split.
func matmul<T: EngineScalar>(_ a: Matrix<T>, _ b: Matrix<T>, transA: Bool = false, transB: Bool = false) -> Matrix<T> {
    let m = transA ? a.cols : a.rows
    let k = transA ? a.rows : a.cols
    let n = transB ? b.rows : b.cols
    precondition(k == (transB ? b.cols : b.rows), "matmul inner dimensions differ")
    // GEMM with beta = 0 writes every element of c, so it need not be zeroed first (BLAS does not read it).
    var c = Matrix<T>(rows: m, cols: n, data: [T](unsafeUninitializedCapacity: m * n) { buffer, initialized in
        if k == 0 { buffer.initialize(repeating: 0) }  // no GEMM call: an empty sum is 0
        initialized = m * n
    })
    if m == 0 || n == 0 || k == 0 { return c }
    a.data.withUnsafeBufferPointer { pa in
        b.data.withUnsafeBufferPointer { pb in
            c.data.withUnsafeMutableBufferPointer { pc in
                T.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1,
                       a: pa.baseAddress!, lda: a.cols, b: pb.baseAddress!, ldb: b.cols,
                       beta: 0, c: pc.baseAddress!, ldc: n)
            }
        }
    }
    return c
}
