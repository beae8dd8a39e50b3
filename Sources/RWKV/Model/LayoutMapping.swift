// Other on-disk layouts of the same weights, mapped to the official names on load (spec §2.5, §3.4).
//
// Hugging Face `RWKV/v6-Finch-*-HF` files rename the tensors (`rwkv.blocks.N.attention.…`); fla-hub
// RWKV-7 files rename them and store the low-rank factors transposed; Hugging Face RWKV-7 files
// (`RWKV/RWKV7-*`, transformers `Rwkv7`) are mapped in HFRWKV7Layout.swift, llama.cpp's GGUF names in
// GGUFMapping.swift. Everything downstream (model
// detection, `rwkv convert`) sees only the official layout. Layouts are told apart by tensor names only.

import Foundation

/// The naming scheme a tensor set uses.
public enum WeightLayout: String, Sendable {
    case official
    case huggingFaceV6 = "hf-v6"
    case flaV7 = "fla-v7"
    case huggingFaceV7 = "hf-v7"
    case gguf

    /// Guesses the layout from the tensor names. `model.embeddings.weight` alone is fla's (the rwkv-rs
    /// transformers port uses it too, with `model.blocks.`), and torchtitan's HF names share fla's
    /// `model.layers.` prefix, so a name decides only when it belongs to one layout.
    public static func detect(_ names: some Sequence<String>) -> WeightLayout {
        var fla = false
        for name in names {
            if name == "token_embd.weight" || name.hasPrefix("blk.") { return .gguf }
            if name.hasPrefix("rwkv.blocks.") || name == "rwkv.embeddings.weight" { return .huggingFaceV6 }
            if HFRWKV7Names.isHFRWKV7(name) { return .huggingFaceV7 }
            if name.hasPrefix("model.layers.") || name == "model.embeddings.weight" { fla = true }
        }
        return fla ? .flaV7 : .official
    }
}

extension Checkpoint {
    /// The same tensors under official names (a no-op for official files).
    public func inOfficialLayout() throws -> Checkpoint {
        switch WeightLayout.detect(tensors.keys) {
        case .official: return self
        case .huggingFaceV6: return Checkpoint(tensors: try mapHuggingFaceV6(tensors), metadata: metadata)
        case .flaV7: return Checkpoint(tensors: try mapFlaV7(tensors), metadata: metadata)
        case .huggingFaceV7: return try mapHuggingFaceV7()
        case .gguf: return Checkpoint(tensors: try GGUF.officialTensors(tensors, metadata: metadata), metadata: metadata)
        }
    }
}

/// HF v6: pure renames, shapes identical to the `.pth`.
private func mapHuggingFaceV6(_ t: [String: Tensor]) throws -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    for (name, tensor) in t {
        var n = name
        if n.hasPrefix("rwkv.") { n.removeFirst(5) }
        n = n.replacingPrefix("embeddings.", with: "emb.")
        n = n.replacingOccurrence(".pre_ln.", with: ".ln0.")
        n = n.replacingOccurrence(".attention.", with: ".att.")
        n = n.replacingOccurrence(".feed_forward.", with: ".ffn.")
        out[n] = tensor
    }
    return out
}

/// fla-hub v7: renames, LoRA factors transposed back, biases of the LoRA pairs become w0/a0/v0.
private func mapFlaV7(_ t: [String: Tensor]) throws -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    for (name, tensor) in t {
        if name == "model.embeddings.weight" { out["emb.weight"] = tensor; continue }
        if name.hasPrefix("model.norm.") { out["ln_out." + name.dropFirst("model.norm.".count)] = tensor; continue }
        if name == "lm_head.weight" { out["head.weight"] = tensor; continue }
        guard name.hasPrefix("model.layers.") else { out[name] = tensor; continue }
        let rest = name.dropFirst("model.layers.".count)
        guard let dot = rest.firstIndex(of: ".") else { out[name] = tensor; continue }
        let layer = rest[..<dot], key = String(rest[rest.index(after: dot)...])
        let p = "blocks.\(layer)."
        switch key {
        case let k where k.hasPrefix("pre_norm."): out[p + "ln0." + k.dropFirst(9)] = tensor
        case let k where k.hasPrefix("attn_norm."): out[p + "ln1." + k.dropFirst(10)] = tensor
        case let k where k.hasPrefix("ffn_norm."): out[p + "ln2." + k.dropFirst(9)] = tensor
        case let k where k.hasPrefix("attn.g_norm."): out[p + "att.ln_x." + k.dropFirst(12)] = tensor
        case "attn.x_x":
            // Very old fla files stack the six mixes as [6, C] in the order r, w, k, v, a, g.
            guard tensor.shape.count == 2, tensor.shape[0] == 6 else {
                throw ModelError.wrongShape(tensor: name, expected: [6, -1], found: tensor.shape)
            }
            let c = tensor.shape[1]
            for (i, m) in ["r", "w", "k", "v", "a", "g"].enumerated() {
                out[p + "att.x_" + m] = try Tensor(dtype: tensor.dtype, shape: [1, 1, c], storage: tensor.storage,
                                                   byteOffset: tensor.byteOffset + i * c * tensor.dtype.byteSize)
            }
        case let k where k.hasSuffix("_lora.lora.2.bias"):
            out[p + "att." + k.dropFirst(5).prefix(1) + "0"] = tensor                             // w0, a0, v0
        case let k where k.hasSuffix("_lora.lora.0.weight"):
            out[p + "att." + k.dropFirst(5).prefix(1) + "1"] = try tensor.transposed2D()   // [D,C] → [C,D]
        case let k where k.hasSuffix("_lora.lora.2.weight"):
            out[p + "att." + k.dropFirst(5).prefix(1) + "2"] = try tensor.transposed2D()   // [C,D] → [D,C]
        case let k where k.hasPrefix("attn."):
            let projections = ["r_proj": "receptance", "k_proj": "key", "v_proj": "value", "o_proj": "output"]
            var sub = String(k.dropFirst(5))
            for (from, to) in projections where sub.hasPrefix(from + ".") { sub = to + sub.dropFirst(from.count) }
            out[p + "att." + sub] = tensor
        default:
            out[p + key] = tensor                                                         // ffn.x_k, ffn.key/value
        }
    }
    return out
}

extension Tensor {
    /// A copy with the two axes of a matrix swapped (same dtype, owned storage).
    public func transposed2D() throws -> Tensor {
        guard shape.count == 2 else { throw TensorError.badShape(shape) }
        let (r, c, e) = (shape[0], shape[1], dtype.byteSize)
        // An empty matrix may still claim a huge other axis; there is nothing to copy.
        if r == 0 || c == 0 { return try Tensor(dtype: dtype, shape: [c, r], storage: ByteStorage.allocate(count: 0) { _ in }) }
        let src = rawBytes
        let storage = ByteStorage.allocate(count: byteCount) { dst in
            for i in 0..<r {
                for j in 0..<c {
                    for b in 0..<e { dst[(j * r + i) * e + b] = src[(i * c + j) * e + b] }
                }
            }
        }
        return try Tensor(dtype: dtype, shape: [c, r], storage: storage)
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with new: String) -> String {
        hasPrefix(prefix) ? new + dropFirst(prefix.count) : self
    }

    func replacingOccurrence(_ target: String, with new: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: new)
    }
}
