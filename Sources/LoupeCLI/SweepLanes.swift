import Linalg

/// The lanes a sweep command (trace, patch) runs with: one per OpenBLAS thread (`--threads`,
/// default all cores), with OpenBLAS set to one thread meanwhile so each core runs whole
/// batches (``Analyses/CausalTracing/Config/lanes``). Only when the command owns the process:
/// in process (tests, notebooks) other passes may be running, and OpenBLAS's thread count is
/// process-wide, so there it is one lane. Call ``restore()`` when the sweep ends.
struct SweepLanes {
    let count: Int

    init() {
        count = Loupe.invocation == nil ? BLAS.threadCount : 1
        if count > 1 { BLAS.setThreadCount(1) }
    }

    /// Gives OpenBLAS its threads back.
    func restore() {
        if count > 1 { BLAS.setThreadCount(count) }
    }
}
