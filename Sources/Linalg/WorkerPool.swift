import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Persistent worker threads for ``parallelChunks(_:minimumPerChunk:chunks:_:)``: one per core
/// beyond the caller's, each spinning (yielding the core to any other runnable thread on every
/// turn) for a short while after a job before it sleeps, and sleeping at once when a BLAS call
/// starts (``rest()``, called by ``BLAS``'s wrappers), whose own threads want the cores.
///
/// A forward pass makes a few hundred parallel products of 50-150 µs each; a worker woken
/// from sleep for every one (as `DispatchQueue.concurrentPerform`'s are) starts tens of
/// microseconds late, and the product waits for it. Here the caller publishes a job, takes
/// chunks itself, and a worker still spinning from the last job joins at once. Chunks are
/// taken in any order by any thread but write disjoint outputs, so results are the same bits
/// whoever runs them. One job at a time: a caller that finds the pool busy (another thread's
/// job, or a chunk that itself calls ``parallelChunks``) gets `false` and runs its own way.
@usableFromInline final class WorkerPool: @unchecked Sendable {
    /// The pool of `cores - 1` workers (nil on one core); threads start on first use.
    @usableFromInline static let shared: WorkerPool? = ProcessorInfo.cores > 1 ? WorkerPool(workers: ProcessorInfo.cores - 1) : nil

    /// How long a worker spins for the next job before it sleeps.
    static let spinNanoseconds: UInt64 = 200_000

    private let workers: Int
    private let busy = Atomic<Bool>(false)
    /// The current job's generation (high 24 bits), chunk count (middle 20) and next chunk
    /// (low 20): a chunk is claimed by one compare-and-exchange of the whole word, so a worker
    /// late from an earlier job can never claim a chunk of the next one by mistake.
    private let ticket = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    /// Cleared by ``rest()`` (before a BLAS call, whose own threads want the cores) so spinning
    /// workers sleep at once; set again by the next job.
    private let spinning = Atomic<Bool>(true)
    private let wake = NSCondition()
    private let started = Mutex<Bool>(false)
    /// The caller's generation counter (callers are serialized by `busy`).
    nonisolated(unsafe) private var generation = 0
    /// Written by the caller before it stores the job's ticket (releasing); read by a worker
    /// only after it claimed a chunk of that ticket (acquiring), and cleared by the caller only
    /// after every chunk is done.
    nonisolated(unsafe) private var job: ((Int) -> Void)? = nil

    static let chunkBits = 20
    static let chunkMask = (1 << chunkBits) - 1

    private init(workers: Int) { self.workers = workers }

    /// Runs `body(i)` for every `i` in `0..<chunks` on the caller and the workers; returns
    /// when all are done. Returns `false` without running anything when the pool is busy (or
    /// `chunks` is out of its range).
    func run(_ chunks: Int, _ body: @escaping (Int) -> Void) -> Bool {
        guard chunks > 0, chunks <= Self.chunkMask,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        startWorkers()
        generation = (generation + 1) & ((1 << 23) - 1)
        job = body
        remaining.store(chunks, ordering: .relaxed)
        spinning.store(true, ordering: .relaxed)
        let start = (generation << (2 * Self.chunkBits)) | (chunks << Self.chunkBits)
        ticket.store(start, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            wake.lock()
            wake.broadcast()
            wake.unlock()
        }
        takeChunks(of: start >> Self.chunkBits)
        while remaining.load(ordering: .acquiring) > 0 { sched_yield() }
        job = nil
        busy.store(false, ordering: .releasing)
        return true
    }

    /// Sends spinning workers to sleep until the next job: OpenBLAS's threads, which a BLAS call
    /// is about to use, would otherwise share the cores with them.
    @usableFromInline func rest() {
        if spinning.load(ordering: .relaxed) { spinning.store(false, ordering: .relaxed) }
    }

    /// Claims and runs chunks of the job `key` (generation and count) until none is left.
    private func takeChunks(of key: Int) {
        var t = ticket.load(ordering: .acquiring)
        while t >> Self.chunkBits == key, t & Self.chunkMask < key & Self.chunkMask {
            let (claimed, found) = ticket.compareExchange(expected: t, desired: t + 1, ordering: .acquiringAndReleasing)
            guard claimed else { t = found; continue }
            job!(t & Self.chunkMask)
            remaining.subtract(1, ordering: .releasing)
            t = ticket.load(ordering: .acquiring)
        }
    }

    private func startWorkers() {
        started.withLock { running in
            guard !running else { return }
            running = true
            for _ in 0..<workers {
                let thread = Thread { [unowned self] in self.work() }
                thread.name = "loupe-worker"
                thread.start()
            }
        }
    }

    /// A worker: waits for each new job (spinning, then sleeping) and takes its chunks.
    private func work() {
        var seen = ticket.load(ordering: .acquiring) >> Self.chunkBits
        while true {
            var spinStart: UInt64 = 0, turns = 0
            while ticket.load(ordering: .acquiring) >> Self.chunkBits == seen {
                if !spinning.load(ordering: .relaxed) { sleep(while: seen); continue }
                turns += 1
                if turns & 63 == 0 {
                    let now = DispatchTime.now().uptimeNanoseconds
                    if spinStart == 0 { spinStart = now } else if now - spinStart > Self.spinNanoseconds { sleep(while: seen) }
                }
                sched_yield()
            }
            seen = ticket.load(ordering: .acquiring) >> Self.chunkBits
            takeChunks(of: seen)
        }
    }

    /// Sleeps while the current job is still `seen`.
    private func sleep(while seen: Int) {
        wake.lock()
        sleepers.add(1, ordering: .sequentiallyConsistent)
        while ticket.load(ordering: .sequentiallyConsistent) >> Self.chunkBits == seen { wake.wait() }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        wake.unlock()
    }
}
