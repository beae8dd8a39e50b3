// ShardedSafetensors: a Hugging Face model directory, or its `model.safetensors.index.json`, read as one checkpoint.
//
// The index (`{"metadata": {...}, "weight_map": {tensor: shard file}}`) names the shard holding each tensor;
// every shard is memory-mapped by the safetensors reader. The index is untrusted input: shard names must be
// plain `*.safetensors` file names beside the index (no `/`, no `..`), counts are capped, every shard must
// exist, and each tensor must sit in exactly the shard the index names. `config.json` beside the weights is
// optional; its top-level scalars come back as `config.<key>` metadata (the model layer reads e.g.
// `config.tie_word_embeddings`). Tensor names are returned as stored: layout mapping is the model layer's job.

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// File names and limits of the Hugging Face sharded layout.
enum ShardedSafetensors {
    static let indexName = "model.safetensors.index.json"
    static let singleName = "model.safetensors"
    static let configName = "config.json"
    /// Real indexes are ~100 kB even for 1000-tensor models; anything near these limits is hostile.
    static let maxJSONBytes = 64 << 20
    static let maxTensors = 1_000_000
    static let maxShards = 10_000

    /// Loads a model directory: its index if it has one, otherwise its single `model.safetensors`.
    static func loadDirectory(_ directory: String) throws -> Checkpoint {
        let index = join(directory, indexName), single = join(directory, singleName)
        if isRegularFile(index) { return try loadIndex(path: index) }
        guard isRegularFile(single) else {
            throw CheckpointError.cannotRead(path: directory, reason: "a model directory needs \(indexName) or \(singleName)")
        }
        var checkpoint = try Checkpoint.loadSafetensorsFile(path: single)
        checkpoint.metadata.merge(try configMetadata(directory: directory)) { _, config in config }
        return checkpoint
    }

    /// Loads every shard named by the index at `path`, checking the index against the shards' own headers.
    static func loadIndex(path: String) throws -> Checkpoint {
        let weightMap = try readWeightMap(path: path)
        let directory = parentDirectory(path)
        var tensors: [String: Tensor] = [:], metadata: [String: String] = [:]
        let shards = Set(weightMap.values).sorted()
        // Every shard must be there before any is mapped: a missing one is the error to report.
        for shard in shards where !isRegularFile(join(directory, shard)) {
            throw CheckpointError.inFile(path: path, .fileNotFound(path: join(directory, shard)))
        }
        for shard in shards {
            let shardPath = join(directory, shard)
            let part = try Checkpoint.loadSafetensorsFile(path: shardPath)
            for (name, tensor) in part.tensors {
                guard let listed = weightMap[name] else {
                    throw CheckpointError.inFile(path: shardPath, .invalidTensor(name: name, reason: "is not listed in \(indexName)"))
                }
                guard listed == shard else {
                    throw CheckpointError.inFile(path: shardPath, .invalidTensor(name: name, reason: "is here, but \(indexName) puts it in \(listed)"))
                }
                tensors[name] = tensor
            }
            metadata.merge(part.metadata) { first, _ in first }
        }
        if let missing = weightMap.filter({ tensors[$0.key] == nil }).min(by: { $0.key < $1.key }) {
            throw CheckpointError.inFile(path: join(directory, missing.value),
                                         .invalidTensor(name: missing.key, reason: "\(indexName) puts it in this shard, which does not hold it"))
        }
        metadata.merge(try configMetadata(directory: directory)) { _, config in config }
        return Checkpoint(tensors: tensors, metadata: metadata)
    }

    /// The index's `weight_map`, validated before any shard is opened.
    static func readWeightMap(path: String) throws -> [String: String] {
        let json = try readSmallFile(path)
        let map: [String: String]
        do {
            map = try JSONDecoder().decode(IndexFile.self, from: json).weightMap
        } catch {
            throw CheckpointError.cannotRead(path: path, reason: "not a shard index (a JSON object with a \"weight_map\" of tensor → file names): \(error)")
        }
        func bad(_ reason: String) -> CheckpointError { .cannotRead(path: path, reason: "bad shard index: \(reason)") }
        guard !map.isEmpty else { throw bad("weight_map is empty") }
        guard map.count <= maxTensors else { throw bad("\(map.count) tensors, more than the \(maxTensors) allowed") }
        let shards = Set(map.values)
        guard shards.count <= maxShards else { throw bad("\(shards.count) shard files, more than the \(maxShards) allowed") }
        if map.keys.contains("") { throw bad("an empty tensor name") }
        for shard in shards.sorted() where !isPlainShardName(shard) {
            throw bad("shard '\(shard)' is not a plain *.safetensors file name beside the index")
        }
        return map
    }

    /// `config.json`'s top-level scalars as `config.<key>` strings (none if there is no config).
    static func configMetadata(directory: String) throws -> [String: String] {
        let path = join(directory, configName)
        guard isRegularFile(path) else { return [:] }
        let values: [String: ConfigScalar]
        do {
            values = try JSONDecoder().decode([String: ConfigScalar].self, from: readSmallFile(path))
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.cannotRead(path: path, reason: "not a JSON object: \(error)")
        }
        var out: [String: String] = [:]
        for (key, value) in values { if let text = value.text { out["config." + key] = text } }
        return out
    }

    /// A name the index may use: one path component, no traversal, no NUL, the safetensors extension.
    static func isPlainShardName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && name != "." && name != ".." && name.hasSuffix(".safetensors")
            && !name.contains("/") && !name.contains("\\") && !name.contains("\0")
    }

    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    private static func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The bytes of a JSON side file, refusing anything larger than `maxJSONBytes`.
    private static func readSmallFile(_ path: String) throws -> Data {
        let storage: ByteStorage
        do {
            storage = try ByteStorage.map(path: path)
        } catch {
            throw CheckpointError.cannotRead(path: path, reason: "\(error)")
        }
        guard storage.count <= maxJSONBytes else {
            throw CheckpointError.cannotRead(path: path, reason: "\(storage.count) bytes, more than the \(maxJSONBytes) a JSON side file may have")
        }
        return Data(storage.bytes)
    }
}

/// `model.safetensors.index.json`; other keys (`metadata.total_size`) are ignored.
private struct IndexFile: Decodable {
    let weightMap: [String: String]
    enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
}

/// A top-level `config.json` value; arrays, objects and null are kept out of the metadata.
private struct ConfigScalar: Decodable {
    let text: String?

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { text = b ? "true" : "false" }
        else if let i = try? c.decode(Int.self) { text = String(i) }
        else if let d = try? c.decode(Double.self) { text = String(d) }
        else if let s = try? c.decode(String.self) { text = s }
        else { text = nil }
    }
}
