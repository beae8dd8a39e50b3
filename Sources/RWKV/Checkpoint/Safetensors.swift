// Safetensors: reader and writer for the Hugging Face safetensors format.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON
// (`{"__metadata__": {string: string}, name: {"dtype", "shape", "data_offsets": [begin, end]}}`),
// then the data section; offsets are relative to the data section. Reading maps tensors in place.
// Writing pads the header with spaces to a multiple of 8 bytes and packs tensors with no gaps (the
// reference library rejects holes), larger element types first, by name within a type, so every
// tensor starts aligned to its element size. Not supported: dtypes outside `DType` (F64, BOOL, F8...).

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Upper bound on the JSON header; real headers are well under 1 MB even for 1000-tensor models.
let safetensorsMaxHeaderBytes = 100 << 20

extension Checkpoint {
    /// Reads a safetensors file held in `storage` (usually `ByteStorage.map(path:)`); tensors are
    /// zero-copy views of `storage`.
    public static func readSafetensors(from storage: ByteStorage) throws -> Checkpoint {
        let size = storage.count
        guard size >= 8 else { throw CheckpointError.malformedSafetensorsHeader(reason: "file is \(size) bytes, too short for the 8-byte header length") }
        let declared = UInt64(littleEndian: storage.bytes.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(safetensorsMaxHeaderBytes) else {
            throw CheckpointError.malformedSafetensorsHeader(reason: "header length \(declared) exceeds the \(safetensorsMaxHeaderBytes)-byte limit")
        }
        let headerLength = Int(declared)
        guard headerLength <= size - 8 else {
            throw CheckpointError.malformedSafetensorsHeader(reason: "header length \(headerLength) runs past the end of the file (\(size - 8) bytes after the length)")
        }
        let json = Data(UnsafeRawBufferPointer(rebasing: storage.bytes[8..<(8 + headerLength)]))
        let header: SafetensorsHeader
        do {
            header = try JSONDecoder().decode(SafetensorsHeader.self, from: json)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.malformedSafetensorsHeader(reason: "header is not the expected JSON object: \(error)")
        }

        let dataStart = 8 + headerLength
        let dataSize = size - dataStart
        var tensors: [String: Tensor] = [:]
        for (name, info) in header.tensors {
            guard let dtype = DType(rawValue: info.dtype) else { throw CheckpointError.unsupportedDType(name: name, type: info.dtype) }
            guard info.shape.allSatisfy({ $0 >= 0 }) else { throw CheckpointError.invalidTensor(name: name, reason: "negative dimension in shape \(info.shape)") }
            guard Checked.dimensionsFit(info.shape, fileSize: size) else {
                throw CheckpointError.invalidTensor(name: name, reason: "shape \(info.shape) has a dimension larger than the \(size)-byte file")
            }
            guard info.dataOffsets.count == 2 else {
                throw CheckpointError.invalidTensor(name: name, reason: "data_offsets has \(info.dataOffsets.count) values, expected [begin, end]")
            }
            let begin = info.dataOffsets[0], end = info.dataOffsets[1]
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw CheckpointError.tensorOutOfRange(name: name, begin: begin, end: end, available: dataSize)
            }
            let expected = Checked.byteCount(info.shape, elementSize: dtype.byteSize)
            guard expected == end - begin else {
                throw CheckpointError.invalidTensor(name: name, reason: "shape \(info.shape) of \(dtype.rawValue) needs \(expected.map(String.init) ?? "more than Int.max") bytes, data_offsets give \(end - begin)")
            }
            do {
                tensors[name] = try Tensor(dtype: dtype, shape: info.shape, storage: storage, byteOffset: dataStart + begin)
            } catch let error as TensorError {
                throw CheckpointError.invalidTensor(name: name, reason: error.description)
            }
        }
        return Checkpoint(tensors: tensors, metadata: header.metadata)
    }

    /// Writes the checkpoint as safetensors, atomically (temporary file, fsync, rename).
    public func writeSafetensors(to path: String) throws {
        let order = tensors.sorted { a, b in
            let sa = a.value.dtype.byteSize, sb = b.value.dtype.byteSize
            return sa != sb ? sa > sb : a.key < b.key
        }
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, t) in order {
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + t.byteCount)]}")
            offset += t.byteCount
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        header.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        let out = try AtomicFileWriter(path: path)
        var length = ByteBuilder()
        length.u64(header.count)
        try out.write(length.bytes)
        try out.write(header)
        for (_, t) in order { try out.write(t.rawBytes) }
        try out.commit()
    }
}

/// JSON string literal with the escapes RFC 8259 requires.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case let c where c.value < 0x20:
            let hex = String(c.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// The decoded JSON header: metadata plus one entry per tensor.
struct SafetensorsHeader: Decodable {
    struct TensorInfo: Decodable {
        let dtype: String
        let shape: [Int]
        let dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    private struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    let metadata: [String: String]
    let tensors: [String: TensorInfo]

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        var metadata: [String: String] = [:]
        var tensors: [String: TensorInfo] = [:]
        for key in container.allKeys {
            if key.stringValue == "__metadata__" {
                metadata = try container.decode([String: String].self, forKey: key)
            } else {
                tensors[key.stringValue] = try container.decode(TensorInfo.self, forKey: key)
            }
        }
        self.metadata = metadata
        self.tensors = tensors
    }
}
