// WorldVocabularyParser: reads the lines of `rwkv_vocab_v20230424.txt` into (id, bytes) pairs.
//
// Each line is `<id> <python-literal> <byte-length>` (spec §6.1). The literal is a Python `str`
// literal (its text is UTF-8 encoded) or a `bytes` literal `b'…'` (raw bytes). This is a small
// interpreter for exactly the literal syntax Python accepts there, not a general Python parser:
// prefixes other than `b`, triple quotes and `\N{…}` escapes are rejected with the line number.

/// One vocabulary entry.
struct VocabularyEntry: Sendable, Equatable {
    var id: Int
    var bytes: [UInt8]
}

enum WorldVocabularyParser {
    /// Parses a whole file. Lines may end in LF or CRLF; empty lines are skipped.
    /// `path` only labels errors.
    static func parse(_ file: [UInt8], path: String?) throws(TokenizerError) -> [VocabularyEntry] {
        var entries: [VocabularyEntry] = []
        entries.reserveCapacity(65_536)
        var lineStart = 0
        var lineNumber = 0
        while lineStart < file.count {
            lineNumber += 1
            var lineEnd = file[lineStart...].firstIndex(of: 0x0A) ?? file.count
            let next = lineEnd + 1
            if lineEnd > lineStart && file[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd > lineStart {
                do {
                    entries.append(try parseLine(file[lineStart..<lineEnd]))
                } catch let problem {
                    throw TokenizerError(code: .malformedVocabulary, message: problem.message, path: path, line: lineNumber)
                }
            }
            lineStart = next
        }
        return entries
    }

    /// A problem inside one line, before the line number and path are attached.
    struct LineProblem: Error {
        var message: String
    }

    /// Parses `<id> <literal> <length>`, splitting at the first and the last space.
    static func parseLine(_ line: ArraySlice<UInt8>) throws(LineProblem) -> VocabularyEntry {
        guard let first = line.firstIndex(of: 0x20), let last = line.lastIndex(of: 0x20), first < last else {
            throw LineProblem(message: "expected `<id> <literal> <byte length>`, found \(quoted(line))")
        }
        guard let id = decimal(line[line.startIndex..<first]) else {
            throw LineProblem(message: "expected a decimal token id before the first space, found \(quoted(line[..<first]))")
        }
        guard let length = decimal(line[(last + 1)...]) else {
            throw LineProblem(message: "expected a decimal byte length after the last space, found \(quoted(line[(last + 1)...]))")
        }
        let bytes = try literal(line[(first + 1)..<last])
        guard bytes.count == length else {
            throw LineProblem(message: "literal of token \(id) decodes to \(bytes.count) bytes but the line says \(length)")
        }
        guard !bytes.isEmpty else { throw LineProblem(message: "token \(id) is empty") }
        return VocabularyEntry(id: id, bytes: bytes)
    }

    /// A non-negative decimal of at most 9 digits.
    static func decimal(_ text: ArraySlice<UInt8>) -> Int? {
        guard (1...9).contains(text.count) else { return nil }
        var value = 0
        for c in text {
            guard (0x30...0x39).contains(c) else { return nil }
            value = value * 10 + Int(c - 0x30)
        }
        return value
    }

    /// Decodes a Python `'…'`, `"…"`, `b'…'` or `b"…"` literal to bytes.
    static func literal(_ text: ArraySlice<UInt8>) throws(LineProblem) -> [UInt8] {
        var body = text
        let isBytes = body.first == UInt8(ascii: "b")
        if isBytes { body = body.dropFirst() }
        guard let quote = body.first, quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\""),
              body.count >= 2, body.last == quote
        else {
            throw LineProblem(message: "expected a quoted Python str or b'' bytes literal, found \(quoted(text))")
        }
        body = body.dropFirst().dropLast()
        var out: [UInt8] = []
        var i = body.startIndex
        var rawStart = i  // start of the current run of unescaped bytes
        func flushRaw(upTo end: Int) throws(LineProblem) {
            let raw = body[rawStart..<end]
            if isBytes {
                guard raw.allSatisfy({ $0 < 0x80 }) else { throw LineProblem(message: "bytes literal \(quoted(text)) contains non-ASCII characters") }
            } else {
                guard UTF8Scanner.firstInvalidOffset(in: Array(raw)) == nil else {
                    throw LineProblem(message: "str literal \(quoted(text)) is not valid UTF-8")
                }
            }
            out.append(contentsOf: raw)
        }
        while i < body.endIndex {
            let c = body[i]
            if c == quote { throw LineProblem(message: "unescaped quote inside literal \(quoted(text))") }
            guard c == UInt8(ascii: "\\") else { i += 1; continue }
            try flushRaw(upTo: i)
            guard i + 1 < body.endIndex else { throw LineProblem(message: "literal \(quoted(text)) ends with a lone backslash") }
            i = try escape(body, at: i + 1, isBytes: isBytes, into: &out, literal: text)
            rawStart = i
        }
        try flushRaw(upTo: body.endIndex)
        return out
    }

    /// Decodes the escape whose letter is at `body[at]` and returns the index after it.
    private static func escape(
        _ body: ArraySlice<UInt8>, at start: Int, isBytes: Bool, into out: inout [UInt8], literal: ArraySlice<UInt8>
    ) throws(LineProblem) -> Int {
        let letter = body[start]
        if let byte = simpleEscape(letter) {
            out.append(byte)
            return start + 1
        }
        let digitCount: Int
        switch letter {
        case UInt8(ascii: "x"): digitCount = 2
        case UInt8(ascii: "u") where !isBytes: digitCount = 4
        case UInt8(ascii: "U") where !isBytes: digitCount = 8
        case UInt8(ascii: "N") where !isBytes:
            throw LineProblem(message: "\\N{…} escapes are not supported, found in \(quoted(literal))")
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            return try octalEscape(body, at: start, isBytes: isBytes, into: &out, literal: literal)
        default:
            // Python keeps unknown escapes (and \u, \U in bytes literals) as a backslash plus the letter.
            out.append(0x5C)
            return start
        }
        let end = start + 1 + digitCount
        guard end <= body.endIndex, let value = UInt32(String(decoding: body[(start + 1)..<end], as: UTF8.self), radix: 16),
              body[(start + 1)..<end].allSatisfy({ isHexDigit($0) })
        else {
            throw LineProblem(message: "escape \\\(Character(Unicode.Scalar(letter))) needs \(digitCount) hex digits in \(quoted(literal))")
        }
        try appendCodePoint(value, isBytes: isBytes, into: &out, literal: literal)
        return end
    }

    /// `\ooo`: one to three octal digits.
    private static func octalEscape(
        _ body: ArraySlice<UInt8>, at start: Int, isBytes: Bool, into out: inout [UInt8], literal: ArraySlice<UInt8>
    ) throws(LineProblem) -> Int {
        var value: UInt32 = 0
        var i = start
        while i < body.endIndex, i < start + 3, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(body[i]) {
            value = value * 8 + UInt32(body[i] - UInt8(ascii: "0"))
            i += 1
        }
        try appendCodePoint(value, isBytes: isBytes, into: &out, literal: literal)
        return i
    }

    /// In a bytes literal, `value` is one byte; in a str literal, a code point to UTF-8 encode.
    private static func appendCodePoint(_ value: UInt32, isBytes: Bool, into out: inout [UInt8], literal: ArraySlice<UInt8>) throws(LineProblem) {
        if isBytes {
            guard value <= 0xFF else { throw LineProblem(message: "byte escape above 0xff in \(quoted(literal))") }
            out.append(UInt8(value))
        } else {
            guard let scalar = Unicode.Scalar(value) else {
                throw LineProblem(message: "escape U+\(String(value, radix: 16)) is not a Unicode scalar (surrogate or too large) in \(quoted(literal))")
            }
            out.append(contentsOf: Array(String(scalar).utf8))
        }
    }

    /// The byte of a one-letter escape such as `\n`, or nil.
    private static func simpleEscape(_ letter: UInt8) -> UInt8? {
        switch letter {
        case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): return letter
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "a"): return 0x07
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "v"): return 0x0B
        default: return nil
        }
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (0x30...0x39).contains(c) || (0x41...0x46).contains(c) || (0x61...0x66).contains(c)
    }

    /// Up to 60 bytes of `text`, for error messages.
    static func quoted(_ text: ArraySlice<UInt8>) -> String {
        let shown = String(decoding: text.prefix(60), as: UTF8.self)
        return "`" + shown + (text.count > 60 ? "…" : "") + "`"
    }
}
