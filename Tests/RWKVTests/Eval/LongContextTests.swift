import Foundation
import Testing
@testable import RWKV

@Suite struct LongContextTests {
    @Test func bucketBoundariesDouble() {
        let b = PositionBuckets()
        for (p, i) in [(0, 0), (127, 0), (128, 1), (255, 1), (256, 2), (511, 2), (512, 3), (1023, 3), (1024, 4), (100_000, 10)] {
            #expect(b.index(of: p) == i, "position \(p)")
        }
        #expect(b.range(0) == 0..<128 && b.range(1) == 128..<256 && b.range(3) == 512..<1024)
        for p in [0, 1, 127, 128, 129, 4095, 4096, 70_000] { #expect(b.range(b.index(of: p)).contains(p)) }
        #expect(PositionBuckets(first: 4).index(of: 7) == 1 && PositionBuckets(first: 4).index(of: 8) == 2)
    }

    @Test func accumulatorMeansAndLastUpperBound() {
        var acc = BucketAccumulator(buckets: PositionBuckets(first: 2))
        for (p, loss) in [(1, 1.0), (0, 3.0), (2, 2.0), (3, 4.0), (4, 10.0)] { acc.add(position: p, loss: loss) }
        let rows = acc.rows(lastPosition: 4)
        #expect(rows.map(\.lower) == [0, 2, 4] && rows.map(\.upper) == [2, 4, 5])
        #expect(rows.map(\.count) == [2, 2, 1] && rows.map(\.meanLoss) == [2, 3, 10])
    }

    @Test func documentsAreSplitAtTitlePages() {
        let text = "EMMA\n\nby Jane Austen\n\nCHAPTER I\n\nEmma Woodhouse...\n\n\nPersuasion\n\n(1818)\nBy\nJane Austen\n\nCHAPTER 1\nby Sir Walter"
        let docs = splitTitledDocuments(text)
        #expect(docs.map(\.name) == ["EMMA", "Persuasion"])
        #expect(docs[1].text.hasPrefix("Persuasion") && docs[1].text.hasSuffix("by Sir Walter"))
        #expect(splitTitledDocuments("no titles here").map(\.name) == ["text"])
    }

    @Test(.enabled(if: TestPaths.sharedDataAvailable, "needs ../shared/data beside the checkout"))
    func austenFileHoldsSixNovels() throws {
        let text = try String(contentsOfFile: TestPaths.shared("austen-6-novels.txt"), encoding: .utf8)
        let docs = splitTitledDocuments(text)
        #expect(docs.map(\.name) == ["SENSE AND SENSIBILITY", "PRIDE AND PREJUDICE", "MANSFIELD PARK", "EMMA", "NORTHANGER ABBEY", "Persuasion"])
        #expect(docs.allSatisfy { $0.text.utf8.count > 400_000 })
    }

    @Test func longContextReportCountsEveryPredictedToken() throws {
        let model = ScoringTests.demo
        let a = Array(String(repeating: "To be, or not to be.\n", count: 8).utf8).map(Int.init)
        let report = try evaluateLongContext(model: model, documents: [("a", a), ("b", Array(a.prefix(100)))], chunk: 32,
                                             buckets: PositionBuckets(first: 64))
        #expect(report.documentTokens == [a.count - 1, 99])
        #expect(report.buckets.reduce(0) { $0 + $1.count } == a.count - 1 + 99)
        #expect(report.buckets.map(\.lower) == [0, 64, 128] && report.buckets.last!.upper == a.count)
        #expect(report.buckets[0].count == 63 * 2 && report.buckets[1].count == 64 + 36)
    }
}
