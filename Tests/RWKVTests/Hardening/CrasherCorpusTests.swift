// Tests/Fixtures/crashers/: inputs that once crashed the engine (crafted for issue 13, or found by the
// fuzzers in Fuzz/). Every file must now load to a clean error. `scripts/crashers.sh` feeds the same
// files to a built `rwkv` binary, which is how they were confirmed to trap before the fixes.
//
// RWKV_WRITE_CRASHERS=DIR swift test --filter CrasherCorpus regenerates the crafted ones into DIR.

import Foundation
import Testing
@testable import RWKV

@Suite("Crasher corpus")
struct CrasherCorpusTests {
    static let directory = TestPaths.fixture("crashers")

    static var all: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted()
    }
    /// Crafted inputs (named by format): each must be refused.
    static var files: [String] { all.filter { !$0.hasPrefix("fuzz-") } }
    /// Fuzzer findings, `fuzz-<Target>-<kind>-<hash>`: each must run through its target's reader without crashing.
    static var findings: [String] { all.filter { $0.hasPrefix("fuzz-") } }

    @Test("The corpus is not empty")
    func corpusExists() {
        #expect(Self.files.count >= 14)
    }

    /// Loads `file` as whatever its name says it is, and requires an error.
    @Test("Every committed crasher is a clean error", arguments: files)
    func crasherIsAnError(file: String) throws {
        let path = Self.directory + "/" + file
        let model = try RWKVModel(checkpoint: try HostileInput.tinyV7())
        #expect(throws: (any Error).self, "\(file) was accepted") {
            if file.hasSuffix(".rwkvstate") {
                _ = try model.loadState(path: path)
            } else if file.hasSuffix(".resume.bin") {
                _ = try ResumeFile.read(path: path)
            } else if file.hasSuffix(".vocab") {
                _ = try WorldTokenizer(contentsOf: path)
            } else {
                let loaded = try RWKVModel.load(path: path)
                var state = loaded.makeState()
                _ = try loaded.step(0, state: &state)
            }
        }
    }

    @Test("Every fuzzer finding runs through its reader without crashing", arguments: findings)
    func findingDoesNotCrash(file: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.directory + "/" + file)))
        let storage = ByteStorage(copying: bytes)
        let config = ModelConfig(version: .v7, layerCount: 2, embeddingSize: 16, headCount: 2, headSize: 8, vocabularySize: 256, ffnSize: 64)
        switch file.split(separator: "-").dropFirst().first {
        case "FuzzZip": _ = try? Checkpoint.readPTH(from: storage)
        case "FuzzPickle": _ = try? bytes.withUnsafeBytes { try PickleReader.read($0) }
        case "FuzzSafetensors": _ = try? Checkpoint.readSafetensors(from: storage).tensors.count
        case "FuzzGGUF": _ = try? GGUF.read(from: storage).inOfficialLayout().tensors.count
        case "FuzzStateFile":
            _ = try? ModelState.decode(Data(bytes), path: file, config: config)
            _ = try? JSONDecoder().decode(ModelState.self, from: Data(bytes))
        case "FuzzWorldTokenizer":
            let tokenizer = try WorldTokenizer.bundled()
            #expect(try tokenizer.bytes(for: tokenizer.encode(bytes: bytes)) == bytes)
        case "FuzzChatTemplate":
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!ChatTemplate.clean(text).contains(ChatTemplate.g1.replyStop))
            for template in ChatTemplate.all { _ = template.prompt(for: [ChatMessage(role: .user, content: text)]) }
        default: Issue.record("\(file): unknown fuzz target")
        }
    }

    /// Writes the crafted crashers of issue 13 (small files only) into $RWKV_WRITE_CRASHERS.
    @Test("Regenerate the crafted crashers", .enabled(if: ProcessInfo.processInfo.environment["RWKV_WRITE_CRASHERS"] != nil))
    func regenerate() throws {
        let out = try #require(ProcessInfo.processInfo.environment["RWKV_WRITE_CRASHERS"])
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        func path(_ name: String) -> String { out + "/" + name }
        let four = try Tensor([1, 2, 3, 4], shape: [4])
        for (name, shape) in [("pth-broadcast-2p31.pth", [1 << 31, 1 << 31]), ("pth-broadcast-40000.pth", [40000, 40000])] {
            try Checkpoint.writePTH(records: [PTHTensorRecord(name: "emb.weight", storage: four, storageOffset: 0, shape: shape, strides: [0, 0])],
                                    to: path(name))
        }
        let tiny = try HostileInput.tinyV7()
        for (name, block) in [("pth-block-intmax.pth", "9223372036854775807"), ("safetensors-block-intmax.safetensors", "9223372036854775807"),
                              ("safetensors-block-1e9.safetensors", "1000000000")] {
            try HostileInput.adding(["blocks.\(block).ln1.weight": try HostileInput.zeros([16])], to: tiny).write(to: path(name))
        }
        var zeroWidth: [String: Tensor] = [:]
        for (name, t) in tiny.tensors {
            zeroWidth[name] = try HostileInput.zeros(name.hasSuffix("att.r_k") ? [1, 0] : t.shape.map { [16: 0, 64: 0][$0] ?? $0 })
        }
        try Checkpoint(tensors: zeroWidth).write(to: path("v7-width0.safetensors"))
        var vocab0 = tiny.tensors
        vocab0["emb.weight"] = try HostileInput.zeros([0, 16])
        vocab0["head.weight"] = try HostileInput.zeros([0, 16])
        try Checkpoint(tensors: vocab0).write(to: path("v7-vocab0.safetensors"))

        var dims = GGUFBuilder.rwkv7()
        dims.header("blk.0.attn_norm.weight", dims: [1 << 40, 1 << 40], type: 0)
        var q8 = GGUFBuilder.rwkv7()
        q8.header("blk.0.time_mix_key.weight", dims: [32, 1 << 40, 1 << 40], type: 8)
        var head = GGUFBuilder.rwkv7(headSize: 0)
        head.f32("blk.0.time_mix_r_k", dims: [16])
        var block = GGUFBuilder.rwkv7()
        block.f32("blk.9223372036854775807.attn_norm.weight", dims: [16])
        for (name, b) in [("gguf-dims-2p40.gguf", dims), ("gguf-q8-huge.gguf", q8), ("gguf-head-size-0.gguf", head), ("gguf-blk-intmax.gguf", block)] {
            try Data(b.bytes).write(to: URL(fileURLWithPath: path(name)))
        }
        // A state file whose header claims a length far past the end.
        var state = Data("RWKVSTAT".utf8)
        state += [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 16)
        try state.write(to: URL(fileURLWithPath: path("state-header-huge.rwkvstate")))
        // resume.bin headers: length 2^64 − 1, and counts that overflow.
        var resume = Array("RWKVTRN1".utf8) + [UInt8](repeating: 0xFF, count: 8) + Array("{}".utf8)
        try Data(resume).write(to: URL(fileURLWithPath: path("header-length-max.resume.bin")))
        let json = Array(#"{"version":1,"dimensions":{"layers":1,"embedding":64,"headSize":64,"vocabulary":16,"decayRank":32,"iclrRank":32,"valueRank":32,"gateRank":32},"optimizer":{"lrInit":0.001,"lrFinal":0.001,"warmupSteps":10,"exitTokens":1,"tokensPerStep":1,"beta1":0.9,"beta2":0.99,"epsilon":1e-18,"weightDecay":0,"gradientClip":1},"step":1,"arrays":["a","b"],"counts":[9223372036854775807,9223372036854775807],"run":{}}"#.utf8)
        resume = Array("RWKVTRN1".utf8) + GGUFBuilder.le(UInt64(json.count)) + json
        try Data(resume).write(to: URL(fileURLWithPath: path("counts-overflow.resume.bin")))
    }
}
