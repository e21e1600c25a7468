import Linalg
import LoupeCLI

// OpenBLAS's idle workers spin for about 0.1 s after each product, taking a core from the
// Swift code that runs between products; let them sleep sooner (unless the user set it).
BLAS.letIdleThreadsSleep()
// Freed activation arrays are reused from the heap instead of mapped afresh each pass.
ProcessMemory.reuseFreedBlocks()
Loupe.main()
