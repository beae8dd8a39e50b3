// Hugging Face-format RWKV-7 (`RWKV/RWKV7-*-20260805`: config.json + sharded safetensors) → official names.
//
// Sources (read for facts only): huggingface/transformers `models/rwkv7` (modeling_rwkv7.py,
// configuration_rwkv7.py, convert_rwkv7_checkpoint_to_hf.py; issue #46983) keeps the reference names under
// `rwkv7.` with `head.weight` at the top, same shapes, no transposes, layer-0 v0/v1/v2 kept, ln_x a
// GroupNorm(H, C) — a prefix rename, which is what the committed fixture uses. Its model page
// (docs/source/en/model_doc/rwkv7.md) says the `RWKV/RWKV7-*-20260805` repositories load into it unconverted
// and their config.json maps onto Rwkv7Config key for key. Other candidate ports differ and are accepted too,
// since names tell them apart:
//   rwkv-rs/transformers-rwkv: `rwkv7.embeddings.weight` or a `model.` base prefix (`model.blocks.N…`), LoRA
//     factors as nn.Linear `att.w1.weight` [D,C] / `att.w2.weight` [C,D] (transposed back here), layer-0 v*
//     dropped, optionally `embedding_layer_norm_fused` (ln0 folded into emb: refused, pip cannot express it);
//   chinoll/transformers: `blocks.0.pre_ln`, `attention`, `feed_forward` (as Hugging Face v6);
//   rwkv-rs/torchtitan-rwkv's HF adapter: `model.embed_tokens`, `model.embedding_norm` (ln0),
//     `model.layers.N.{input_layernorm, post_attention_layernorm, linear_attn.*, mlp.*}`, `model.norm`,
//     `lm_head`; `linear_attn.{r,k,v,o}_proj` and `g_norm` as fla, vectors stored as [C], no transposes.
// A missing `head.weight` is the embedding when `config.tie_word_embeddings` is true (tied weights are saved once).
// Uncertain: no 20260805 file could be downloaded here to confirm the names. transformers' GroupNorm eps is
// head_dim × norm_eps, equal to pip's fixed 64e-5 (what we compute) only for head size 64, as in all of them.

/// Names that only the Hugging Face RWKV-7 layouts use.
enum HFRWKV7Names {
    static func isHFRWKV7(_ name: String) -> Bool {
        name.hasPrefix("rwkv7.") || name.hasPrefix("model.blocks.") || name == "model.embed_tokens.weight"
            || name.hasPrefix("model.embedding_norm.")
            || (name.hasPrefix("model.layers.") && torchtitanParts.keys.contains { name.contains(".\($0).") })
    }

    /// torchtitan block parts → official ones (`linear_attn` sub-names handled separately).
    static let torchtitanParts = ["input_layernorm": "ln1", "post_attention_layernorm": "ln2", "linear_attn": "att", "mlp": "ffn"]
    /// transformers-port block parts → official ones.
    static let blockParts = ["ln0": "ln0", "pre_ln": "ln0", "ln1": "ln1", "ln2": "ln2",
                             "att": "att", "attention": "att", "ffn": "ffn", "feed_forward": "ffn"]
    /// fla-style projection names inside torchtitan's `linear_attn`.
    static let projections = ["r_proj": "receptance", "k_proj": "key", "v_proj": "value", "o_proj": "output", "g_norm": "ln_x"]
}

extension Checkpoint {
    /// Official names for a Hugging Face RWKV-7 tensor set; `config.*` metadata (from config.json) is consumed.
    func mapHuggingFaceV7() throws -> Checkpoint {
        let config = metadata.filter { $0.key.hasPrefix("config.") }
        if config["config.embedding_layer_norm_fused"] == "true" || config["config.deep_embedding"] == "true" {
            throw ModelError.unsupportedVersion(.v7, detail: "this Hugging Face file has blocks.0.ln0 folded into the embedding (config embedding_layer_norm_fused); the official layout cannot express that")
        }
        var out: [String: Tensor] = [:], source: [String: String] = [:]
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            let (official, transpose) = hfV7OfficialName(name)
            if let other = source[official] {
                throw ModelError.unrecognised(detail: "'\(other)' and '\(name)' are both \(official)")
            }
            source[official] = name
            out[official] = transpose ? try tensor.transposed2D() : tensor
        }
        if config["config.tie_word_embeddings"] == "true", let emb = out["emb.weight"] { out["head.weight"] = emb }
        return Checkpoint(tensors: out, metadata: metadata.filter { !$0.key.hasPrefix("config.") })
    }
}

/// The official name of one Hugging Face RWKV-7 tensor, and whether its matrix must be transposed.
/// Names it does not know are kept, so the model layer reports them.
func hfV7OfficialName(_ name: String) -> (String, transpose: Bool) {
    let top = ["model.embed_tokens.weight": "emb.weight", "lm_head.weight": "head.weight", "head.weight": "head.weight"]
    if let t = top[name] { return (t, false) }
    if name.hasPrefix("model.embedding_norm.") { return ("blocks.0.ln0." + name.dropFirst("model.embedding_norm.".count), false) }
    if name.hasPrefix("model.layers.") { return (torchtitanBlockName(name) ?? name, false) }
    if name.hasPrefix("model.norm.") { return ("ln_out." + name.dropFirst("model.norm.".count), false) }

    var n = Substring(name)
    for base in ["rwkv7.", "model."] where n.hasPrefix(base) { n = n.dropFirst(base.count); break }
    if n == "emb.weight" || n == "embeddings.weight" { return ("emb.weight", false) }
    if n.hasPrefix("ln_out.") { return (String(n), false) }
    guard n.hasPrefix("blocks."), case let (layer, part, key)? = splitBlock(n.dropFirst(7)),
          let official = HFRWKV7Names.blockParts[String(part)] else { return (name, false) }
    // nn.Linear LoRA factors (`w1.weight` [D,C]) are the transposes of the reference's raw `w1` [C,D].
    if official == "att", key.count == 9, key.hasSuffix(".weight"), let kind = key.first, "wavg".contains(kind),
       let slot = key.dropFirst().first, slot == "1" || slot == "2" {
        return ("blocks.\(layer).att.\(kind)\(slot)", true)
    }
    return ("blocks.\(layer).\(official).\(key)", false)
}

/// `model.layers.N.<part>.<key>` in torchtitan's names → official, or nil when the part is unknown.
private func torchtitanBlockName(_ name: String) -> String? {
    guard case let (layer, part, key)? = splitBlock(name.dropFirst("model.layers.".count)),
          let official = HFRWKV7Names.torchtitanParts[String(part)] else { return nil }
    var k = String(key)
    if official == "att", let dot = k.firstIndex(of: "."), let p = HFRWKV7Names.projections[String(k[..<dot])] {
        k = p + k[dot...]
    }
    return "blocks.\(layer).\(official).\(k)"
}

/// `N.part.rest` → (N, part, rest), with N all digits.
private func splitBlock(_ s: Substring) -> (Substring, Substring, Substring)? {
    let pieces = s.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
    guard pieces.count == 3, !pieces[0].isEmpty, pieces[0].allSatisfy({ $0.isASCII && $0.isNumber }), !pieces[2].isEmpty else { return nil }
    return (pieces[0], pieces[1], pieces[2])
}
