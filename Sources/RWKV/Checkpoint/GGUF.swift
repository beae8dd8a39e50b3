// GGUF files (llama.cpp's format) for RWKV-6 and RWKV-7: a bounds-checked reader and the mapping of
// llama.cpp's tensor names and transforms back to the official layout (spec §2.5, §3.5).
//
// Layout (v2/v3, little-endian): magic "GGUF", version u32, tensor count u64, metadata count u64; the
// metadata (key string, value type u32, value); tensor infos (name, n_dims u32, dims u64 × n — ggml
// order, innermost first, i.e. reversed torch shape —, ggml type u32, offset u64); padding to
// `general.alignment` (default 32); tensor data. Strings are u64 length + UTF-8 bytes.
// F32/F16/BF16 tensors are zero-copy views; Q8_0, Q4_0 and Q4_K are dequantised to F32 at load (the
// Q8_0/Q4_0 bytes equal our WeightMatrix blocks; viewing them in place is future work).

import Foundation

enum GGUF {
    static let magic: UInt32 = 0x4655_4747   // "GGUF"

    /// A parsed metadata value (arrays of scalars are kept; others are summarised).
    enum Value {
        case int(Int64), uint(UInt64), float(Double), bool(Bool), string(String), array([Value])

        var int: Int? {
            switch self {
            case let .int(v): return Int(exactly: v)
            case let .uint(v): return Int(exactly: v)
            default: return nil
            }
        }

        var text: String {
            switch self {
            case let .int(v): return String(v)
            case let .uint(v): return String(v)
            case let .float(v): return String(v)
            case let .bool(v): return String(v)
            case let .string(v): return v
            case let .array(a): return "[\(a.count) values]"
            }
        }
    }

    /// Reads a GGUF file: its tensors under llama.cpp's names, its metadata as text.
    static func read(from storage: ByteStorage) throws -> Checkpoint {
        var r = Reader(bytes: storage.bytes)
        guard try r.u32() == magic else { throw fail("the magic 'GGUF' is missing") }
        let version = try r.u32()
        guard version == 2 || version == 3 else { throw fail("GGUF version \(version) is not supported (2 and 3 are)") }
        let tensorCount = try r.count(limit: 1 << 20, what: "tensor count")
        let kvCount = try r.count(limit: 1 << 20, what: "metadata count")
        var metadata: [String: Value] = [:]
        for _ in 0..<kvCount {
            let key = try r.string()
            metadata[key] = try r.value(type: try r.u32(), depth: 0)
        }
        struct Info { var name: String; var shape: [Int]; var type: UInt32; var offset: Int }
        var infos: [Info] = []
        for _ in 0..<tensorCount {
            let name = try r.string()
            let dims = try r.u32()
            guard dims >= 1 && dims <= 4 else { throw fail("tensor '\(name)' has \(dims) dimensions") }
            var shape: [Int] = []
            for _ in 0..<dims { shape.insert(try r.count(limit: 1 << 40, what: "dimension of '\(name)'"), at: 0) }
            infos.append(Info(name: name, shape: shape, type: try r.u32(), offset: try r.count(limit: Int(Int32.max) << 16, what: "offset")))
        }
        let alignment = metadata["general.alignment"]?.int ?? 32
        guard alignment > 0 && alignment <= 1 << 16 else { throw fail("alignment \(alignment)") }
        let dataStart = (r.offset + alignment - 1) / alignment * alignment
        var tensors: [String: Tensor] = [:]
        for info in infos {
            guard let count = Checked.product(info.shape) else {
                throw CheckpointError.invalidTensor(name: info.name, reason: "dimensions \(info.shape) overflow the element count")
            }
            guard Checked.dimensionsFit(info.shape, fileSize: storage.count) else {
                throw CheckpointError.invalidTensor(name: info.name, reason: "dimensions \(info.shape) exceed the \(storage.count)-byte file")
            }
            guard let begin = Checked.add(dataStart, info.offset), begin <= storage.count else {
                throw CheckpointError.tensorOutOfRange(name: info.name, begin: Checked.saturatingAdd(dataStart, info.offset),
                                                       end: Checked.saturatingAdd(dataStart, info.offset), available: storage.count)
            }
            tensors[info.name] = try tensor(info.name, type: info.type, shape: info.shape, count: count, storage: storage, at: begin)
        }
        guard let arch = metadata["general.architecture"]?.text else { throw fail("general.architecture is missing") }
        guard arch == "rwkv7" || arch == "rwkv6" else { throw fail("architecture '\(arch)' is not RWKV-6 or RWKV-7") }
        var flat: [String: String] = [:]
        for (k, v) in metadata where !k.hasPrefix("tokenizer.ggml.") { flat[k] = v.text }
        // The file's own names: the model layer maps them (`Checkpoint.inOfficialLayout`, GGUFMapping.swift).
        return Checkpoint(tensors: tensors, metadata: flat)
    }

    static func fail(_ reason: String) -> CheckpointError { .malformedGGUF(reason: reason) }

    /// One tensor: a view for float types, dequantised F32 for block types.
    static func tensor(_ name: String, type: UInt32, shape: [Int], count: Int, storage: ByteStorage, at begin: Int) throws -> Tensor {
        // `count` elements of `bytesPer`/`per` bytes each, checked against the file before anything is read.
        func bytes(_ count: Int, _ bytesPer: Int, per: Int = 1) throws -> UnsafeRawBufferPointer {
            let needed = Checked.multiply(count / per, bytesPer)
            guard let n = needed, Checked.fits(offset: begin, length: n, in: storage.count) else {
                throw CheckpointError.tensorOutOfRange(name: name, begin: begin, end: Checked.saturatingAdd(begin, needed ?? .max), available: storage.count)
            }
            return UnsafeRawBufferPointer(rebasing: storage.bytes[begin..<(begin + n)])
        }
        do {
            switch type {
            case 0: _ = try bytes(count, 4); return try Tensor(dtype: .float32, shape: shape, storage: storage, byteOffset: begin)
            case 1: _ = try bytes(count, 2); return try Tensor(dtype: .float16, shape: shape, storage: storage, byteOffset: begin)
            case 30: _ = try bytes(count, 2); return try Tensor(dtype: .bfloat16, shape: shape, storage: storage, byteOffset: begin)
            case 8, 2:
                let format: WeightFormat = type == 8 ? .q8_0 : .q4_0
                let cols = shape.last ?? 0, rows = count / max(cols, 1)
                guard cols > 0, cols % 32 == 0 else { throw CheckpointError.invalidTensor(name: name, reason: "\(format) rows of \(cols) are not whole blocks of 32") }
                _ = try bytes(count, type == 8 ? 34 : 18, per: 32)
                let m = try WeightMatrix(rows: rows, cols: cols, format: format, storage: storage, byteOffset: begin)
                return try dequantized(shape: shape) { out in
                    for r in 0..<rows { m.row(r, into: UnsafeMutableBufferPointer(rebasing: out[(r * cols)..<((r + 1) * cols)])) }
                }
            case 12:
                guard count % 256 == 0 else { throw CheckpointError.invalidTensor(name: name, reason: "Q4_K needs whole 256-element blocks") }
                let raw = try bytes(count, 144, per: 256)
                return try dequantized(shape: shape) { out in dequantizeQ4K(raw, into: out) }
            default:
                throw CheckpointError.unsupportedDType(name: name, type: "ggml type \(type)")
            }
        } catch let error as TensorError {
            throw CheckpointError.invalidTensor(name: name, reason: error.description)
        }
    }

    /// A new F32 tensor (the caller checked that the source bytes exist, so `shape` is bounded by the file).
    static func dequantized(shape: [Int], _ fill: (UnsafeMutableBufferPointer<Float>) -> Void) throws -> Tensor {
        guard let n = Checked.byteCount(shape, elementSize: 4) else { throw TensorError.badShape(shape) }
        let storage = ByteStorage.allocate(count: n) { raw in fill(raw.bindMemory(to: Float.self)) }
        return try Tensor(dtype: .float32, shape: shape, storage: storage)
    }

    /// Q4_K: super-blocks of 256 = fp16 d, fp16 dmin, 12 bytes of packed 6-bit scales/mins (8 each),
    /// 128 bytes of nibbles. 32-byte group g holds sub-block 2g (low nibbles) and 2g+1 (high);
    /// value = d·scale_s·q − dmin·min_s.
    static func dequantizeQ4K(_ raw: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        for b in 0..<(out.count / 256) {
            let o = b * 144
            let d = halfBitsToFloat(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self))
            let dmin = halfBitsToFloat(raw.loadUnaligned(fromByteOffset: o + 2, as: UInt16.self))
            let s = (0..<12).map { raw[o + 4 + $0] }
            var scale = [Float](repeating: 0, count: 8), minimum = [Float](repeating: 0, count: 8)
            for j in 0..<8 {
                let (sc, mn): (UInt8, UInt8) = j < 4
                    ? (s[j] & 63, s[j + 4] & 63)
                    : ((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4))
                scale[j] = d * Float(sc)
                minimum[j] = dmin * Float(mn)
            }
            for g in 0..<4 {
                for l in 0..<32 {
                    let q = raw[o + 16 + g * 32 + l]
                    out[b * 256 + g * 64 + l] = scale[2 * g] * Float(q & 0xF) - minimum[2 * g]
                    out[b * 256 + g * 64 + 32 + l] = scale[2 * g + 1] * Float(q >> 4) - minimum[2 * g + 1]
                }
            }
        }
    }

    /// A cursor over the file's bytes; every read is bounds-checked.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        mutating func take(_ n: Int) throws -> Int {
            guard n >= 0, n <= bytes.count - offset else { throw GGUF.fail("truncated at byte \(offset) (needed \(n) more)") }
            defer { offset += n }
            return offset
        }
        mutating func u8() throws -> UInt8 { bytes[try take(1)] }
        mutating func u32() throws -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(4), as: UInt32.self)) }
        mutating func u64() throws -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(8), as: UInt64.self)) }

        mutating func count(limit: Int, what: String) throws -> Int {
            let v = try u64()
            guard v <= UInt64(limit) else { throw GGUF.fail("\(what) \(v) is implausible") }
            return Int(v)
        }

        mutating func string() throws -> String {
            let n = try count(limit: 1 << 24, what: "string length")
            let start = try take(n)
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + n)]), as: UTF8.self)
        }

        mutating func value(type: UInt32, depth: Int) throws -> Value {
            switch type {
            case 0: return .uint(UInt64(try u8()))
            case 1: return .int(Int64(Int8(bitPattern: try u8())))
            case 2: let p = try take(2); return .uint(UInt64(bytes.loadUnaligned(fromByteOffset: p, as: UInt16.self)))
            case 3: let p = try take(2); return .int(Int64(bytes.loadUnaligned(fromByteOffset: p, as: Int16.self)))
            case 4: return .uint(UInt64(try u32()))
            case 5: return .int(Int64(Int32(bitPattern: try u32())))
            case 6: return .float(Double(Float(bitPattern: try u32())))
            case 7: return .bool(try u8() != 0)
            case 8: return .string(try string())
            case 9:
                guard depth < 2 else { throw GGUF.fail("nested arrays") }
                let itemType = try u32()
                let n = try count(limit: 1 << 24, what: "array length")
                var items: [Value] = []
                items.reserveCapacity(min(n, 1 << 16))
                for _ in 0..<n { items.append(try value(type: itemType, depth: depth + 1)) }
                return .array(items)
            case 10: return .uint(try u64())
            case 11: return .int(Int64(bitPattern: try u64()))
            case 12: return .float(Double(bitPattern: try u64()))
            default: throw GGUF.fail("metadata value type \(type)")
            }
        }
    }
}
