// Xoshiro256StarStarTests: the generator reproduces the published reference outputs.

import Testing
@testable import RWKV

@Suite struct Xoshiro256StarStarTests {
    @Test func matchesThePublishedReferenceVector() {
        // Blackman & Vigna's reference implementation from state {1, 2, 3, 4} (as used by rand_xoshiro's tests).
        var rng = Xoshiro256StarStar(state: (1, 2, 3, 4))
        let expected: [UInt64] = [
            11520, 0, 1_509_978_240, 1_215_971_899_390_074_240, 1_216_172_134_540_287_360,
            607_988_272_756_665_600, 16_172_922_978_634_559_625, 8_476_171_486_693_032_832,
            10_595_114_339_597_558_777, 2_904_607_092_377_533_576,
        ]
        #expect((0..<10).map { _ in rng.next() } == expected)
    }

    @Test func seedingUsesSplitMix64() {
        // SplitMix64's first four outputs from state 0 (published reference values).
        let state = Xoshiro256StarStar(seed: 0).state
        #expect(state.0 == 0xE220_A839_7B1D_CDAF)
        #expect(state.1 == 0x6E78_9E6A_A1B9_65F4)
        #expect(state.2 == 0x06C4_5D18_8009_454F)
        #expect(state.3 == 0xF88B_B8A8_724C_81EC)
    }

    @Test func unitDoublesAreInTheHalfOpenInterval() {
        var rng = Xoshiro256StarStar(seed: 3)
        let draws = (0..<10_000).map { _ in rng.nextUnitDouble() }
        #expect(draws.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = draws.reduce(0, +) / Double(draws.count)
        #expect(abs(mean - 0.5) < 0.02)
    }
}
