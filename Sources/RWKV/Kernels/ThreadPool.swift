// A persistent pool of worker threads for the kernels: the caller and up to n − 1 workers take
// pieces of a job from a shared counter until none are left; the call returns when all are done.
//
// Pieces are claimed dynamically rather than split one per thread because the target machine has
// two cores shared with other processes: when a worker is descheduled or still asleep, the caller
// simply takes its pieces instead of waiting for it. Each piece is computed the same way whichever
// thread runs it, so results do not depend on the thread count or the schedule.
//
// Dispatch must cost well under a microsecond: a forward pass makes about a hundred kernel calls per
// token. Workers therefore spin on an atomic generation counter for a while after each job (about a
// millisecond) and only then sleep on a condition variable, so back-to-back kernels hand off in
// ~0.3 µs while an idle pool gives the core back (measured in the swift-performance notes:
// condvar-only wake-ups cost 18 µs to ms, GCD loses 7–27% on small matrices).

import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

@available(macOS 15.0, *)
final class ThreadPool: @unchecked Sendable {
    /// The pool every kernel uses; it grows to the widest request it has seen.
    static let shared = ThreadPool()

    /// Checks of the generation counter before a worker goes to sleep (about a millisecond).
    private let spinLimit = 1 << 18

    private let generation = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let nextPiece = Atomic<Int>(0)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>

    // Written only by the dispatching thread while it holds `busy`, before the generation bump that
    // publishes them; read by workers after they observe that bump.
    private nonisolated(unsafe) var job: ((Int) -> Void)?
    private nonisolated(unsafe) var parts = 0
    private nonisolated(unsafe) var pieceCount = 0
    private nonisolated(unsafe) var workerCount = 0

    private init() {
        mutex = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    /// Runs `body(p)` once for every piece p in 0..<pieces on up to `n` threads (the caller included)
    /// and returns when all are done. If another thread is dispatching at the same moment, this call
    /// runs its pieces inline.
    func run(parts n: Int, pieces: Int, _ body: (Int) -> Void) {
        guard n > 1, pieces > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for p in 0..<max(pieces, 0) { body(p) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        while workerCount < n - 1 {
            workerCount += 1
            startWorker(index: workerCount, seen: generation.load(ordering: .relaxed))
        }
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            parts = n
            pieceCount = pieces
            nextPiece.store(0, ordering: .relaxed)
            finished.store(0, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            claimPieces(escaping)
            // Every worker acknowledges every generation, so `job` is never replaced under a reader.
            while finished.load(ordering: .acquiring) < workerCount {}
            job = nil
        }
    }

    private func startWorker(index: Int, seen: Int) {
        let thread = Thread { [self] in workerLoop(index: index, seen: seen) }
        thread.name = "rwkv-kernel-\(index)"
        thread.start()
    }

    private func workerLoop(index: Int, seen start: Int) {
        var seen = start
        while true {
            seen = waitForJob(after: seen)
            work(index: index)
            finished.add(1, ordering: .releasing)
        }
    }

    /// A worker's share of the current job. A separate function so that the worker's reference to
    /// `job` is certainly released before it acknowledges (the dispatcher checks the closure did not escape).
    @inline(never)
    private func work(index: Int) {
        guard index < parts, let job else { return }
        claimPieces(job)
    }

    /// Runs pieces until the shared counter passes the last one.
    private func claimPieces(_ job: (Int) -> Void) {
        while true {
            let p = nextPiece.add(1, ordering: .relaxed).oldValue
            if p >= pieceCount { return }
            job(p)
        }
    }

    /// Spins until the generation moves past `seen`, then sleeps; returns the new generation.
    private func waitForJob(after seen: Int) -> Int {
        var spins = 0
        while true {
            let g = generation.load(ordering: .acquiring)
            if g != seen { return g }
            spins += 1
            if spins >= spinLimit {
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(wake, mutex) }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
                spins = 0
            }
        }
    }
}
