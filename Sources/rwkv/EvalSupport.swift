// Shared pieces of the `rwkv eval` subcommands: a progress bar on stderr, output files, option checks.

import ArgumentParser
import Foundation
import RWKV

/// "[#####-----]  45 %  1.2M/2.7M bytes  3.1k/s  ETA 12s" on stderr, redrawn at most 5 times a second.
final class ProgressBar {
    private let label: String, unit: String
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let enabled: Bool

    init(_ label: String, unit: String, quiet: Bool = false) {
        self.label = label; self.unit = unit; enabled = !quiet
    }

    func update(_ done: Int, _ total: Int) {
        guard enabled else { return }
        let now = Date()
        guard done >= total || now.timeIntervalSince(lastDraw) >= 0.2 else { return }
        lastDraw = now
        let f = total > 0 ? min(Double(done) / Double(total), 1) : 0
        let bar = String(repeating: "#", count: Int(f * 24)) + String(repeating: "-", count: 24 - Int(f * 24))
        let elapsed = now.timeIntervalSince(start), rate = Double(done) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        FileHandle.standardError.write(Data(("\r\(label) [\(bar)] \(String(format: "%3.0f", 100 * f)) %  \(compact(done))/\(compact(total)) \(unit)"
            + "  \(compact(Int(rate)))/s  ETA \(formatDuration(eta))\u{1B}[K").utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data(String(format: "\r%@ done in %@\u{1B}[K\n", label, formatDuration(Date().timeIntervalSince(start))).utf8))
    }
}

/// 950, 12.3k, 4.1M.
func compact(_ n: Int) -> String {
    if n >= 1_000_000 { return String(format: "%.1fM", Double(n) / 1e6) }
    if n >= 10_000 { return String(format: "%.0fk", Double(n) / 1e3) }
    if n >= 1000 { return String(format: "%.1fk", Double(n) / 1e3) }
    return "\(n)"
}

/// Writes text to `path`, creating its directory.
func writeText(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url, options: .atomic)
}

/// Throws a usage error unless every named value is positive.
func requirePositive(_ values: [(String, Int?)]) throws {
    for (name, value) in values { if let value, value <= 0 { throw ValidationError("\(name) must be positive, found \(value)") } }
}

/// The tokenizer for a model, and the BOS convention: `--bos` if given, else 0 (end of text) for World
/// models and none for byte models (byte 0 is an ordinary byte).
func tokenizerAndBOS(for model: RWKVModel, bos: Int?) throws -> (any Tokenizer, Int?) {
    let tokenizer = try defaultTokenizer(vocabularySize: model.config.vocabularySize)
    if let bos {
        guard bos >= 0 && bos < model.config.vocabularySize else { throw ValidationError("--bos \(bos) is not a token id of this model") }
        return (tokenizer, bos)
    }
    return (tokenizer, tokenizer.endOfTextToken)
}
