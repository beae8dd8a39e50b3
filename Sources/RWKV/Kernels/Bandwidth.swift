// A quick measure of this machine's memory read bandwidth: the limit a memory-bound decode step
// (every weight read once per token) can approach, so benchmarks can report a fraction of it.

import Foundation

public enum MemoryBandwidth {
    /// Bytes per second of a multi-threaded streaming sum over a `bytes`-sized buffer (best of `passes`).
    /// The buffer is allocated, touched and freed inside the call.
    public static func measureRead(bytes: Int = 512 << 20, threads: Int = KernelThreads.count, passes: Int = 5) -> Double {
        let count = max(bytes / 4, 1024)
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1)
        let chunks = count / 8
        let parts = max(threads, 1)
        let sums = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(threads, 1))
        defer { sums.deallocate() }
        sums.initialize(repeating: 0)
        var best = 0.0
        for _ in 0..<passes {
            let start = DispatchTime.now().uptimeNanoseconds
            let base = UnsafeRawPointer(buffer.baseAddress!)
            // One range per thread (count = parts), so range.lowerBound names the thread's slot.
            parallelFor(parts, parts: parts) { slot in
                let range = (chunks * slot.lowerBound / parts)..<(chunks * slot.upperBound / parts)
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var i = range.lowerBound
                while i + 4 <= range.upperBound {
                    a0 += base.loadUnaligned(fromByteOffset: 32 * i, as: SIMD8<Float>.self)
                    a1 += base.loadUnaligned(fromByteOffset: 32 * i + 32, as: SIMD8<Float>.self)
                    a2 += base.loadUnaligned(fromByteOffset: 32 * i + 64, as: SIMD8<Float>.self)
                    a3 += base.loadUnaligned(fromByteOffset: 32 * i + 96, as: SIMD8<Float>.self)
                    i += 4
                }
                sums[slot.lowerBound] += ((a0 + a1) + (a2 + a3)).sum()
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, Double(chunks * 32) / seconds)
        }
        // Keep the sums observable so the loads are not optimised away.
        if sums.reduce(0, +) == -1 { print("") }
        return best
    }
}
