// Builders for crafted hostile inputs (issue 13): tiny GGUF files written byte by byte, small random
// models to damage, and a helper that checks an error is the typed one we expect.

import Foundation
import Testing
@testable import RWKV

enum HostileInput {
    /// A small but complete RWKV-7 checkpoint (L2 C16 H2 N8, byte vocabulary V256).
    static func tinyV7() throws -> Checkpoint {
        var spec = RandomModelSpec(layers: 2, embedding: 16, vocabulary: 256)
        spec.headSize = 8
        (spec.decayRank, spec.iclrRank, spec.valueRank, spec.gateRank) = (4, 4, 4, 4)
        return try spec.checkpoint(dtype: .float32)
    }

    /// `checkpoint` with `extra` tensors added (e.g. a block with an absurd index).
    static func adding(_ extra: [String: Tensor], to checkpoint: Checkpoint) -> Checkpoint {
        Checkpoint(tensors: checkpoint.tensors.merging(extra) { _, new in new })
    }

    /// A zero tensor of `shape` (F32).
    static func zeros(_ shape: [Int]) throws -> Tensor {
        try Tensor([Float](repeating: 0, count: Tensor.elementCount(shape)), shape: shape)
    }

    /// Requires `body` to throw `ModelError.invalidConfig` and returns its field.
    @discardableResult
    static func invalidConfigField(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        do {
            try body()
            Issue.record("expected ModelError.invalidConfig, nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as ModelError {
            if case let .invalidConfig(field, _) = error.underlying { return field }
            Issue.record("expected ModelError.invalidConfig, got \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected ModelError.invalidConfig, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }
}

/// A GGUF v3 file assembled by hand, so tests can state any header value, however absurd.
struct GGUFBuilder {
    struct TensorInfo { var name: String; var dims: [UInt64]; var type: UInt32; var offset: UInt64 }
    var metadata: [(key: String, type: UInt32, value: [UInt8])] = []
    var tensors: [TensorInfo] = []
    var data: [UInt8] = []

    mutating func string(_ key: String, _ value: String) { metadata.append((key, 8, Self.string(value))) }
    mutating func uint32(_ key: String, _ value: UInt32) { metadata.append((key, 4, Self.le(value))) }

    /// Adds an F32 tensor with real data (ggml dims: innermost first).
    mutating func f32(_ name: String, dims: [UInt64]) {
        let count = dims.reduce(1, *)
        tensors.append(TensorInfo(name: name, dims: dims, type: 0, offset: UInt64(data.count)))
        data += [UInt8](repeating: 0, count: Int(count) * 4)
        while data.count % 32 != 0 { data.append(0) }
    }

    /// Adds a tensor header only (no data): for dimensions no file could hold.
    mutating func header(_ name: String, dims: [UInt64], type: UInt32) {
        tensors.append(TensorInfo(name: name, dims: dims, type: type, offset: 0))
    }

    var bytes: [UInt8] {
        var out = Array("GGUF".utf8) + Self.le(UInt32(3)) + Self.le(UInt64(tensors.count)) + Self.le(UInt64(metadata.count))
        for m in metadata { out += Self.string(m.key) + Self.le(m.type) + m.value }
        for t in tensors {
            out += Self.string(t.name) + Self.le(UInt32(t.dims.count))
            for d in t.dims { out += Self.le(d) }
            out += Self.le(t.type) + Self.le(t.offset)
        }
        while out.count % 32 != 0 { out.append(0) }
        return out + data
    }

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func string(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }

    /// A minimal rwkv7 GGUF: embedding, one block-0 tensor that marks the version, and `extra` headers.
    static func rwkv7(headSize: UInt32? = nil) -> GGUFBuilder {
        var b = GGUFBuilder()
        b.string("general.architecture", "rwkv7")
        if let headSize { b.uint32("rwkv7.wkv.head_size", headSize) }
        b.f32("token_embd.weight", dims: [16, 4])
        b.f32("blk.0.time_mix_w0.weight", dims: [16])
        return b
    }
}
