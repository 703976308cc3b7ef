import Foundation

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

/// `a·b` (or with either transposed) through BLAS.
///
/// A large product (at least `splitThreshold` multiply-adds) is always cut in two halves along the longer side of
/// the output, and the halves run on two threads when there are two cores, one after the other otherwise. The cut
/// depends on the shapes alone, so every output element comes from the same single-threaded GEMM call on every
/// machine: the bits do not depend on the number of cores (spec/engine.md, §2).
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
                let job = GEMMJob(transA: transA, transB: transB, k: k, a: pa.baseAddress!, lda: a.cols,
                                  b: pb.baseAddress!, ldb: b.cols, c: pc.baseAddress!, ldc: n)
                if m * n * k < splitThreshold || max(m, n) < 2 {
                    job.run(rows: 0..<m, cols: 0..<n)
                } else if m >= n {
                    DispatchQueue.concurrentPerform(iterations: 2) { i in job.run(rows: i == 0 ? 0..<(m / 2) : (m / 2)..<m, cols: 0..<n) }
                } else {
                    DispatchQueue.concurrentPerform(iterations: 2) { i in job.run(rows: 0..<m, cols: i == 0 ? 0..<(n / 2) : (n / 2)..<n) }
                }
            }
        }
    }
    return c
}

/// Products of at least this many multiply-adds are cut in two (see `matmul`).
let splitThreshold = 1 << 20

/// One GEMM `c = op(a)·op(b)` on row-major buffers, run by parts: a block of output rows and columns each.
private struct GEMMJob<T: EngineScalar>: @unchecked Sendable {
    // @unchecked: the parts write disjoint blocks of c and only read a and b.
    let transA: Bool, transB: Bool
    let k: Int
    let a: UnsafePointer<T>, lda: Int
    let b: UnsafePointer<T>, ldb: Int
    let c: UnsafeMutablePointer<T>, ldc: Int

    func run(rows: Range<Int>, cols: Range<Int>) {
        guard !rows.isEmpty, !cols.isEmpty else { return }
        // Row i of op(a) starts at a + i·lda, or at a + i when a is transposed; column j of op(b) at b + j, or at
        // b + j·ldb when b is transposed.
        let aStart = transA ? a + rows.lowerBound : a + rows.lowerBound * lda
        let bStart = transB ? b + cols.lowerBound * ldb : b + cols.lowerBound
        T.gemm(transA: transA, transB: transB, m: rows.count, n: cols.count, k: k, alpha: 1,
               a: aStart, lda: lda, b: bStart, ldb: ldb, beta: 0, c: c + rows.lowerBound * ldc + cols.lowerBound, ldc: ldc)
    }
}
