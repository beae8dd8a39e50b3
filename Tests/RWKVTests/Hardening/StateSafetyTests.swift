// The state API cannot be made unsafe (issue 13 item 2): wrong-sized or non-finite states built in
// Swift, decoded from JSON or loaded from a file are errors, never out-of-bounds kernel accesses.

import Foundation
import Testing
@testable import RWKV

@Suite("State safety")
struct StateSafetyTests {
    let config = ModelConfig(version: .v7, layerCount: 2, embeddingSize: 16, headCount: 2, headSize: 8, vocabularySize: 32, ffnSize: 64)

    func layer(shift: Int = 16, wkv: Int = 128, value: Float = 0.5) -> LayerState {
        LayerState(attentionShift: [Float](repeating: value, count: shift), wkv: [Float](repeating: value, count: wkv),
                   ffnShift: [Float](repeating: value, count: shift))
    }

    func invalidStateField(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        do {
            try body()
            Issue.record("expected ModelError.invalidState", sourceLocation: sourceLocation)
        } catch let ModelError.invalidState(field, _) {
            return field
        } catch {
            Issue.record("expected ModelError.invalidState, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    @Test("Arrays of the wrong length or count are refused at construction")
    func wrongSizesInSwift() throws {
        #expect(try ModelState(config: config, layers: [layer(), layer()]).layers.count == 2)
        #expect(invalidStateField { _ = try ModelState(config: config, layers: [layer(), layer(wkv: 1)]) } == "layer 1 wkv")
        #expect(invalidStateField { _ = try ModelState(config: config, layers: [layer(shift: 15), layer()]) } == "layer 0 attentionShift")
        #expect(invalidStateField { _ = try ModelState(config: config, layers: [layer()]) } == "layers")
        #expect(invalidStateField { _ = try ModelState(config: config, layers: [layer(), layer(wkv: 129)]) } == "layer 1 wkv")
    }

    @Test("NaN and infinity are refused", arguments: [Float.nan, .infinity, -.infinity])
    func nonFinite(value: Float) throws {
        #expect(invalidStateField { _ = try ModelState(config: config, layers: [layer(), layer(value: value)]) }?.hasPrefix("layer 1 attentionShift") == true)
    }

    @Test("A config that cannot describe a state is refused, not allocated")
    func absurdConfig() throws {
        var huge = config
        huge.layerCount = 1 << 62
        #expect(throws: ModelError.self) { _ = try ModelState(config: huge) }
        huge = config
        huge.headSize = 0
        #expect(throws: ModelError.self) { _ = try ModelState(config: huge) }
    }

    @Test("JSON with arrays that do not fit the signature is refused")
    func wrongSizesInJSON() throws {
        let good = try JSONEncoder().encode(try ModelState(config: config))
        #expect(try JSONDecoder().decode(ModelState.self, from: good) == ModelState(config: config))
        var object = try #require(try JSONSerialization.jsonObject(with: good) as? [String: Any])
        var layers = try #require(object["layers"] as? [[String: Any]])
        layers[1]["wkv"] = [0.0, 1.0]
        object["layers"] = layers
        let short = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(ModelState.self, from: short) }
        // A signature that claims a shape the arrays do not have, or no shape at all.
        for signature in ["v7 L2 C16 H4 N4", "v7 L2 C16 H2 N8 extra", "hello", "v7 L-2 C16 H2 N8", "v7 L2 C0 H0 N8"] {
            var forged = try #require(try JSONSerialization.jsonObject(with: good) as? [String: Any])
            forged["signature"] = signature
            #expect(throws: DecodingError.self, "\(signature)") {
                _ = try JSONDecoder().decode(ModelState.self, from: try JSONSerialization.data(withJSONObject: forged))
            }
        }
    }

    @Test("The model refuses a state of another shape before any kernel runs")
    func modelChecksShape() throws {
        let model = try RWKVModel(checkpoint: try HostileInput.tinyV7())
        let other = ModelConfig(version: .v7, layerCount: 2, embeddingSize: 16, headCount: 4, headSize: 4, vocabularySize: 32, ffnSize: 64)
        var wrong = try ModelState(config: other)
        #expect(throws: ModelError.self) { _ = try model.step(0, state: &wrong) }
        var batch = [model.makeState(), wrong]
        #expect(throws: ModelError.self) { _ = try model.step(batch: [0, 1], states: &batch) }
        var moved = ModelState.placeholder
        #expect(throws: ModelError.self) { _ = try model.step(0, state: &moved) }
    }

    @Test("A state file holding NaN is refused even with a valid checksum")
    func nanInStateFile() throws {
        let model = try RWKVModel(checkpoint: try HostileInput.tinyV7())
        var data = try model.makeState().fileData(config: model.config)
        let headerLength = Int(data[12]) | Int(data[13]) << 8
        let nan = Float.nan.bitPattern.littleEndian
        withUnsafeBytes(of: nan) { for i in 0..<4 { data[16 + headerLength + 8 + i] = $0[i] } }
        let crc = data.prefix(data.count - 4).withUnsafeBytes { zipCRC32($0) }.littleEndian
        withUnsafeBytes(of: crc) { for i in 0..<4 { data[data.count - 4 + i] = $0[i] } }
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("nan.rwkvstate").path
        try data.write(to: URL(fileURLWithPath: path))
        #expect(throws: StateFileError.self) { _ = try model.loadState(path: path) }
    }

    @Test("generate --state DIRECTORY: an error, not a try! trap")
    func stateFromDirectory() throws {
        let model = try RWKVModel(checkpoint: try HostileInput.tinyV7())
        let dir = try TestPaths.temporaryDirectory().path
        #expect(throws: StateFileError.self) { _ = try model.loadState(path: dir) }
        #expect(throws: StateFileError.self) { _ = try ModelState.load(path: dir, config: model.config) }
        #expect(throws: (any Error).self) { _ = try model.loadState(path: dir + "/missing") }
    }
}
