// `rwkv tokenize`: encode text to token ids, decode ids to text, or measure encoding speed.
//
// A thin wrapper over the library's Tokenizer layer, for checking what a prompt becomes and for
// comparing against other implementations. It loads no model.

import ArgumentParser
import Foundation
import RWKV

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode text to token ids, or decode token ids to text.",
        discussion: """
            Examples:
              rwkv tokenize "Hello world"              prints 33155,40213
              rwkv tokenize --json --file prompt.txt   prints {"count":n,"ids":[...]}
              rwkv tokenize --decode 33155,40213,261   prints the text as is (no newline added)
              rwkv tokenize --bench --file book.txt    measures encoding throughput
            """)

    enum Vocabulary: String, ExpressibleByArgument, CaseIterable {
        case world, byte
    }

    @Argument(help: "Text to encode.")
    var text: String?

    @Option(help: ArgumentHelp("Encode the bytes of this file instead of TEXT.", valueName: "path"))
    var file: String?

    @Option(help: ArgumentHelp("Comma-separated token ids to decode.", valueName: "ids"))
    var decode: String?

    @Option(help: "Vocabulary: world (RWKV World, 65536-row models) or byte (256-row models).")
    var vocab: Vocabulary = .world

    @Flag(help: "Print JSON instead of plain text.")
    var json = false

    @Flag(help: "Encode the input repeatedly for about a second and print the throughput.")
    var bench = false

    func validate() throws {
        let inputs = [text != nil, file != nil, decode != nil].filter { $0 }.count
        guard inputs == 1 else { throw ValidationError("give exactly one of TEXT, --file <path> or --decode <ids>") }
        if bench && decode != nil { throw ValidationError("--bench measures encoding; it cannot be combined with --decode") }
        if let decode { _ = try Self.parseIDs(decode) }
    }

    func run() throws {
        let loadStart = ContinuousClock.now
        let tokenizer: any Tokenizer = vocab == .world ? try WorldTokenizer.bundled() : ByteTokenizer()
        let loadTime = ContinuousClock.now - loadStart
        if let decode {
            let decoded = try tokenizer.decode(try Self.parseIDs(decode))
            if json { try printJSON(DecodeOutput(text: decoded)) } else { print(decoded, terminator: "") }
            return
        }
        let bytes = try inputBytes()
        if bench {
            let result = Self.benchmark(tokenizer, bytes, loadTime: loadTime)
            if json { try printJSON(result) } else { print(result.summary) }
            return
        }
        let ids = tokenizer.encode(bytes: bytes)
        if json {
            try printJSON(EncodeOutput(ids: ids, count: ids.count))
        } else {
            print(ids.map(String.init).joined(separator: ","))
        }
    }

    private func inputBytes() throws -> [UInt8] {
        guard let file else { return Array((text ?? "").utf8) }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw ValidationError("cannot read \(file): \(error.localizedDescription)")
        }
    }

    static func parseIDs(_ list: String) throws -> [Int] {
        try list.split(separator: ",").map { part in
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let id = Int(trimmed) else { throw ValidationError("`\(trimmed)` in --decode is not a token id; expected e.g. 33155,40213") }
            return id
        }
    }

    struct EncodeOutput: Codable {
        var ids: [Int]
        var count: Int
    }

    struct DecodeOutput: Codable {
        var text: String
    }

    struct BenchmarkOutput: Codable {
        var bytes: Int
        var tokens: Int
        var iterations: Int
        var seconds: Double
        var megabytesPerSecond: Double
        var vocabularyLoadSeconds: Double

        var summary: String {
            let rate = String(format: "%.1f", megabytesPerSecond)
            let load = String(format: "%.1f", vocabularyLoadSeconds * 1000)
            return "\(bytes) bytes -> \(tokens) tokens; \(iterations) runs in \(String(format: "%.3f", seconds)) s: "
                + "\(rate) MB/s (1 MB = 10^6 bytes, one thread); vocabulary loaded in \(load) ms"
        }
    }

    /// Encodes until at least a second has passed (and at least three times).
    static func benchmark(_ tokenizer: any Tokenizer, _ bytes: [UInt8], loadTime: Duration) -> BenchmarkOutput {
        let clock = ContinuousClock()
        var iterations = 0
        var tokens = 0
        let start = clock.now
        while iterations < 3 || clock.now - start < .seconds(1) {
            tokens = tokenizer.encode(bytes: bytes).count
            iterations += 1
        }
        let seconds = (clock.now - start).seconds
        return BenchmarkOutput(
            bytes: bytes.count, tokens: tokens, iterations: iterations, seconds: seconds,
            megabytesPerSecond: Double(bytes.count * iterations) / seconds / 1e6, vocabularyLoadSeconds: loadTime.seconds)
    }

    private func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
