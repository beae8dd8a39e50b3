import Foundation
import Testing
@testable import RWKV

@Suite struct LambadaTests {
    @Test func targetIsSpacePlusLastWord() throws {
        let item = try #require(LambadaItem(text: "he looked at the clock"))
        #expect(item.context == "he looked at the" && item.target == " clock")
        #expect(LambadaItem(text: "single") == nil)
        // A double space: lm-eval keeps the empty word in the context, then moves its space to the target.
        let odd = try #require(LambadaItem(text: "a  b"))
        #expect(odd.context == "a " && odd.target == " b")
        let (ctx, tgt) = odd.encode(with: ByteTokenizer())
        #expect(ctx == [97] && tgt == [32, 32, 98])
    }

    @Test func aggregateFollowsLmEval() {
        let scores = [LambadaScore(logLikelihood: -1, greedyTokens: 1, targetTokens: 1),
                      LambadaScore(logLikelihood: -2, greedyTokens: 1, targetTokens: 2),
                      LambadaScore(logLikelihood: -3, greedyTokens: 3, targetTokens: 3)]
        let r = LambadaReport(scores: scores)
        #expect(r.documents == 3 && abs(r.accuracy - 2.0 / 3) < 1e-12)
        // Perplexity per document (not per token): exp(−mean of the summed log-likelihoods).
        #expect(abs(r.perplexity - exp(2.0)) < 1e-12)
    }

    @Test func readsJSONLinesAndReportsBadOnes() throws {
        let dir = try TestPaths.temporaryDirectory()
        let good = dir.appendingPathComponent("a.jsonl").path
        try Data("{\"text\": \"one two\"}\n\n{\"text\": \"nospace\"}\n{\"text\": \"three \\\"four\\\"\"}\n".utf8).write(to: URL(fileURLWithPath: good))
        let items = try readLambada(path: good)
        #expect(items.map(\.target) == [" two", " \"four\""])
        #expect(try readLambada(path: good, limit: 1).count == 1)
        let bad = dir.appendingPathComponent("b.jsonl").path
        try Data("{\"text\": \"ok fine\"}\nnot json\n".utf8).write(to: URL(fileURLWithPath: bad))
        #expect(throws: (any Error).self) { try readLambada(path: bad) }
    }

    @Test func greedyFlagAndLikelihoodMatchDirectScoring() throws {
        let model = ScoringTests.demo
        let item = LambadaItem(context: "KING HENRY:\nOnce more unto the breach, dear friends, once", target: " more")
        let score = try scoreLambada(item, model: model, tokenizer: ByteTokenizer())
        let tokens = Array((item.context + item.target).utf8).map(Int.init)
        var state = model.makeState()
        let logits = try model.forward(tokens, state: &state, allLogits: true)
        var ll = 0.0, greedy = 0
        for t in item.context.utf8.count..<tokens.count {
            let p = TokenPrediction(logits: logits.data[((t - 1) * logits.cols)..<(t * logits.cols)], target: tokens[t])
            ll += p.logProbability; greedy += p.isGreedy ? 1 : 0
        }
        #expect(score.targetTokens == 5 && abs(score.logLikelihood - ll) < 1e-3 && score.greedyTokens == greedy)
        #expect(score.isGreedy == (greedy == 5))
    }

    /// Reference: pip `rwkv` 0.8.32 (cpu fp32) on the same documents and the trained tiny RWKV-7
    /// (scripts/make_lambada_fixture.py); the fixture holds line numbers, not the texts.
    @Test(.enabled(if: TestPaths.sharedDataAvailable, "needs ../shared/data beside the checkout"))
    func matchesPipRWKVOnLambadaItems() throws {
        struct Fixture: Decodable {
            struct Item: Decodable { var line: Int; var logprob: Double; var correct: Bool; var greedy_tokens: Int; var target_tokens: Int }
            var model: String; var accuracy: Double; var perplexity: Double; var items: [Item]
        }
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("eval/lambada-tiny-rwkv-7v0.json"))))
        let model = try RWKVModel.load(path: TestPaths.shared(String(fixture.model.dropFirst("../shared/data/".count))))
        let lines = try String(contentsOfFile: TestPaths.shared("lambada_test.jsonl"), encoding: .utf8).split(separator: "\n")
        struct Line: Decodable { var text: String }
        var scores: [LambadaScore] = []
        for ref in fixture.items {
            let text = try JSONDecoder().decode(Line.self, from: Data(lines[ref.line].utf8)).text
            let score = try scoreLambada(try #require(LambadaItem(text: text)), model: model, tokenizer: ByteTokenizer())
            #expect(score.targetTokens == ref.target_tokens)
            #expect(score.isGreedy == ref.correct && score.greedyTokens == ref.greedy_tokens, "line \(ref.line)")
            #expect(abs(score.logLikelihood - ref.logprob) <= 1e-4 * abs(ref.logprob) + 1e-5, "line \(ref.line)")
            scores.append(score)
        }
        let report = LambadaReport(scores: scores)
        #expect(report.accuracy == fixture.accuracy)
        #expect(abs(report.perplexity - fixture.perplexity) <= 1e-4 * fixture.perplexity)
    }
}
