// StopStringMatcher: finds stop strings in streamed text even when they span several tokens.
//
// Text arrives in pieces (one per token, from `StreamingDecoder`). A piece may end with the start
// of a stop string ("\n" of "\n\n"), so the matcher holds back the longest tail that could still
// grow into a stop string and releases it once it cannot. Matching is on Unicode scalars, not
// Characters: Swift would treat "\r\n" as one Character and never find "\n" inside it.

/// Splits streamed text into what is safe to show and where a stop string begins.
///
/// ```swift
/// var matcher = StopStringMatcher(stopStrings: ["\n\n"])
/// let step = matcher.append(piece)
/// print(step.text, terminator: "")
/// if step.stopString != nil { /* generation is over */ }
/// ```
public struct StopStringMatcher: Sendable {
    /// The result of feeding one piece of text.
    public struct Step: Sendable, Equatable {
        /// Text that can be emitted now: it is not part of any stop string.
        public var text: String
        /// The stop string found, if any. Text from its start on is dropped.
        public var stopString: String?
    }

    public let stopStrings: [String]
    private let patterns: [[Unicode.Scalar]]
    /// Scalars held back because they may be the start of a stop string.
    private var held: [Unicode.Scalar] = []
    /// Set once a stop string has been found; later input is ignored.
    public private(set) var isStopped = false

    /// Empty stop strings are ignored (they would match before any text).
    public init(stopStrings: [String]) {
        self.stopStrings = stopStrings.filter { !$0.isEmpty }
        self.patterns = self.stopStrings.map { Array($0.unicodeScalars) }
    }

    /// The text held back right now.
    public var heldText: String { Self.string(held[...]) }

    /// Feeds the next piece of generated text.
    public mutating func append(_ piece: String) -> Step {
        guard !isStopped else { return Step(text: "", stopString: nil) }
        held.append(contentsOf: piece.unicodeScalars)
        // The earliest match wins; among matches at the same position, the first listed.
        var found: (start: Int, pattern: Int)?
        for (k, pattern) in patterns.enumerated() {
            if let start = firstOccurrence(of: pattern), start < (found?.start ?? .max) { found = (start, k) }
        }
        if let found {
            isStopped = true
            let text = Self.string(held[..<found.start])
            held.removeAll()
            return Step(text: text, stopString: stopStrings[found.pattern])
        }
        let keep = longestTailThatStartsAPattern()
        let text = Self.string(held[..<(held.count - keep)])
        held.removeFirst(held.count - keep)
        return Step(text: text, stopString: nil)
    }

    /// Ends the stream: the held-back tail was not a stop string after all.
    public mutating func flush() -> String {
        defer { held.removeAll() }
        return isStopped ? "" : heldText
    }

    private func firstOccurrence(of pattern: [Unicode.Scalar]) -> Int? {
        guard pattern.count <= held.count else { return nil }
        return (0...(held.count - pattern.count)).first { held[$0..<$0 + pattern.count].elementsEqual(pattern) }
    }

    /// Length of the longest suffix of `held` that is a proper prefix of some stop string.
    private func longestTailThatStartsAPattern() -> Int {
        var best = 0
        for pattern in patterns {
            var length = min(pattern.count - 1, held.count)
            while length > best {
                if held[(held.count - length)...].elementsEqual(pattern[..<length]) { best = length; break }
                length -= 1
            }
        }
        return best
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var text = ""
        text.unicodeScalars.append(contentsOf: scalars)
        return text
    }
}
