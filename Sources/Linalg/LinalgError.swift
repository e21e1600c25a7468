/// What a factorization or a size check in `Linalg` reports.
public enum LinalgError: Error, Equatable, CustomStringConvertible {
    /// Sizes that do not fit together (the message names them).
    case badShape(String)
    /// A Cholesky factorization met a non-positive pivot: the leading minor of this order is
    /// not positive definite.
    case notPositiveDefinite(order: Int)
    /// An iterative LAPACK routine did not converge.
    case didNotConverge(routine: String, info: Int)
    /// LAPACK rejected an argument (a negative `info`: the argument's position).
    case lapack(routine: String, info: Int)

    public var description: String {
        switch self {
        case .badShape(let s): return s
        case .notPositiveDefinite(let order):
            return "the matrix is not positive definite (its leading minor of order \(order) is not)"
        case .didNotConverge(let routine, let info): return "LAPACK \(routine) did not converge (info \(info))"
        case .lapack(let routine, let info): return "LAPACK \(routine) rejected argument \(-info)"
        }
    }
}
