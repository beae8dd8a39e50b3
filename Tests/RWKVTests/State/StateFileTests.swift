import Foundation
import Testing
@testable import RWKV

@Suite struct StateFileTests {
    let config = ModelConfig(version: .v7, layerCount: 2, embeddingSize: 16, headCount: 2, headSize: 8, vocabularySize: 10, ffnSize: 64)

    func sampleState() throws -> ModelState {
        try ModelState(config: config, layers: (0..<2).map { l in
            LayerState(attentionShift: (0..<16).map { Float($0 + l) * 0.5 }, wkv: (0..<128).map { Float($0 * (l + 1)) / 7 },
                       ffnShift: (0..<16).map { -Float($0) })
        })
    }

    @Test func roundTripsExactly() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("s.rwkvstate").path
        try sampleState().save(to: path, config: config)
        #expect(try ModelState.load(path: path, config: config) == sampleState())
        // No temporary files are left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["s.rwkvstate"])
    }

    @Test func refusesStateOfAnotherModelNamingBoth() throws {
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("s.rwkvstate").path
        try sampleState().save(to: path, config: config)
        var other = config
        other.embeddingSize = 32
        other.headCount = 4
        #expect(throws: StateFileError.modelMismatch(file: config.signature, model: other.signature)) {
            try ModelState.load(path: path, config: other)
        }
        let message = "\(StateFileError.modelMismatch(file: config.signature, model: other.signature))"
        #expect(message.contains("C16") && message.contains("C32"))
    }

    @Test func detectsCorruptionAndTruncation() throws {
        let data = try sampleState().fileData(config: config)
        var flipped = data
        flipped[flipped.count / 2] ^= 0x01
        #expect(throws: StateFileError.checksumMismatch(path: "x")) { try ModelState.decode(flipped, path: "x", config: config) }
        #expect(throws: StateFileError.self) { try ModelState.decode(data.prefix(data.count - 10), path: "x", config: config) }
        #expect(throws: StateFileError.notAStateFile(path: "x")) { try ModelState.decode(Data("hello world, not a state".utf8), path: "x", config: config) }
        #expect(throws: StateFileError.notAStateFile(path: "x")) { try ModelState.decode(Data(), path: "x", config: config) }
        var newer = data
        newer[8] = 9
        #expect(throws: StateFileError.unsupportedFormatVersion(9)) { try ModelState.decode(newer, path: "x", config: config) }
    }
}
