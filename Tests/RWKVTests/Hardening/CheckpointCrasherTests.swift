// Regression tests for the checkpoint crashers of issue 13: each input used to trap, abort on a huge
// allocation or divide by zero; each must now be a typed error that names the tensor or field.

import Foundation
import Testing
@testable import RWKV

@Suite("Hostile checkpoints")
struct CheckpointCrasherTests {
    typealias S = CheckpointTestSupport

    /// A .pth with one tensor `name` viewing a 4-element F32 storage with `shape`/`strides`.
    func pth(shape: [Int], strides: [Int]) throws -> String {
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("crafted.pth").path
        try Checkpoint.writePTH(records: [PTHTensorRecord(name: "t", storage: try Tensor([1, 2, 3, 4], shape: [4]), storageOffset: 0,
                                                          shape: shape, strides: strides)], to: path)
        return path
    }

    @Test("pth [2^31, 2^31] with strides [0, 0]: refused, no overflow trap")
    func hugeBroadcastPTH() throws {
        let error = S.checkpointError { _ = try Checkpoint.load(path: try pth(shape: [1 << 31, 1 << 31], strides: [0, 0])) }
        guard case let .invalidTensor(name, reason) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(name == "t" && reason.contains("file"))
    }

    @Test("pth [40000, 40000] with strides [0, 0] in a tiny file: refused instead of a 6.4 GB copy")
    func largeBroadcastPTH() throws {
        let path = try pth(shape: [40000, 40000], strides: [0, 0])
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size < 2000)
        let error = S.checkpointError { _ = try Checkpoint.load(path: path) }
        guard case .invalidTensor(name: "t", _) = error else { Issue.record("\(String(describing: error))"); return }
    }

    @Test("A small broadcast view (torch expand) is still read")
    func smallBroadcastStillReads() throws {
        let checkpoint = try Checkpoint.load(path: try pth(shape: [3, 4], strides: [0, 1]))
        #expect(checkpoint.tensors["t"]?.floats() == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4])
    }

    static let absurdBlocks = ["blocks.9223372036854775807.ln1.weight", "blocks.1000000000.ln1.weight", "blocks.4096.ln1.weight",
                               "blocks.+1.ln1.weight", "blocks.-1.ln1.weight", "blocks.1e3.ln1.weight"]

    @Test("Absurd block index in a checkpoint: invalidConfig naming the tensor", arguments: absurdBlocks)
    func absurdBlockIndex(name: String) throws {
        let checkpoint = HostileInput.adding([name: try HostileInput.zeros([16])], to: try HostileInput.tinyV7())
        let field = HostileInput.invalidConfigField { _ = try RWKVModel(checkpoint: checkpoint) }
        #expect(field?.contains(name) == true)
    }

    @Test("Absurd block index survives .pth and safetensors round trips and is refused on load", arguments: ["pth", "safetensors"])
    func absurdBlockIndexInFiles(ext: String) throws {
        let name = "blocks.9223372036854775807.ln1.weight"
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("m.\(ext)").path
        try HostileInput.adding([name: try HostileInput.zeros([16])], to: try HostileInput.tinyV7()).write(to: path)
        HostileInput.invalidConfigField { _ = try RWKVModel.load(path: path) }
    }

    @Test("A missing middle layer is refused (indices must be contiguous)")
    func layerGap() throws {
        var tensors = try HostileInput.tinyV7().tensors
        tensors["blocks.5.ln1.weight"] = try HostileInput.zeros([16])
        let field = HostileInput.invalidConfigField { _ = try ModelConfig.detect(from: tensors) }
        #expect(field == "layers")
    }

    /// Every dimension equal to `from` replaced by `to` (a model of another width, all shapes consistent).
    func resized(_ checkpoint: Checkpoint, _ map: [Int: Int], rk: [Int]) throws -> Checkpoint {
        var out: [String: Tensor] = [:]
        for (name, t) in checkpoint.tensors {
            out[name] = try HostileInput.zeros(name.hasSuffix("att.r_k") ? rk : t.shape.map { map[$0] ?? $0 })
        }
        return Checkpoint(tensors: out)
    }

    @Test("v7 of width 0: refused before the model is built")
    func v7WidthZero() throws {
        let zeroWidth = try resized(try HostileInput.tinyV7(), [16: 0, 64: 0], rk: [1, 0])
        let field = HostileInput.invalidConfigField {
            let model = try RWKVModel(checkpoint: zeroWidth)
            var state = model.makeState()
            _ = try model.step(0, state: &state)
        }
        #expect(field?.contains("embedding") == true)
    }

    @Test("v6 with time_faaaa [0, 0]: refused (no division by zero in groupNorm)")
    func v6ZeroHeads() throws {
        let v6 = try Checkpoint.load(path: TestPaths.fixture("v6/v6-a.pth"))
        var tensors = v6.tensors
        for name in tensors.keys where name.hasSuffix("att.time_faaaa") { tensors[name] = try HostileInput.zeros([0, 0]) }
        let field = HostileInput.invalidConfigField {
            let model = try RWKVModel(checkpoint: Checkpoint(tensors: tensors))
            var state = model.makeState()
            _ = try model.step(0, state: &state)
        }
        #expect(field == "head count")
    }

    @Test("A vocabulary of 0 rows is refused (bench and sampling draw from 0..<V)")
    func vocabularyZero() throws {
        var tensors = try HostileInput.tinyV7().tensors
        tensors["emb.weight"] = try HostileInput.zeros([0, 16])
        tensors["head.weight"] = try HostileInput.zeros([0, 16])
        let field = HostileInput.invalidConfigField { _ = try RWKVModel(checkpoint: Checkpoint(tensors: tensors)) }
        #expect(field?.contains("vocabulary") == true)
    }

    @Test("A config built in Swift is validated by the model initialisers")
    func handBuiltConfig() throws {
        let tensors = try HostileInput.tinyV7().tensors
        var config = try ModelConfig.detect(from: tensors)
        config.headCount = 1 << 40
        HostileInput.invalidConfigField { _ = try RWKV7Model(tensors: tensors, config: config) }
        config = try ModelConfig.detect(from: tensors)
        config.layerCount = 1 << 62
        HostileInput.invalidConfigField { _ = try RWKV7Model(tensors: tensors, config: config) }
    }

    // MARK: GGUF

    func ggufError(_ builder: GGUFBuilder) throws -> CheckpointError? {
        let path = try S.temporaryFile(builder.bytes, name: "crafted.gguf")
        return S.checkpointError { _ = try Checkpoint.load(path: path).inOfficialLayout() }
    }

    @Test("GGUF dims [2^40, 2^40] (F32): refused, no overflow in count · 4")
    func ggufHugeDims() throws {
        var b = GGUFBuilder.rwkv7()
        b.header("blk.0.attn_norm.weight", dims: [1 << 40, 1 << 40], type: 0)
        guard case .invalidTensor(name: "blk.0.attn_norm.weight", _) = try ggufError(b) else { Issue.record("wrong error"); return }
    }

    @Test("GGUF Q8_0 dims [32, 2^40, 2^40]: refused, no overflow while describing the error")
    func ggufHugeQ8() throws {
        var b = GGUFBuilder.rwkv7()
        b.header("blk.0.time_mix_key.weight", dims: [32, 1 << 40, 1 << 40], type: 8)
        guard case .invalidTensor(name: "blk.0.time_mix_key.weight", _) = try ggufError(b) else { Issue.record("wrong error"); return }
        var small = GGUFBuilder.rwkv7()
        small.header("blk.0.time_mix_key.weight", dims: [32, 64], type: 8)   // plausible size, no data
        guard case .tensorOutOfRange = try ggufError(small) else { Issue.record("wrong error"); return }
    }

    @Test("GGUF head_size 0: refused, no division by zero", arguments: [UInt32(0), 1 << 20])
    func ggufHeadSize(headSize: UInt32) throws {
        var b = GGUFBuilder.rwkv7(headSize: headSize)
        b.f32("blk.0.time_mix_r_k", dims: [16])
        guard case let .malformedGGUF(reason) = try ggufError(b) else { Issue.record("wrong error"); return }
        #expect(reason.contains("rwkv7.wkv.head_size"))
    }

    @Test("GGUF blk.9223372036854775807: refused as a layer index")
    func ggufAbsurdBlock() throws {
        var b = GGUFBuilder.rwkv7()
        b.f32("blk.9223372036854775807.attn_norm.weight", dims: [16])
        let path = try S.temporaryFile(b.bytes, name: "crafted.gguf")
        let checkpoint = try Checkpoint.load(path: path).inOfficialLayout()
        HostileInput.invalidConfigField { _ = try ModelConfig.detect(from: checkpoint.tensors) }
    }
}

extension CheckpointCrasherTests {
    @Test("Empty tensors claiming a huge other dimension are refused (FuzzGGUF timeout: a 2^40-row empty transpose)")
    func emptyTensorWithHugeDimension() throws {
        var b = GGUFBuilder.rwkv7()
        b.header("blk.0.time_mix_a2.weight", dims: [0, 1 << 40], type: 0)
        guard case .invalidTensor(name: "blk.0.time_mix_a2.weight", _) = try ggufError(b) else { Issue.record("wrong error"); return }
        let pthError = S.checkpointError { _ = try Checkpoint.load(path: try pth(shape: [0, 1 << 40], strides: [1, 1])) }
        guard case .invalidTensor(name: "t", _) = pthError else { Issue.record("\(String(describing: pthError))"); return }
        #expect(try Tensor(dtype: .float32, shape: [1 << 40, 0], storage: ByteStorage.allocate(count: 0) { _ in }).transposed2D().shape == [0, 1 << 40])
    }
}
