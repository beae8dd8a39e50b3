// StreamingDecoder: turns a stream of token ids into text without ever splitting a character.
//
// A token can end in the middle of a UTF-8 character (emoji and many CJK characters are split over
// byte tokens). The decoder keeps the unfinished tail, at most three bytes, and emits it once the
// character is complete. Bytes that can no longer become a character are emitted as one U+FFFD
// per maximal invalid run as soon as that is certain, so garbage is never held back. This differs
// from pip, which holds all pending tokens until their text contains no U+FFFD at all.

/// Incremental, character-safe decoding of token ids.
///
/// ```swift
/// var decoder = StreamingDecoder(tokenizer: tokenizer)
/// for id in ids { print(try decoder.append(id), terminator: "") }
/// print(decoder.flush())
/// ```
public struct StreamingDecoder: Sendable {
    public let tokenizer: any Tokenizer
    /// Bytes of a character that has started but not finished.
    private var pending: [UInt8] = []

    public init(tokenizer: any Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// Whether bytes of an unfinished character are held back.
    public var hasPendingBytes: Bool { !pending.isEmpty }

    /// Adds one token; returns the text that is now complete (possibly empty).
    /// Throws `unknownToken` for an id without bytes (such as end of text); the decoder is unchanged then.
    public mutating func append(_ id: Int) throws(TokenizerError) -> String {
        guard let piece = tokenizer.tokenBytes(id) else {
            throw TokenizerError.unknownToken(id, in: tokenizer)
        }
        return appendBytes(piece)
    }

    /// Adds several tokens; returns the text that is now complete.
    public mutating func append(contentsOf ids: some Sequence<Int>) throws(TokenizerError) -> String {
        var text = ""
        for id in ids { text += try append(id) }
        return text
    }

    /// Adds raw bytes; returns the text that is now complete.
    public mutating func appendBytes(_ bytes: some Sequence<UInt8>) -> String {
        pending.append(contentsOf: bytes)
        var out: [UInt8] = []
        let kept = UTF8Scanner.appendRepairing(pending, to: &out)
        pending.removeFirst(kept)
        return String(decoding: out, as: UTF8.self)
    }

    /// Ends the stream: an unfinished character becomes U+FFFD. The decoder is empty afterwards.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : "\u{FFFD}"
    }
}
