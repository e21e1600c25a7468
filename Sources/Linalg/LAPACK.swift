import CLAPACKE

/// Dense factorizations through LAPACKE, in Double, row-major. Each routine checks its sizes
/// before LAPACK sees them and reports LAPACK's failures as ``LinalgError``.
public enum LAPACK {
    /// Solves `A X = B` for a symmetric positive definite `A` (`[n, n]`, only its upper
    /// triangle is read) and `B` (`[n, nrhs]`) by a Cholesky factorization (`dposv`).
    /// Returns `X` (`[n, nrhs]`).
    /// - Throws: ``LinalgError/notPositiveDefinite(order:)`` when the factorization meets a
    ///   non-positive pivot; ``LinalgError/badShape(_:)`` when the counts do not match.
    public static func choleskySolve(_ a: [Double], _ b: [Double], n: Int, rightHandSides nrhs: Int) throws -> [Double] {
        try checkSquare(a.count, n, "choleskySolve: A")
        guard nrhs > 0, let count = multiplied(n, nrhs), b.count == count else {
            throw LinalgError.badShape("choleskySolve: B has \(b.count) values, not \(n) x \(nrhs)")
        }
        var a = a, x = b
        let info = LAPACKE_dposv(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), Int32(nrhs), &a, Int32(n), &x, Int32(nrhs))
        if info > 0 { throw LinalgError.notPositiveDefinite(order: Int(info)) }
        if info < 0 { throw LinalgError.lapack(routine: "dposv", info: Int(info)) }
        return x
    }

    /// Eigenvalues and eigenvectors of a symmetric `A` (`[n, n]`, only its upper triangle is
    /// read), by divide and conquer (`dsyevd`).
    /// - Returns: the eigenvalues in ascending order and the eigenvectors as the columns of a
    ///   row-major `[n, n]` matrix (column `j` belongs to `values[j]`).
    public static func symmetricEigen(_ a: [Double], n: Int) throws -> (values: [Double], vectors: [Double]) {
        try checkSquare(a.count, n, "symmetricEigen: A")
        var v = a
        var w = [Double](repeating: 0, count: n)
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(n), &v, Int32(n), &w)
        if info > 0 { throw LinalgError.didNotConverge(routine: "dsyevd", info: Int(info)) }
        if info < 0 { throw LinalgError.lapack(routine: "dsyevd", info: Int(info)) }
        return (w, v)
    }

    /// The thin singular value decomposition `A = U diag(s) Vᵀ` of `A` (`[rows, cols]`), by
    /// divide and conquer (`dgesdd`). With `r = min(rows, cols)`: `u` is `[rows, r]`, `s` has
    /// `r` values in descending order, `vt` is `[r, cols]`, all row-major.
    public static func svd(_ a: [Double], rows: Int, cols: Int) throws -> (u: [Double], s: [Double], vt: [Double]) {
        guard rows > 0, cols > 0, let count = multiplied(rows, cols), a.count == count,
              rows <= Int(Int32.max), cols <= Int(Int32.max) else {
            throw LinalgError.badShape("svd: A has \(a.count) values, not \(rows) x \(cols)")
        }
        let r = min(rows, cols)
        var m = a
        var s = [Double](repeating: 0, count: r)
        var u = [Double](repeating: 0, count: rows * r)
        var vt = [Double](repeating: 0, count: r * cols)
        let info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "S")), Int32(rows), Int32(cols), &m, Int32(cols),
                                  &s, &u, Int32(r), &vt, Int32(cols))
        if info > 0 { throw LinalgError.didNotConverge(routine: "dgesdd", info: Int(info)) }
        if info < 0 { throw LinalgError.lapack(routine: "dgesdd", info: Int(info)) }
        return (u, s, vt)
    }

    private static func checkSquare(_ count: Int, _ n: Int, _ what: String) throws {
        guard n > 0, n <= Int(Int32.max), let nn = multiplied(n, n), count == nn else {
            throw LinalgError.badShape("\(what) has \(count) values, not \(n) x \(n)")
        }
    }

    private static func multiplied(_ a: Int, _ b: Int) -> Int? {
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : p
    }
}
