// UTF8Scanner: strict UTF-8 classification of one character at a time (Unicode Table 3-7).
//
// Strict decoding, lossy decoding and the streaming decoder all need the same answer to "what is at
// this byte: a whole character, garbage, or the start of a character that is not finished yet?".
// Garbage is measured as the Unicode "maximal subpart", so one U+FFFD replaces each maximal
// invalid run exactly as Python's `decode('utf-8', 'replace')` and Swift's `String(decoding:)` do.

enum UTF8Scanner {
    /// What starts at a byte position.
    enum Step: Equatable {
        /// A well-formed character of this many bytes.
        case character(length: Int)
        /// Bytes that can never become a character (a maximal subpart, at least one byte).
        case invalid(length: Int)
        /// A valid prefix of a character that the input ends in the middle of.
        case truncated
    }

    /// Classifies the bytes at `start` (which must be a valid index of `bytes`).
    static func step<C: RandomAccessCollection<UInt8>>(_ bytes: C, at start: C.Index) -> Step where C.Index == Int {
        let lead = bytes[start]
        if lead < 0x80 { return .character(length: 1) }
        let continuation: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: continuation = 1
        case 0xE0: continuation = 2; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: continuation = 2
        case 0xED: continuation = 2; secondRange = 0x80...0x9F  // no UTF-16 surrogates
        case 0xF0: continuation = 3; secondRange = 0x90...0xBF
        case 0xF1...0xF3: continuation = 3
        case 0xF4: continuation = 3; secondRange = 0x80...0x8F  // nothing above U+10FFFF
        default: return .invalid(length: 1)
        }
        for k in 1...continuation {
            let index = start + k
            if index >= bytes.endIndex { return .truncated }
            let range = k == 1 ? secondRange : 0x80...0xBF
            if !range.contains(bytes[index]) { return .invalid(length: k) }
        }
        return .character(length: continuation + 1)
    }

    /// Offset of the first byte that does not start a complete, well-formed character, or nil if
    /// all of `bytes` is valid UTF-8.
    static func firstInvalidOffset(in bytes: [UInt8]) -> Int? {
        var i = 0
        while i < bytes.count {
            guard case .character(let length) = step(bytes, at: i) else { return i }
            i += length
        }
        return nil
    }

    /// UTF-8 bytes of U+FFFD.
    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// Appends the valid characters of `bytes[start...]` to `out`, replacing each invalid run by
    /// U+FFFD. Stops before a truncated character at the end and returns its offset (or
    /// `bytes.count` if there is none), so a caller can keep those bytes for later.
    static func appendRepairing(_ bytes: [UInt8], from start: Int = 0, to out: inout [UInt8]) -> Int {
        var i = start
        while i < bytes.count {
            switch step(bytes, at: i) {
            case .character(let length):
                out.append(contentsOf: bytes[i..<i + length])
                i += length
            case .invalid(let length):
                out.append(contentsOf: replacement)
                i += length
            case .truncated:
                return i
            }
        }
        return i
    }

    /// `bytes` as text with every invalid run, and a truncated character at the end, as U+FFFD.
    static func decodeLossy(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        if appendRepairing(bytes, to: &out) < bytes.count { out.append(contentsOf: replacement) }
        return String(decoding: out, as: UTF8.self)
    }
}
