// Size of the recurrent WKV state along a text (RWKV-7 paper, appendix J): per layer and per head, the
// RMS and max |x| of the state matrix after every checkpoint position. Works for v5.2, v6 and v7.

import Foundation

/// RMS and largest magnitude of one head's N×N state.
public struct HeadStateStatistics: Sendable, Codable, Equatable {
    public var rms: Double
    public var maxAbs: Double
}

/// Per-layer, per-head statistics of a state after `tokens` tokens.
public struct StateSnapshot: Sendable, Codable, Equatable {
    public var tokens: Int
    /// [layer][head]
    public var heads: [[HeadStateStatistics]]

    /// RMS over all heads of a layer.
    public func layerRMS(_ l: Int) -> Double {
        let h = heads[l]
        return (h.reduce(0) { $0 + $1.rms * $1.rms } / Double(max(h.count, 1))).squareRoot()
    }

    public func layerMaxAbs(_ l: Int) -> Double { heads[l].map(\.maxAbs).max() ?? 0 }
}

/// Statistics of each head of each layer of `state`; `headCount` heads split every layer's WKV array.
public func stateStatistics(_ state: ModelState, headCount: Int, tokens: Int = 0) -> StateSnapshot {
    stateStatistics(layers: state.layers, headCount: headCount, tokens: tokens)
}

/// The same from layer arrays (e.g. a state file read without its model).
public func stateStatistics(layers: [LayerState], headCount: Int, tokens: Int = 0) -> StateSnapshot {
    let heads = layers.map { layer -> [HeadStateStatistics] in
        let size = layer.wkv.count / max(headCount, 1)
        return (0..<headCount).map { h in
            var sq = 0.0, m = 0.0
            for x in layer.wkv[(h * size)..<((h + 1) * size)] { let d = Double(x); sq += d * d; m = max(m, abs(d)) }
            return HeadStateStatistics(rms: (sq / Double(max(size, 1))).squareRoot(), maxAbs: m)
        }
    }
    return StateSnapshot(tokens: tokens, heads: heads)
}

/// Positions where `traceState` measures: 1, 2, 4, … (ratio 2^(1/2), rounded, deduplicated) and `count`.
public func geometricCheckpoints(upTo count: Int, perOctave: Int = 2) -> [Int] {
    guard count > 0 else { return [] }
    var out: [Int] = [], k = 0.0
    while true {
        let p = Int(pow(2, k / Double(max(perOctave, 1))).rounded())
        if p >= count { break }
        if out.last != p { out.append(p) }
        k += 1
    }
    return out + [count]
}

/// Runs `tokens` from a fresh state and records the state's statistics at each of `checkpoints`.
public func traceState(model: RWKVModel, tokens: [Int], checkpoints: [Int], chunk: Int = 256,
                       progress: (Int, Int) -> Void = { _, _ in }) throws -> [StateSnapshot] {
    var state = model.makeState()
    var done = 0, out: [StateSnapshot] = []
    for stop in checkpoints where stop > done && stop <= tokens.count {
        _ = try model.prefill(Array(tokens[done..<stop]), state: &state, chunkSize: chunk)
        done = stop
        out.append(stateStatistics(state, headCount: model.config.headCount, tokens: done))
        progress(done, tokens.count)
    }
    return out
}

/// Reads a state file (`RWKVSTAT`) without its model: the header names the shapes. Returns the state
/// and the model config the header describes (vocabulary and FFN sizes unknown, 0).
public func readStateFile(path: String) throws -> (state: ModelState, config: ModelConfig) {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let bytes = [UInt8](data.prefix(16))
    guard bytes.count == 16, Array(bytes[0..<8]) == ModelState.fileMagic else { throw StateFileError.notAStateFile(path: path) }
    let length = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
    guard length <= data.count - 16 else { throw StateFileError.truncated(path: path, expected: 16 + length, found: data.count) }
    let header: StateFileHeader
    do { header = try JSONDecoder().decode(StateFileHeader.self, from: data.subdata(in: 16..<(16 + length))) } catch {
        throw StateFileError.badHeader("\(error)")
    }
    guard let version = ModelVersion(rawValue: header.version) else { throw StateFileError.badHeader("unknown version \(header.version)") }
    let config = ModelConfig(version: version, layerCount: header.layers, embeddingSize: header.embedding,
                             headCount: header.heads, headSize: header.head_size, vocabularySize: 0, ffnSize: 0)
    return (try ModelState.decode(data, path: path, config: config), config)
}
