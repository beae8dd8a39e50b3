// `rwkv eval state` and `rwkv inspect-state`: how large the WKV state grows (RWKV-7 appendix J).

import ArgumentParser
import Foundation
import RWKV

struct EvalState: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Per-layer, per-head RMS and max |x| of the WKV state along a text (log-spaced positions); SVG lines and heat map.")

    @OptionGroup var model: ModelOptions
    @Option(help: "Text file.") var file: String
    @Option(help: "Use at most this many tokens.") var maxTokens = 65536
    @Option(help: "Measurements per doubling of the position.") var perOctave = 2
    @Option(help: "Tokens per forward call.") var chunk = 256
    @Option(help: "Write the per-layer RMS-vs-position plot here.") var svg: String?
    @Option(help: "Write the final per-head RMS heat map (layers × heads) here.") var heatmap: String?
    @Option(help: "Save the final state to this file (for `rwkv inspect-state`).") var saveState: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws { try requirePositive([("--max-tokens", maxTokens), ("--per-octave", perOctave), ("--chunk", chunk)]) }

    func run() throws {
        let m = try model.load()
        let tokenizer = try defaultTokenizer(vocabularySize: m.config.vocabularySize)
        let ids = Array(tokenizer.encode(try String(contentsOfFile: file, encoding: .utf8)).prefix(maxTokens))
        guard !ids.isEmpty else { throw ValidationError("\(file) has no tokens") }
        let bar = ProgressBar("state", unit: "tokens")
        let trace = try traceState(model: m, tokens: ids, checkpoints: geometricCheckpoints(upTo: ids.count, perOctave: perOctave),
                                   chunk: chunk, progress: bar.update)
        bar.finish()
        let name = ((try? model.resolvedPath()) ?? "model").split(separator: "/").last.map(String.init) ?? "model"
        if let svg {
            var plot = SVGLinePlot(title: "WKV state RMS per layer, \(name) (\(m.config.version))", xLabel: "tokens read (log)",
                                   yLabel: "RMS of state (log)", logX: true, logY: true)
            plot.markers = false
            plot.series = (0..<m.config.layerCount).map { l in .init(name: "layer \(l)", points: trace.map { (Double($0.tokens), $0.layerRMS(l)) }) }
            try writeText(plot.svg, to: svg)
        }
        if let heatmap, let last = trace.last {
            try writeText(SVGHeatMap(title: "WKV state RMS per head after \(last.tokens) tokens, \(name)", rowLabel: "layer",
                                     columnLabel: "head", values: last.heads.map { $0.map(\.rms) }).svg, to: heatmap)
        }
        if let saveState {
            var state = m.makeState()
            _ = try m.prefill(ids, state: &state, chunkSize: chunk)
            try state.save(to: saveState, config: m.config)
        }
        if json {
            struct Output: Encodable { var version: String; var snapshots: [StateSnapshot] }
            try printJSON(Output(version: m.config.version.rawValue, snapshots: trace))
            return
        }
        printLayerTable(trace, layers: m.config.layerCount)
    }
}

/// Layer rows × a few positions: RMS (max |x|).
func printLayerTable(_ trace: [StateSnapshot], layers: Int) {
    let shown = trace.count <= 6 ? trace : stride(from: 0, to: trace.count, by: max(1, trace.count / 5)).map { trace[$0] } + [trace[trace.count - 1]]
    var seen = Set<Int>()
    let cols = shown.filter { seen.insert($0.tokens).inserted }
    print("layer " + cols.map { String(repeating: " ", count: max(0, 20 - "t=\($0.tokens)".count)) + "t=\($0.tokens)" }.joined())
    for l in 0..<layers {
        print(String(format: "%5d ", l) + cols.map { String(format: "%9.3g (%8.3g)", $0.layerRMS(l), $0.layerMaxAbs(l)) }.joined())
    }
    print("values: RMS over the layer's heads (max |x| in the layer)")
}

struct InspectState: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect-state", abstract: "Per-layer, per-head RMS and max |x| of the WKV state in a state file.")

    @Argument(help: "State file (RWKVSTAT, as written by `rwkv eval state --save-state` or `rwkv generate --save-state`).") var path: String
    @Option(help: "Write a per-head RMS heat map (layers × heads) here.") var heatmap: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let (state, config) = try readStateFile(path: path)
        let stats = stateStatistics(state, headCount: config.headCount)
        if let heatmap {
            try writeText(SVGHeatMap(title: "WKV state RMS per head, \((path as NSString).lastPathComponent)", rowLabel: "layer",
                                     columnLabel: "head", values: stats.heads.map { $0.map(\.rms) }).svg, to: heatmap)
        }
        if json {
            struct Output: Encodable { var signature: String; var heads: [[HeadStateStatistics]] }
            try printJSON(Output(signature: state.signature, heads: stats.heads))
            return
        }
        print("\(state.signature)")
        for (l, heads) in stats.heads.enumerated() {
            print(String(format: "layer %2d  RMS %9.4g  max|x| %9.4g   per head RMS: ", l, stats.layerRMS(l), stats.layerMaxAbs(l))
                  + heads.map { String(format: "%.3g", $0.rms) }.joined(separator: " "))
        }
    }
}
