// CheckpointLoader: one-call loading and saving of checkpoints, with the format detected by content.
//
// `Checkpoint.load(path:)` maps the file and sniffs its first bytes: zip magic → PyTorch `.pth`,
// a plausible 8-byte length followed by `{` → safetensors, `GGUF` → GGUF, a JSON object → a sharded
// safetensors index. A directory is read as a Hugging Face model directory (ShardedSafetensors.swift).
// Errors from the format readers come back wrapped in `CheckpointError.inFile(path:_:)`.
// Saving picks the format from the destination's extension unless one is given.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// On-disk checkpoint formats this package reads and writes.
public enum CheckpointFormat: String, Sendable, CaseIterable {
    /// PyTorch zip archive (`torch.save`), as released by BlinkDL.
    case pth
    /// Hugging Face safetensors.
    case safetensors
    /// llama.cpp's GGUF (read only; RWKV-6/7 mapped to the official layout).
    case gguf

    /// The format named by a path's extension (`.pth`/`.pt` or `.safetensors`), if any.
    public init?(pathExtensionOf path: String) {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: ".") else { return nil }
        switch name[name.index(after: dot)...].lowercased() {
        case "pth", "pt": self = .pth
        case "safetensors": self = .safetensors
        case "gguf": self = .gguf
        default: return nil
        }
    }
}

extension Checkpoint {
    /// Loads a `.pth`, `.safetensors` or `.gguf` checkpoint, detecting the format from the file's content;
    /// or a Hugging Face model directory / its `model.safetensors.index.json` (every shard mapped).
    ///
    /// Files are memory-mapped; contiguous tensors view the mapping directly, so loading costs
    /// almost nothing until the weights are read. Tensor names come back as stored.
    /// ```swift
    /// let checkpoint = try Checkpoint.load(path: "RWKV-x070-World-0.1B.pth")
    /// print(checkpoint.tensors["emb.weight"]?.shape ?? [])   // [65536, 768]
    /// let sharded = try Checkpoint.load(path: "RWKV7-1.5B-20260805")   // config.json + index + shards
    /// ```
    public static func load(path: String) throws -> Checkpoint {
        if ShardedSafetensors.isDirectory(path) { return try ShardedSafetensors.loadDirectory(path) }
        let storage = try mapFile(path: path)
        if isJSONObject(storage) { return try ShardedSafetensors.loadIndex(path: path) }
        let format = try detectFormat(storage, path: path)
        do {
            switch format {
            case .pth: return try readPTH(from: storage)
            case .safetensors: return try readSafetensors(from: storage)
            case .gguf: return try GGUF.read(from: storage)
            }
        } catch let error as CheckpointError {
            throw CheckpointError.inFile(path: path, error)
        }
    }

    /// Saves to `path` in `format`, or in the format named by the extension when `format` is nil.
    /// The write is atomic: an existing file at `path` is replaced only once the new one is complete.
    public func write(to path: String, format: CheckpointFormat? = nil) throws {
        guard let format = format ?? CheckpointFormat(pathExtensionOf: path) else {
            throw CheckpointError.unknownOutputFormat(path: path)
        }
        switch format {
        case .pth: try writePTH(to: path)
        case .safetensors: try writeSafetensors(to: path)
        case .gguf: throw CheckpointError.unknownOutputFormat(path: path)
        }
    }

    /// The file's format judged from its first bytes.
    static func detectFormat(_ storage: ByteStorage, path: String) throws -> CheckpointFormat {
        let bytes = storage.bytes
        if bytes.count == 0 { throw CheckpointError.emptyFile(path: path) }
        if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B, bytes[2] == 0x03, bytes[3] == 0x04 { return .pth }
        if bytes.count >= 4, Array(bytes[0..<4]) == Array("GGUF".utf8) { return .gguf }
        if bytes.count >= 9 {
            let length = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
            if length >= 2, length <= UInt64(safetensorsMaxHeaderBytes), bytes[8] == UInt8(ascii: "{") { return .safetensors }
        }
        // An empty zip (only an end record) or a pickle-only legacy file: say what we saw.
        throw CheckpointError.unknownFormat(path: path, firstBytes: Array(bytes.prefix(8)))
    }

    /// Loads a file that must be safetensors (a shard: never an index, so an index cannot name itself).
    static func loadSafetensorsFile(path: String) throws -> Checkpoint {
        let storage = try mapFile(path: path)
        do {
            guard try detectFormat(storage, path: path) == .safetensors else {
                throw CheckpointError.unknownFormat(path: path, firstBytes: Array(storage.bytes.prefix(8)))
            }
            return try readSafetensors(from: storage)
        } catch let error as CheckpointError {
            if case .unknownFormat = error { throw error }
            throw CheckpointError.inFile(path: path, error)
        }
    }

    /// Whether the file starts (after blanks) with `{`: JSON, not a container format. A safetensors
    /// length can start with that byte too, so callers check only once `detectFormat` has said no.
    private static func isJSONObject(_ storage: ByteStorage) -> Bool {
        guard (try? detectFormat(storage, path: "")) == nil else { return false }
        let blanks: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        return storage.bytes.first { !blanks.contains($0) } == UInt8(ascii: "{")
    }

    /// Maps a file, turning `stat`/`open` failures into specific errors.
    private static func mapFile(path: String) throws -> ByteStorage {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { throw CheckpointError.fileNotFound(path: path) }
            throw CheckpointError.cannotRead(path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw CheckpointError.notARegularFile(path: path) }
        do {
            return try ByteStorage.map(path: path)
        } catch let error as TensorError {
            throw CheckpointError.cannotRead(path: path, reason: error.description)
        }
    }
}
