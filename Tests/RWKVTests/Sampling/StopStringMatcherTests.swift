// StopStringMatcherTests: stop strings split over tokens, false alarms, and what is held back.

import Testing
@testable import RWKV

@Suite struct StopStringMatcherTests {
    /// Feeds `pieces`, returns the emitted text (flushed at the end) and the stop string found.
    func run(_ stops: [String], _ pieces: [String]) -> (text: String, stop: String?) {
        var matcher = StopStringMatcher(stopStrings: stops)
        var text = ""
        for piece in pieces {
            let step = matcher.append(piece)
            text += step.text
            if let stop = step.stopString { return (text, stop) }
        }
        return (text + matcher.flush(), nil)
    }

    @Test func stopStringAcrossTokens() {
        var matcher = StopStringMatcher(stopStrings: ["\n\n"])
        #expect(matcher.append("Hello\n") == .init(text: "Hello", stopString: nil))
        #expect(matcher.heldText == "\n")
        #expect(matcher.append("\nUser") == .init(text: "", stopString: "\n\n"))
        #expect(matcher.isStopped)
        #expect(matcher.append("more") == .init(text: "", stopString: nil))
        #expect(matcher.flush() == "")
    }

    @Test func falseAlarmIsReleased() {
        #expect(run(["\n\n"], ["a\n", "b"]) == ("a\nb", nil))
        #expect(run(["\n\n"], ["a\n"]) == ("a\n", nil))  // flushed at the end
    }

    @Test func earliestStopWins() {
        #expect(run(["User:", "\n\n"], ["x\n", "\nUser:"]) == ("x", "\n\n"))
        #expect(run(["\n\n", "ab"], ["zab\n\n"]) == ("z", "ab"))
    }

    @Test func overlappingPrefixes() {
        #expect(run(["abcabd"], ["abcab", "cabd!"]) == ("abc", "abcabd"))
        #expect(run(["aab"], ["a", "a", "a", "b"]) == ("a", "aab"))
    }

    @Test func matchesScalarsInsideCRLF() {
        #expect(run(["\n"], ["a\r", "\nb"]) == ("a\r", "\n"))
    }

    @Test func noStopStringsPassesEverythingThrough() {
        var matcher = StopStringMatcher(stopStrings: [""])
        #expect(matcher.append("x\n\n") == .init(text: "x\n\n", stopString: nil))
    }
}
