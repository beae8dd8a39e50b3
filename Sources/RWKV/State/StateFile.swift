// The state file format (docs/state-format.md): a saved recurrent state that can be reloaded later,
// shipped to another machine, or used as a tuned initial state.
//
//   offset 0   8 bytes  magic "RWKVSTAT"
//          8   u32 LE   format version (1)
//         12   u32 LE   header length h
//         16   h bytes  JSON header: {"signature", "version", "layers", "embedding", "heads", "head_size", "dtype": "F32"}
//     16 + h   payload  per layer: attention shift (C), WKV (H·N·N), FFN shift (C), fp32 little-endian
//        end   u32 LE   CRC-32 (IEEE) of every byte before it
//
// Loading checks magic, version, sizes, checksum and that the state fits the model it is loaded into.

import Foundation

/// Errors reading or writing a state file.
public enum StateFileError: Error, CustomStringConvertible, Equatable {
    case notAStateFile(path: String)
    case unsupportedFormatVersion(UInt32)
    case truncated(path: String, expected: Int, found: Int)
    case checksumMismatch(path: String)
    case badHeader(String)
    case modelMismatch(file: String, model: String)
    /// The arrays have the right sizes but unusable values (NaN/Inf), or the model's sizes are invalid.
    case invalidState(path: String, detail: String)

    public var description: String {
        switch self {
        case let .notAStateFile(path): return "\(path) is not an RWKV state file (magic 'RWKVSTAT' missing)"
        case let .unsupportedFormatVersion(v): return "state file format version \(v) is not supported (this build reads version 1)"
        case let .truncated(path, expected, found): return "\(path) is truncated: expected \(expected) bytes, found \(found)"
        case let .checksumMismatch(path): return "\(path) is corrupted: checksum mismatch"
        case let .badHeader(detail): return "state file header is invalid: \(detail)"
        case let .modelMismatch(file, model): return "the state was saved from a \(file) model and cannot be used with this \(model) model"
        case let .invalidState(path, detail): return "\(path): \(detail)"
        }
    }
}

/// The JSON header of a state file.
struct StateFileHeader: Codable, Equatable {
    var signature: String
    var version: String
    var layers: Int
    var embedding: Int
    var heads: Int
    var head_size: Int
    var dtype: String
}

extension ModelState {
    static let fileMagic = Array("RWKVSTAT".utf8)

    /// Serialises the state (see the file comment for the layout).
    public func fileData(config: ModelConfig) throws -> Data {
        guard signature == config.signature else { throw StateFileError.modelMismatch(file: signature, model: config.signature) }
        let header = StateFileHeader(signature: signature, version: config.version.rawValue, layers: config.layerCount,
                                     embedding: config.embeddingSize, heads: config.headCount, head_size: config.headSize, dtype: "F32")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        var data = Data(Self.fileMagic)
        appendLE(&data, UInt32(1))
        appendLE(&data, UInt32(json.count))
        data.append(json)
        for layer in layers {
            for part in [layer.attentionShift, layer.wkv, layer.ffnShift] {
                part.withUnsafeBytes { data.append(contentsOf: $0) }   // fp32 LE on every supported platform
            }
        }
        appendLE(&data, crc32(data))
        return data
    }

    /// Writes the state atomically (temporary file + rename): a crash never leaves half a file.
    public func save(to path: String, config: ModelConfig) throws {
        let writer = try AtomicFileWriter(path: path)
        try fileData(config: config).withUnsafeBytes { try writer.write($0) }
        try writer.commit()
    }

    /// Reads a state file and checks that it belongs to a model with `config`.
    public static func load(path: String, config: ModelConfig) throws -> ModelState {
        try checkRegularFile(path)
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw StateFileError.badHeader("cannot read \(path): \(error.localizedDescription)")
        }
        return try decode(data, path: path, config: config)
    }

    /// Throws `badHeader` unless `path` is an existing regular file (not a directory, FIFO or device).
    static func checkRegularFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StateFileError.badHeader("cannot read \(path): no such file")
        }
        let type = (try? FileManager.default.attributesOfItem(atPath: path)[.type]) as? FileAttributeType
        guard !isDirectory.boolValue, type == .typeRegular else {
            throw StateFileError.badHeader("cannot read \(path): it is a directory or special file, expected a state file (rwkv generate --save-state)")
        }
    }

    static func decode(_ data: Data, path: String, config: ModelConfig) throws -> ModelState {
        let bytes = [UInt8](data)
        guard bytes.count >= 20, Array(bytes[0..<8]) == fileMagic else { throw StateFileError.notAStateFile(path: path) }
        let formatVersion = readLE(bytes, 8)
        guard formatVersion == 1 else { throw StateFileError.unsupportedFormatVersion(formatVersion) }
        let headerLength = Int(readLE(bytes, 12))
        guard headerLength <= bytes.count - 20 else { throw StateFileError.truncated(path: path, expected: 20 + headerLength, found: bytes.count) }
        let header: StateFileHeader
        do { header = try JSONDecoder().decode(StateFileHeader.self, from: Data(bytes[16..<(16 + headerLength)])) } catch {
            throw StateFileError.badHeader("\(error)")
        }
        guard header.signature == config.signature else {
            throw StateFileError.modelMismatch(file: header.signature, model: config.signature)
        }
        guard header.dtype == "F32" else { throw StateFileError.badHeader("dtype \(header.dtype), expected F32") }
        let shape: StateShape
        do { shape = try StateShape(config: config) } catch { throw StateFileError.invalidState(path: path, detail: "\(error)") }
        // Bounded by the shape limits (L·(2C + C·N)·4 < 2^41), so this cannot overflow.
        let c = shape.width, wkv = shape.wkvCount
        let payload = shape.layers * (2 * c + wkv) * 4
        let expected = 16 + headerLength + payload + 4
        guard bytes.count == expected else { throw StateFileError.truncated(path: path, expected: expected, found: bytes.count) }
        guard crc32(Data(data.prefix(expected - 4))) == readLE(bytes, expected - 4) else { throw StateFileError.checksumMismatch(path: path) }
        var offset = 16 + headerLength
        func floats(_ n: Int) -> [Float] {
            defer { offset += n * 4 }
            return bytes.withUnsafeBytes { raw in (0..<n).map { raw.loadUnaligned(fromByteOffset: offset + $0 * 4, as: Float.self) } }
        }
        let layers = (0..<shape.layers).map { _ in LayerState(attentionShift: floats(c), wkv: floats(wkv), ffnShift: floats(c)) }
        do { return try ModelState(config: config, layers: layers) } catch {
            throw StateFileError.invalidState(path: path, detail: "\(error)")
        }
    }
}

private func appendLE(_ data: inout Data, _ v: UInt32) {
    withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) }
}

private func readLE(_ b: [UInt8], _ o: Int) -> UInt32 {
    UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
}

/// CRC-32 of the bytes (the zip checksum, shared with the checkpoint writer).
private func crc32(_ data: Data) -> UInt32 {
    data.withUnsafeBytes { zipCRC32($0) }
}
