import Foundation
import Testing
@testable import RWKV

@Suite struct ScoringTests {
    /// The bundled random byte-level demo model (L2 D128): small enough for debug-build tests.
    static let demo = try! RWKVModel.load(path: TestPaths.repo.appendingPathComponent("models/rwkv7-demo-random.pth").path)

    @Test func predictionOfHandMadeLogits() {
        // softmax of ln(1, 2, 3, 4) is (0.1, 0.2, 0.3, 0.4).
        let logits: [Float] = [1, 2, 3, 4].map { Float(log(Double($0))) }
        let best = TokenPrediction(logits: logits[...], target: 3)
        #expect(abs(best.logProbability - log(0.4)) < 1e-6 && best.isGreedy)
        let worst = TokenPrediction(logits: logits[...], target: 0)
        #expect(abs(worst.logProbability - log(0.1)) < 1e-6 && !worst.isGreedy)
        // A tie goes to the lowest id, as torch.argmax does.
        #expect(TokenPrediction(logits: [0, 5, 5][...], target: 1).isGreedy)
        #expect(!TokenPrediction(logits: [0, 5, 5][...], target: 2).isGreedy)
    }

    @Test func perplexityArithmetic() {
        var r = PerplexityReport()
        r.add(TokenPrediction(logProbability: log(0.5), isGreedy: true), bytes: 1)
        r.add(TokenPrediction(logProbability: log(0.25), isGreedy: false), bytes: 3)
        // NLL = ln 2 + ln 4 = 3 ln 2 nats = 3 bits over 2 tokens and 4 bytes.
        #expect(abs(r.bitsPerToken - 1.5) < 1e-12)
        #expect(abs(r.bitsPerByte - 0.75) < 1e-12)
        #expect(abs(r.perplexity - pow(2, 1.5)) < 1e-12)
        let decoded = try? JSONDecoder().decode(PerplexityReport.self, from: JSONEncoder().encode(r))
        #expect(decoded == r)
    }

    @Test func chunkedScoringEqualsOneForwardPass() throws {
        let model = Self.demo
        let tokens = Array("ROMEO:\nBut soft, what light?".utf8).map(Int.init)
        var whole = model.makeState()
        let logits = try model.forward(tokens, state: &whole, allLogits: true)
        var expected: [Double] = []
        for t in 1..<tokens.count {
            expected.append(TokenPrediction(logits: logits.data[((t - 1) * logits.cols)..<(t * logits.cols)], target: tokens[t]).logProbability)
        }
        for chunk in [1, 5, 64] {
            var scorer = try SequenceScorer(model: model)
            var got: [Int: Double] = [:]
            // Split the stream itself too: the scorer carries the last logits between calls.
            try scorer.feed(Array(tokens[..<9]), chunk: chunk) { got[$0] = $1.logProbability }
            try scorer.feed(Array(tokens[9...]), chunk: chunk) { got[$0 + 9] = $1.logProbability }
            #expect(got.count == tokens.count - 1 && got[0] == nil)
            for t in 1..<tokens.count { #expect(abs(got[t]! - expected[t - 1]) < 2e-4, "chunk \(chunk) position \(t)") }
        }
        #expect(try SequenceScorer(model: model, bos: 10).hasPrediction)
    }

    @Test func textBlocksEndAfterNewlinesAndRespectTheCap() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("t.txt").path
        let text = (0..<200).map { "line \($0) " + String(repeating: "x", count: $0 % 17) }.joined(separator: "\n")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let blocks = Array(try TextBlocks(path: path, blockSize: 100))
        #expect(blocks.count > 5)
        #expect(blocks.flatMap { $0 } == Array(text.utf8))
        for b in blocks.dropLast() { #expect(b.last == UInt8(ascii: "\n")) }
        #expect(Array(try TextBlocks(path: path, maxBytes: 250, blockSize: 100)).flatMap { $0 } == Array(text.utf8.prefix(250)))
    }

    @Test func perplexityOfAFileMatchesTheScorer() throws {
        let model = Self.demo
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("t.txt").path
        let text = "First Citizen:\nBefore we proceed,\n\nAll:\nSpeak.\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let report = try evaluatePerplexity(model: model, tokenizer: ByteTokenizer(), path: path, chunk: 7)
        var scorer = try SequenceScorer(model: model)
        var nll = 0.0
        try scorer.feed(Array(text.utf8).map(Int.init)) { nll -= $1.logProbability }
        #expect(report.tokens == text.utf8.count - 1 && report.bytes == report.tokens)
        #expect(abs(report.negativeLogLikelihood - nll) < 1e-3)
        #expect(abs(report.bitsPerByte - report.negativeLogLikelihood / (Double(report.bytes) * M_LN2)) < 1e-12 && report.bitsPerByte > 0)
    }
}
