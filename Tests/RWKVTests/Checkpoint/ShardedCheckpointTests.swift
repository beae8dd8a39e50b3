// Hugging Face model directories: sharded safetensors + index + config.json, hostile indexes, RWKV-7 HF names.

import Foundation
import Testing
@testable import RWKV

@Suite struct ShardedCheckpointTests {
    typealias S = CheckpointTestSupport
    static let fixture = TestPaths.fixture("v7/v7-a-hf")
    static let index = fixture + "/model.safetensors.index.json"
    static let shards = (1...3).map { "model-0000\($0)-of-00003.safetensors" }

    /// The fixture's weight map.
    static func weightMap() throws -> [String: String] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: index))) as? [String: Any]
        return try #require(json?["weight_map"] as? [String: String])
    }

    /// A fresh model directory holding the fixture's shards and config, with `index` (any JSON) as its index.
    static func directory(index: Any?, shards: [String] = shards) throws -> String {
        let dir = try TestPaths.temporaryDirectory().appendingPathComponent("model").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in shards + ["config.json"] { try FileManager.default.copyItem(atPath: fixture + "/" + name, toPath: dir + "/" + name) }
        if let index {
            try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: dir + "/model.safetensors.index.json"))
        }
        return dir
    }

    static func official() throws -> [String: Tensor] { try Checkpoint.load(path: TestPaths.fixture("v7/v7-a.pth")).tensors }

    // MARK: Loading

    @Test(arguments: [fixture, index, fixture + "/"])
    func directoryAndIndexLoadTheOfficialTensors(path: String) throws {
        let c = try Checkpoint.load(path: path)
        #expect(c.tensors.count == 72)
        #expect(WeightLayout.detect(c.tensors.keys) == .huggingFaceV7)
        #expect(c.metadata["config.model_type"] == "rwkv7")
        #expect(c.metadata["config.tie_word_embeddings"] == "false")
        let mapped = try c.inOfficialLayout()
        #expect(!mapped.metadata.keys.contains { $0.hasPrefix("config.") })
        S.expectIdentical(mapped, Checkpoint(tensors: try Self.official()))
    }

    @Test func convertWritesTheOfficialPTH() throws {
        // What `rwkv convert DIR out.pth` does: load, map, write.
        let out = try TestPaths.temporaryDirectory().appendingPathComponent("v7-a.pth").path
        try Checkpoint.load(path: Self.fixture).inOfficialLayout().write(to: out)
        S.expectIdentical(try Checkpoint.load(path: out), Checkpoint(tensors: try Self.official()))
    }

    @Test func singleFileDirectoryAndNoConfig() throws {
        let dir = try TestPaths.temporaryDirectory().path
        let all = try Checkpoint.load(path: Self.fixture)
        try Checkpoint(tensors: all.tensors).write(to: dir + "/model.safetensors")
        let single = try Checkpoint.load(path: dir)
        #expect(single.metadata.isEmpty)
        S.expectIdentical(try single.inOfficialLayout(), Checkpoint(tensors: try Self.official()))
    }

    // MARK: Hostile or broken indexes

    @Test func missingShardIsNamed() throws {
        var map = try Self.weightMap()
        map["head.weight"] = "model-00004-of-00004.safetensors"
        let dir = try Self.directory(index: ["weight_map": map])
        let error = S.checkpointError { _ = try Checkpoint.load(path: dir) }
        #expect(error == .fileNotFound(path: dir + "/model-00004-of-00004.safetensors"))
    }

    @Test func tensorInAnotherShardThanTheIndexSaysIsRefused() throws {
        var map = try Self.weightMap()
        map["head.weight"] = Self.shards[0]
        let error = S.checkpointError { _ = try Checkpoint.load(path: try Self.directory(index: ["weight_map": map])) }
        #expect(error == .invalidTensor(name: "head.weight", reason: "is here, but model.safetensors.index.json puts it in \(Self.shards[0])"))
    }

    @Test func indexEntryNoShardHoldsIsRefused() throws {
        var map = try Self.weightMap()
        map["rwkv7.blocks.9.ln1.weight"] = Self.shards[1]
        let error = S.checkpointError { _ = try Checkpoint.load(path: try Self.directory(index: ["weight_map": map])) }
        #expect(error == .invalidTensor(name: "rwkv7.blocks.9.ln1.weight", reason: "model.safetensors.index.json puts it in this shard, which does not hold it"))
    }

    @Test func tensorTheIndexDoesNotListIsRefused() throws {
        var map = try Self.weightMap()
        map["head.weight"] = nil
        let error = S.checkpointError { _ = try Checkpoint.load(path: try Self.directory(index: ["weight_map": map])) }
        guard case .invalidTensor(let name, let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(name == "head.weight" && reason == "is not listed in model.safetensors.index.json")
    }

    @Test(arguments: ["../outside.safetensors", "sub/model.safetensors", "/tmp/model.safetensors", "..", "",
                      "model.bin", "a\\b.safetensors", "x\u{0}.safetensors"])
    func shardNamesOutsideTheDirectoryAreRefused(shard: String) throws {
        var map = try Self.weightMap()
        map["head.weight"] = shard
        let dir = try Self.directory(index: ["weight_map": map])
        // A real file where "../outside.safetensors" points: refused by name, not because it is missing.
        try FileManager.default.copyItem(atPath: Self.fixture + "/" + Self.shards[2], toPath: dir + "/../outside.safetensors")
        let error = S.checkpointError { _ = try Checkpoint.load(path: dir) }
        guard case .cannotRead(let path, let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(path == dir + "/model.safetensors.index.json")
        #expect(reason.contains("is not a plain *.safetensors file name"), "\(reason)")
    }

    @Test(arguments: [("{\"weight_map\": [1]}", "not a shard index"), ("{\"metadata\": {}}", "not a shard index"),
                      ("{\"weight_map\": {}}", "weight_map is empty"), ("{\"weight_map\": {\"a\": 3}}", "not a shard index"),
                      ("{\"weight_map\": {\"\": \"model.safetensors\"}}", "an empty tensor name"), ("{\"weight_map\": ", "not a shard index")])
    func malformedIndexIsRefused(json: String, expected: String) throws {
        let path = try S.temporaryFile(Array(json.utf8), name: "model.safetensors.index.json")
        let error = S.checkpointError { _ = try Checkpoint.load(path: path) }
        guard case .cannotRead(let p, let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(p == path && reason.contains(expected), "\(reason)")
    }

    @Test func absurdShardCountIsRefusedBeforeOpeningFiles() throws {
        let map = Dictionary(uniqueKeysWithValues: (0...ShardedSafetensors.maxShards).map { ("t\($0)", "s\($0).safetensors") })
        let error = S.checkpointError { _ = try Checkpoint.load(path: try Self.directory(index: ["weight_map": map], shards: [])) }
        guard case .cannotRead(_, let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason == "bad shard index: \(ShardedSafetensors.maxShards + 1) shard files, more than the \(ShardedSafetensors.maxShards) allowed")
    }

    @Test func shardThatIsAnIndexIsNotFollowed() throws {
        // An index naming a "shard" that is itself this index must not recurse.
        let dir = try Self.directory(index: nil, shards: [])
        let loop = ["weight_map": ["x": "loop.safetensors"]]
        for name in ["model.safetensors.index.json", "loop.safetensors"] {
            try JSONSerialization.data(withJSONObject: loop).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        guard case .unknownFormat(let path, _)? = S.checkpointError({ _ = try Checkpoint.load(path: dir) }) else {
            Issue.record("a JSON shard was not refused"); return
        }
        #expect(path == dir + "/loop.safetensors")
    }

    @Test func brokenShardAndConfigAreNamed() throws {
        let dir = try Self.directory(index: try ["weight_map": Self.weightMap()])
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        guard case .cannotRead(let path, _)? = S.checkpointError({ _ = try Checkpoint.load(path: dir) }) else {
            Issue.record("bad config.json not reported"); return
        }
        #expect(path == dir + "/config.json")
        let shard = dir + "/" + Self.shards[1]
        // A plausible header whose JSON is not a tensor table.
        try Data([10, 0, 0, 0, 0, 0, 0, 0] + Array("{\"a\":1234}".utf8)).write(to: URL(fileURLWithPath: shard))
        do {
            _ = try Checkpoint.load(path: dir)
            Issue.record("truncated shard loaded")
        } catch let error as CheckpointError {
            guard case .inFile(let p, _) = error else { Issue.record("shard error without its path: \(error)"); return }
            #expect(p == shard)
        }
    }
}
