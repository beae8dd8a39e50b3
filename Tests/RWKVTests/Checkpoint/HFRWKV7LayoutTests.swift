// The other Hugging Face RWKV-7 namings (rwkv-rs transformers port, chinoll's port, torchtitan's HF adapter)
// map to exactly the official tensors; tied heads, folded embeddings and name clashes are handled.

import Foundation
import Testing
@testable import RWKV

@Suite struct HFRWKV7LayoutTests {
    typealias Rename = (String, Tensor) throws -> (String, Tensor)?

    static let official: [String: Tensor] = (try? Checkpoint.load(path: TestPaths.fixture("v7/v7-a.pth")).tensors) ?? [:]
    static let layer0Residual: Set = ["blocks.0.att.v0", "blocks.0.att.v1", "blocks.0.att.v2"]

    /// rwkv-rs/transformers-rwkv: `model.` base, `embeddings`, LoRA factors as nn.Linear weights, no layer-0 v*.
    static func rwkvRS(_ name: String, _ t: Tensor) throws -> (String, Tensor)? {
        if layer0Residual.contains(name) { return nil }
        if name == "head.weight" { return (name, t) }
        if name == "emb.weight" { return ("model.embeddings.weight", t) }
        let parts = name.split(separator: ".")
        if parts.count == 4, parts[2] == "att", parts[3].count == 2, "wavg".contains(parts[3].first!), "12".contains(parts[3].last!) {
            return ("model.\(name).weight", try t.transposed2D())
        }
        return ("model." + name, t)
    }

    /// chinoll/transformers: `rwkv7.` base, `embeddings`, `pre_ln`, `attention`, `feed_forward`.
    static func chinoll(_ name: String, _ t: Tensor) throws -> (String, Tensor)? {
        if name == "head.weight" { return (name, t) }
        let n = name.replacingOccurrences(of: "emb.", with: "embeddings.").replacingOccurrences(of: ".ln0.", with: ".pre_ln.")
            .replacingOccurrences(of: ".att.", with: ".attention.").replacingOccurrences(of: ".ffn.", with: ".feed_forward.")
        return ("rwkv7." + n, t)
    }

    /// rwkv-rs/torchtitan-rwkv's HF names: Qwen-style blocks, fla-style projections, no layer-0 v*.
    static func torchtitan(_ name: String, _ t: Tensor) throws -> (String, Tensor)? {
        if layer0Residual.contains(name) { return nil }
        let top = ["emb.weight": "model.embed_tokens.weight", "head.weight": "lm_head.weight",
                   "ln_out.weight": "model.norm.weight", "ln_out.bias": "model.norm.bias",
                   "blocks.0.ln0.weight": "model.embedding_norm.weight", "blocks.0.ln0.bias": "model.embedding_norm.bias"]
        if let n = top[name] { return (n, t) }
        var n = name.replacingOccurrences(of: "blocks.", with: "model.layers.")
        for (a, b) in [(".ln1.", ".input_layernorm."), (".ln2.", ".post_attention_layernorm."), (".att.receptance.", ".att.r_proj."),
                       (".att.key.", ".att.k_proj."), (".att.value.", ".att.v_proj."), (".att.output.", ".att.o_proj."),
                       (".att.ln_x.", ".att.g_norm."), (".att.", ".linear_attn."), (".ffn.", ".mlp.")] {
            n = n.replacingOccurrences(of: a, with: b)
        }
        return (n, t)
    }

    @Test(arguments: [("rwkv-rs", true), ("chinoll", false), ("torchtitan", true)])
    func variantMapsToTheOfficialTensors(variant: String, dropsLayer0Residual: Bool) throws {
        let rename: Rename
        switch variant {
        case "rwkv-rs": rename = Self.rwkvRS
        case "chinoll": rename = Self.chinoll
        default: rename = Self.torchtitan
        }
        var foreign: [String: Tensor] = [:]
        for (name, t) in Self.official { if let r = try rename(name, t) { foreign[r.0] = r.1 } }
        #expect(WeightLayout.detect(foreign.keys) == .huggingFaceV7)
        let mapped = try Checkpoint(tensors: foreign).inOfficialLayout().tensors
        let expected = Self.official.filter { !dropsLayer0Residual || !Self.layer0Residual.contains($0.key) }
        #expect(Set(mapped.keys) == Set(expected.keys), "\(Set(mapped.keys).symmetricDifference(expected.keys).sorted())")
        for (name, t) in expected {
            guard let m = mapped[name] else { continue }
            #expect(m.shape.filter { $0 != 1 } == t.shape.filter { $0 != 1 }, "\(name): \(m.shape) vs \(t.shape)")
            #expect(m.rawBytes.elementsEqual(t.rawBytes), "\(name) bytes differ")
        }
        // The model builds from it (layer-0 v* unused) and agrees with the official one.
        let a = try RWKVModel(checkpoint: Checkpoint(tensors: foreign)), b = try RWKVModel(checkpoint: Checkpoint(tensors: Self.official))
        var sa = a.makeState(), sb = b.makeState()
        #expect(try a.forward([1, 2, 3], state: &sa).data == b.forward([1, 2, 3], state: &sb).data)
    }

    @Test func detectionDoesNotDependOnNameOrder() {
        for names in [["model.embeddings.weight", "model.blocks.0.ln1.weight"], ["model.blocks.0.ln1.weight", "model.embeddings.weight"],
                      ["model.layers.0.attn_norm.weight", "model.layers.0.linear_attn.x_r"], ["model.layers.0.mlp.x_k", "model.embeddings.weight"]] {
            #expect(WeightLayout.detect(names) == .huggingFaceV7, "\(names)")
        }
        #expect(WeightLayout.detect(["model.embeddings.weight", "model.layers.0.attn.x_r"]) == .flaV7)
        #expect(WeightLayout.detect(["emb.weight", "blocks.0.att.x_r"]) == .official)
    }

    @Test func tiedHeadIsTheEmbedding() throws {
        var tensors = Dictionary(uniqueKeysWithValues: Self.official.map { ("rwkv7." + $0.key, $0.value) })
        tensors["rwkv7.head.weight"] = nil
        let untied = try Checkpoint(tensors: tensors).inOfficialLayout()
        #expect(untied.tensors["head.weight"] == nil)
        let tied = try Checkpoint(tensors: tensors, metadata: ["config.tie_word_embeddings": "true"]).inOfficialLayout()
        #expect(tied.tensors["head.weight"]?.rawBytes.elementsEqual(Self.official["emb.weight"]!.rawBytes) == true)
    }

    @Test func foldedEmbeddingAndClashingNamesAreRefused() throws {
        let emb = try #require(Self.official["emb.weight"])
        let folded = Checkpoint(tensors: ["rwkv7.emb.weight": emb], metadata: ["config.embedding_layer_norm_fused": "true"])
        #expect(throws: ModelError.self) { try folded.inOfficialLayout() }
        let clash = Checkpoint(tensors: ["rwkv7.emb.weight": emb, "rwkv7.embeddings.weight": emb])
        #expect(throws: ModelError.unrecognised(detail: "'rwkv7.emb.weight' and 'rwkv7.embeddings.weight' are both emb.weight")) {
            try clash.inOfficialLayout()
        }
    }

    @Test(arguments: [("rwkv7.blocks.12.att.g2", "blocks.12.att.g2", false), ("model.blocks.3.att.w1.weight", "blocks.3.att.w1", true),
                      ("rwkv7.blocks.1.ffn.key.weight", "blocks.1.ffn.key.weight", false),
                      ("model.layers.2.linear_attn.g_norm.bias", "blocks.2.att.ln_x.bias", false),
                      ("rwkv7.blocks.x.att.w1", "rwkv7.blocks.x.att.w1", false), ("rwkv7.blocks.0.mystery.w", "rwkv7.blocks.0.mystery.w", false)])
    func singleNames(hf: String, official: String, transposed: Bool) {
        let (name, t) = hfV7OfficialName(hf)
        #expect(name == official && t == transposed)
    }
}
