// A persistent pool of worker threads for the kernels: the caller runs part 0 itself, workers run
// parts 1..<n, and the call returns when every part is done.
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
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>

    // Written only by the dispatching thread while it holds `busy`, before the generation bump that
    // publishes them; read by workers after they observe that bump.
    private nonisolated(unsafe) var job: ((Int) -> Void)?
    private nonisolated(unsafe) var parts = 0
    private nonisolated(unsafe) var workerCount = 0

    private init() {
        mutex = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    /// Runs `body(i)` for i in 0..<n, part 0 on the calling thread, and returns when all are done.
    /// If another thread is dispatching at the same moment, this call runs its parts inline.
    func run(parts n: Int, _ body: (Int) -> Void) {
        guard n > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for i in 0..<max(n, 0) { body(i) }
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
            finished.store(0, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            escaping(0)
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
            if index < parts, let job { job(index) }
            finished.add(1, ordering: .releasing)
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
