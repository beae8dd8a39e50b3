// llama.cpp's RWKV-6/7 tensor names and converter transforms, undone by the model layer (the GGUF reader
// returns the file's own names and metadata) (spec §2.5, §3.5): fused token-shift
// mixes split, low-rank factors transposed back, v6's time_mix_w2 permuted back and its fp16 rescale
// multiplied out (so the model runs without halving x every few layers), RWKV-7's dummy layer-0
// value-residual tensors dropped. Names may carry a `.weight` suffix or not; both are accepted.

extension GGUF {
    /// The official tensors of a GGUF checkpoint, by its `general.architecture`.
    static func officialTensors(_ t: [String: Tensor], metadata: [String: String]) throws -> [String: Tensor] {
        switch metadata["general.architecture"] {
        case "rwkv7": return try mapRWKV7(t, metadata: metadata)
        case "rwkv6": return try mapRWKV6(t, metadata: metadata)
        case let arch: throw fail("architecture '\(arch ?? "none")' is not RWKV-6 or RWKV-7")
        }
    }

    static func mapRWKV7(_ t: [String: Tensor], metadata: [String: String]) throws -> [String: Tensor] {
        let headSize = try checkedHeadSize(metadata, "rwkv7.wkv.head_size")
        var out = try mapCommon(t)
        for (name, tensor) in t {
            guard let (l, key) = blockKey(name) else { continue }
            let p = "blocks.\(l)."
            switch key {
            case "time_mix_lerp_fused":
                try split(tensor, into: ["r", "w", "k", "v", "a", "g"].map { p + "att.x_" + $0 }, &out)
            case "time_mix_w0", "time_mix_a0", "time_mix_v0", "time_mix_k_k", "time_mix_k_a":
                if l == 0 && key == "time_mix_v0" { continue }
                out[p + "att." + key.dropFirst(9)] = tensor
            case "time_mix_w1", "time_mix_w2", "time_mix_a1", "time_mix_a2", "time_mix_v1", "time_mix_v2", "time_mix_g1", "time_mix_g2":
                if l == 0 && key.hasPrefix("time_mix_v") { continue }   // llama.cpp writes copies of a1/a2 there
                out[p + "att." + key.dropFirst(9)] = try tensor.transposed2D()
            case "time_mix_r_k":
                out[p + "att.r_k"] = try tensor.reshaped([tensor.count / headSize, headSize])
            case "channel_mix_lerp_k": out[p + "ffn.x_k"] = tensor
            default: try mapLinearOrNorm(key, tensor, prefix: p, &out)
            }
        }
        return out
    }

    static func mapRWKV6(_ t: [String: Tensor], metadata: [String: String]) throws -> [String: Tensor] {
        let headSize = try checkedHeadSize(metadata, "rwkv6.wkv.head_size")
        let rescale = metadata["rwkv6.rescale_every_n_layers"].map { Int($0) ?? -1 } ?? 0
        guard (0...ModelConfig.maxLayers).contains(rescale) else {
            throw fail("rwkv6.rescale_every_n_layers is \(rescale), expected 0...\(ModelConfig.maxLayers)")
        }
        var out = try mapCommon(t)
        for (name, tensor) in t {
            guard let (l, key) = blockKey(name) else { continue }
            let p = "blocks.\(l)."
            switch key {
            case "time_mix_lerp_x": out[p + "att.time_maa_x"] = tensor
            case "time_mix_lerp_fused":
                try split(tensor, into: ["w", "k", "v", "r", "g"].map { p + "att.time_maa_" + $0 }, &out)
            case "time_mix_w1": out[p + "att.time_maa_w1"] = try tensor.transposed2D()
            case "time_mix_w2":
                // GGUF holds permute(0, 2, 1) of [5, Dm, C]: five [C, Dm] slices, each transposed back.
                guard tensor.shape.count == 3, tensor.shape[0] == 5 else {
                    throw ModelError.wrongShape(tensor: name, expected: [5, -1, -1], found: tensor.shape)
                }
                let slices = try (0..<tensor.shape[0]).map { s in
                    try slice(tensor, s).reshaped([tensor.shape[1], tensor.shape[2]]).transposed2D().floats()
                }
                out[p + "att.time_maa_w2"] = try Tensor(slices.flatMap { $0 }, shape: [tensor.shape[0], tensor.shape[2], tensor.shape[1]])
            case "time_mix_decay": out[p + "att.time_decay"] = tensor
            case "time_mix_decay_w1": out[p + "att.time_decay_w1"] = try tensor.transposed2D()
            case "time_mix_decay_w2": out[p + "att.time_decay_w2"] = try tensor.transposed2D()
            case "time_mix_first": out[p + "att.time_faaaa"] = try tensor.reshaped([tensor.count / headSize, headSize])
            case "channel_mix_lerp_k": out[p + "ffn.time_maa_k"] = tensor
            case "channel_mix_lerp_r": out[p + "ffn.time_maa_r"] = tensor
            default: try mapLinearOrNorm(key, tensor, prefix: p, &out)
            }
        }
        if rescale > 0 {
            for name in out.keys where name.hasSuffix("att.output.weight") || name.hasSuffix("ffn.value.weight") {
                guard let l = ModelConfig.blockIndex(name), l < ModelConfig.maxLayers, l / rescale > 0, let t = out[name] else { continue }
                let factor = Float(1 << (l / rescale))
                out[name] = try Tensor(t.floats().map { $0 * factor }, shape: t.shape)
            }
        }
        return out
    }

    /// The head size from `key` (default 64); it divides tensor sizes, so 0 or absurd values are refused.
    static func checkedHeadSize(_ metadata: [String: String], _ key: String) throws -> Int {
        guard let value = metadata[key] else { return 64 }
        guard let n = Int(value), (1...ModelConfig.maxHeadSize).contains(n) else {
            throw fail("\(key) is \(value), expected 1...\(ModelConfig.maxHeadSize) (64 for released RWKV-6/7 models)")
        }
        return n
    }

    /// Names outside the blocks.
    static func mapCommon(_ t: [String: Tensor]) throws -> [String: Tensor] {
        let names = ["token_embd.weight": "emb.weight", "token_embd_norm.weight": "blocks.0.ln0.weight",
                     "token_embd_norm.bias": "blocks.0.ln0.bias", "output_norm.weight": "ln_out.weight",
                     "output_norm.bias": "ln_out.bias", "output.weight": "head.weight"]
        var out: [String: Tensor] = [:]
        for (from, to) in names { if let x = t[from] { out[to] = x } }
        return out
    }

    /// Linear layers and norms shared by both versions.
    static func mapLinearOrNorm(_ key: String, _ tensor: Tensor, prefix p: String, _ out: inout [String: Tensor]) throws {
        let table = ["attn_norm": "ln1", "attn_norm_2": "ln2", "time_mix_ln": "att.ln_x",
                     "time_mix_receptance": "att.receptance", "time_mix_key": "att.key", "time_mix_value": "att.value",
                     "time_mix_gate": "att.gate", "time_mix_output": "att.output",
                     "channel_mix_key": "ffn.key", "channel_mix_value": "ffn.value", "channel_mix_receptance": "ffn.receptance"]
        for suffix in [".weight", ".bias"] where key.hasSuffix(suffix) {
            if let base = table[String(key.dropLast(suffix.count))] { out[p + base + suffix] = tensor; return }
        }
        // Unknown block tensors are kept under their GGUF name; model loading reports what is missing.
        out[p + "gguf." + key] = tensor
    }

    /// (layer, key without `.weight` for parameter-like tensors) of a `blk.N.*` name.
    static func blockKey(_ name: String) -> (Int, String)? {
        guard name.hasPrefix("blk.") else { return nil }
        let rest = name.dropFirst(4)
        guard let dot = rest.firstIndex(of: "."), let l = ModelConfig.decimalIndex(rest[..<dot]) else { return nil }
        var key = String(rest[rest.index(after: dot)...])
        let linear = ["_norm", "_norm_2", "_ln", "_receptance", "_key", "_value", "_gate", "_output"]
        if key.hasSuffix(".weight"), !linear.contains(where: { key.dropLast(7).hasSuffix($0) }) { key.removeLast(7) }
        return (l, key)
    }

    /// Slice `i` of the first axis of `t`, as a new tensor.
    static func slice(_ t: Tensor, _ i: Int) throws -> Tensor {
        let inner = t.count / max(t.shape[0], 1)
        return try Tensor(dtype: t.dtype, shape: Array(t.shape.dropFirst()), storage: t.storage,
                          byteOffset: t.byteOffset + i * inner * t.dtype.byteSize)
    }

    /// A stacked [n, …, C] tensor split into n official [1, 1, C] tensors.
    static func split(_ t: Tensor, into names: [String], _ out: inout [String: Tensor]) throws {
        guard t.shape.first == names.count else {
            throw ModelError.wrongShape(tensor: names.first ?? "", expected: [names.count, -1], found: t.shape)
        }
        let c = t.count / names.count
        for (i, name) in names.enumerated() { out[name] = try slice(t, i).reshaped([1, 1, c]) }
    }
}
