import Foundation
import Synchronization
import Testing
@testable import RWKV

/// The persistent pool runs every piece exactly once, back to back and after its workers fell asleep.
@Suite struct ThreadPoolTests {
    @available(macOS 15.0, *)
    static func runAndCount(parts: Int, pieces: Int? = nil) -> [Int] {
        let pieces = pieces ?? parts
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: pieces)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        // Each piece writes only its own slot.
        ThreadPool.shared.run(parts: parts, pieces: pieces) { i in counts[i] += 1 }
        return Array(counts)
    }

    @Test func everyPartRunsOnce() throws {
        guard #available(macOS 15.0, *) else { return }
        for round in 0..<2000 {
            let parts = 1 + round % 4, pieces = 1 + round % 37
            #expect(Self.runAndCount(parts: parts, pieces: pieces) == [Int](repeating: 1, count: pieces))
        }
    }

    @Test func wakesSleepingWorkers() throws {
        guard #available(macOS 15.0, *) else { return }
        for _ in 0..<3 {
            #expect(Self.runAndCount(parts: 2) == [1, 1])
            Thread.sleep(forTimeInterval: 0.05)   // long enough for the worker to stop spinning
        }
        #expect(Self.runAndCount(parts: 3) == [1, 1, 1])
    }
}
