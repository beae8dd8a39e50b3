import Foundation
import Testing
@testable import RWKV

@Suite struct StateInspectionTests {
    @Test func statisticsOfAHandMadeState() {
        let layers = [
            LayerState(attentionShift: [], wkv: [3, -4, 0, 0, 1, 1, 1, -1], ffnShift: []),
            LayerState(attentionShift: [], wkv: [Float](repeating: 0, count: 8), ffnShift: []),
        ]
        let s = stateStatistics(layers: layers, headCount: 2, tokens: 5)
        #expect(s.tokens == 5)
        #expect(s.heads[0][0] == HeadStateStatistics(rms: 2.5, maxAbs: 4))   // sqrt((9+16)/4)
        #expect(s.heads[0][1] == HeadStateStatistics(rms: 1, maxAbs: 1))
        #expect(abs(s.layerRMS(0) - (7.25 / 2).squareRoot()) < 1e-12 && s.layerMaxAbs(0) == 4)
        #expect(s.layerRMS(1) == 0)
    }

    @Test func checkpointsAreGeometricAndEndAtTheText() {
        #expect(geometricCheckpoints(upTo: 10, perOctave: 1) == [1, 2, 4, 8, 10])
        #expect(geometricCheckpoints(upTo: 8, perOctave: 2) == [1, 2, 3, 4, 6, 8])
        #expect(geometricCheckpoints(upTo: 1) == [1])
    }

    @Test func traceEndsAtTheStateOfTheWholeText() throws {
        let model = ScoringTests.demo
        let tokens = Array("Now is the winter of our discontent".utf8).map(Int.init)
        let trace = try traceState(model: model, tokens: tokens, checkpoints: geometricCheckpoints(upTo: tokens.count), chunk: 16)
        var state = model.makeState()
        _ = try model.prefill(tokens, state: &state)
        #expect(trace.last?.tokens == tokens.count)
        let direct = stateStatistics(state, headCount: model.config.headCount)
        for l in 0..<model.config.layerCount { #expect(abs(trace.last!.layerRMS(l) - direct.layerRMS(l)) < 1e-5 * max(direct.layerRMS(l), 1)) }
        #expect(trace.first!.layerRMS(0) > 0)

        // The state file round trip used by `rwkv inspect-state`.
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("s.state").path
        try state.save(to: path, config: model.config)
        let (read, config) = try readStateFile(path: path)
        #expect(read == state && config.headCount == model.config.headCount && config.signature == model.config.signature)
    }

    @Test func plotsAreWellFormedSVG() {
        var plot = SVGLinePlot(title: "a < b", xLabel: "x", yLabel: "y", logX: true)
        plot.series = [.init(name: "s", points: [(1, 2), (10, 3), (100, 2.5)]), .init(name: "t", points: [(0, 1), (5, 1)])]
        let svg = plot.svg
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n") && svg.contains("a &lt; b"))
        #expect(svg.components(separatedBy: "<path").count == 3)   // x = 0 is dropped on a log axis
        let heat = SVGHeatMap(title: "h", rowLabel: "layer", columnLabel: "head", values: [[1, 10], [100, 0]]).svg
        #expect(heat.components(separatedBy: "<title>").count == 5)
    }
}
