// PenaltyTrackerTests: pip's occurrence bookkeeping, worked out by hand (spec §7.2).

import Testing
@testable import RWKV

@Suite struct PenaltyTrackerTests {
    @Test func bookkeepingMatchesAHandComputedPipRun() {
        var tracker = PenaltyTracker(presencePenalty: 0.2, frequencyPenalty: 0.2, decay: 0.996, bannedTokens: [5])
        let text = [10: "a", 20: " ", 30: "01", 40: "24"]
        for token in [10, 20, 10, 30, 40] { tracker.record(token, text: text[token, default: "?"]) }
        // 10: 1 → ·0.996 (after " ") → +1 = 1.992016 → ·0.996 = 1.984047936 → ·0.996 = 1.976111744256
        // 20 (" ") and 30 ("01") count 0 but are present; 40 ("24" is not a substring) counts 1.
        #expect(abs((tracker.occurrences[10] ?? .nan) - 1.976111744256) < 1e-12)
        #expect(tracker.occurrences[20] == 0)
        #expect(tracker.occurrences[30] == 0)
        #expect(tracker.occurrences[40] == 1)
        #expect(tracker.occurrences.count == 4)

        var logits = [Float](repeating: 1, count: 50)
        tracker.apply(to: &logits)
        #expect(logits[5] == -.infinity)
        #expect(logits[10] == 1 - Float(0.2 + 1.976111744256 * 0.2))
        #expect(logits[20] == 1 - Float(0.2))  // presence penalty applies even with count 0
        #expect(logits[30] == 1 - Float(0.2))
        #expect(logits[40] == 1 - Float(0.4))
        #expect(logits[11] == 1)
    }

    @Test(arguments: [
        ("", true), (" ", true), ("\t", true), ("7", true), ("01", true), ("234", true), (" \t", true),
        ("\t0123456789", true), ("24", false), ("a", false), ("0 ", false), ("\u{FFFD}", false), ("  ", false),
    ])
    func whitespaceAndDigitRuleIsPythonSubstring(text: String, uncounted: Bool) {
        #expect(PenaltyTracker.isUncounted(text) == uncounted)
    }

    @Test func recordDecodesWithTheTokenizerLikePip() throws {
        let world = try WorldTokenizer.bundled()
        var tracker = PenaltyTracker(presencePenalty: 0, frequencyPenalty: 1, decay: 1)
        tracker.record(33, tokenizer: world)  // " "
        tracker.record(129, tokenizer: world)  // b'\x80': not UTF-8 alone, pip sees U+FFFD → counts
        tracker.record(0, tokenizer: world)  // end of text: pip's decode gives U+FFFD → counts
        #expect(tracker.occurrences == [33: 0, 129: 1, 0: 1])
    }
}
