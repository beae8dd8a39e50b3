// A persistent pool of worker threads for the kernels: the caller and up to n − 1 workers take
// pieces of a job from a shared counter until none are left; the call returns when all are done.
//
// Pieces are claimed dynamically rather than split one per thread because the target machine has
// two cores shared with other processes: when a worker is descheduled or still asleep, the caller
// simply takes its pieces instead of waiting for it, and it waits only for pieces actually in
// progress, never for an idle worker to check in. Each piece is computed the same way whichever
// thread runs it, so results do not depend on the thread count or the schedule.
//
// The whole dispatch state lives in one atomic word, the ticket:
//   generation (20 bits) | width (4 bits) | piece count (20 bits) | next piece (20 bits)
// A thread owns piece p of generation g only after a successful compare-and-swap of the ticket, so
// a worker waking late can never take a piece of a finished job or mix two jobs' counts.
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

    /// Checks of the ticket before an idle worker goes to sleep (tens of microseconds): long enough
    /// to bridge the gaps between the kernels of one token, short enough to free the core soon after.
    private let spinLimit = 1 << 15
    /// Most pieces per job and most threads per job the ticket can describe.
    static let maxPieces = (1 << 20) - 1, maxWidth = 15

    private let ticket = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>

    // Written only by the dispatching thread while it holds `busy`. `job` is set before the ticket
    // that publishes it and read only by a thread holding a claimed piece, whose completion the
    // dispatcher waits for before clearing it.
    private nonisolated(unsafe) var job: ((Int) -> Void)?
    private nonisolated(unsafe) var generation = 0
    private nonisolated(unsafe) var workerCount = 0

    private init() {
        mutex = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    // MARK: Ticket fields

    private static func ticket(generation g: Int, width: Int, pieces: Int) -> Int { g << 44 | width << 40 | pieces << 20 }
    private static func generation(_ t: Int) -> Int { t >> 44 & 0xF_FFFF }
    private static func width(_ t: Int) -> Int { t >> 40 & 0xF }
    private static func pieces(_ t: Int) -> Int { t >> 20 & 0xF_FFFF }
    private static func next(_ t: Int) -> Int { t & 0xF_FFFF }

    /// Runs `body(p)` once for every piece p in 0..<pieces on up to `n` threads (the caller included)
    /// and returns when all are done. If another thread is dispatching at the same moment, or the job
    /// is too large to describe, this call runs its pieces inline.
    func run(parts n: Int, pieces: Int, _ body: (Int) -> Void) {
        guard n > 1, pieces > 1, pieces <= ThreadPool.maxPieces,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for p in 0..<max(pieces, 0) { body(p) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        let width = min(n, ThreadPool.maxWidth)
        while workerCount < width - 1 {
            workerCount += 1
            startWorker(index: workerCount, seen: generation)
        }
        generation = (generation + 1) & 0xF_FFFF
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            completed.store(0, ordering: .relaxed)
            ticket.store(ThreadPool.ticket(generation: generation, width: width, pieces: pieces), ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            claimPieces(generation: generation, index: 0)
            while completed.load(ordering: .acquiring) < pieces {}
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
            seen = waitForGeneration(after: seen)
            claimPieces(generation: seen, index: index)
        }
    }

    /// Claims and runs pieces of `generation` until none are left (or the job is not this thread's).
    private func claimPieces(generation g: Int, index: Int) {
        while true {
            let t = ticket.load(ordering: .acquiring)
            guard ThreadPool.generation(t) == g, index < ThreadPool.width(t), ThreadPool.next(t) < ThreadPool.pieces(t) else { return }
            if ticket.compareExchange(expected: t, desired: t + 1, ordering: .acquiringAndReleasing).exchanged {
                runPiece(ThreadPool.next(t))
                completed.add(1, ordering: .releasing)
            }
        }
    }

    /// One claimed piece. A separate, non-inlined function so this thread's reference to `job` is
    /// released before the piece is reported complete (the dispatcher checks the closure did not escape).
    @inline(never)
    private func runPiece(_ p: Int) {
        job?(p)
    }

    /// Spins until the ticket's generation moves past `seen`, then sleeps; returns the new generation.
    private func waitForGeneration(after seen: Int) -> Int {
        var spins = 0
        while true {
            let g = ThreadPool.generation(ticket.load(ordering: .acquiring))
            if g != seen { return g }
            spins += 1
            if spins >= spinLimit {
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while ThreadPool.generation(ticket.load(ordering: .sequentiallyConsistent)) == seen { pthread_cond_wait(wake, mutex) }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
                spins = 0
            }
        }
    }
}
