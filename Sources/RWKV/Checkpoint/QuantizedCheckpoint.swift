// Quantised checkpoints: the large matrices stored as GGUF-style Q8_0 / Q4_0 blocks in safetensors.
//
// A quantised matrix of logical shape (rows, cols) is stored as a U8 tensor of shape
// (rows, cols/32 · blockBytes) under its usual name: 34 bytes per block for Q8_0, 18 for Q4_0, so the
// stored width says which format it is, and loading views the bytes in place (no dequantisation).
// Metadata `rwkv.weights` names the format for people and tools. Small tensors stay float.

/// Which tensors of an official-layout checkpoint are "large matrices" worth quantising.
public func isQuantizableMatrix(_ name: String) -> Bool {
    let suffixes = ["att.receptance.weight", "att.key.weight", "att.value.weight", "att.output.weight", "att.gate.weight",
                    "ffn.key.weight", "ffn.value.weight", "ffn.receptance.weight"]
    return name == "head.weight" || suffixes.contains { name.hasSuffix(suffixes: $0) }
}

private extension String {
    func hasSuffix(suffixes s: String) -> Bool { hasSuffix("." + s) }
}

extension Checkpoint {
    /// A copy whose large matrices (whole 32-element blocks per row) are quantised to `format`.
    public func quantized(to format: WeightFormat) throws -> Checkpoint {
        guard format.isQuantized else { return try convertingFloats(to: format.dtype) }
        var out = self
        for (name, tensor) in tensors where isQuantizableMatrix(name) && tensor.shape.count == 2 && tensor.shape[1] % format.blockLength == 0 {
            let m = try WeightMatrix(quantizing: tensor, to: format)
            out.tensors[name] = try Tensor(dtype: .uint8, shape: [m.rows, m.rowBytes], storage: m.storage, byteOffset: m.byteOffset)
        }
        out.metadata["rwkv.weights"] = format.rawValue
        return out
    }
}

extension WeightFormat {
    /// The tensor dtype of a float format (quantised formats are stored as bytes).
    var dtype: DType {
        switch self {
        case .f32: return .float32
        case .f16: return .float16
        case .bf16: return .bfloat16
        case .q8_0, .q4_0: return .uint8
        }
    }

    /// The quantised format whose rows of `cols` elements take `storedWidth` bytes, if any.
    static func quantized(cols: Int, storedWidth: Int) -> WeightFormat? {
        [WeightFormat.q8_0, .q4_0].first { cols % $0.blockLength == 0 && cols / $0.blockLength * $0.blockBytes == storedWidth }
    }
}
