// Checkpoint: named tensors plus string metadata, whatever file format they came from.

/// A set of named tensors read from (or to be written to) a checkpoint file.
public struct Checkpoint: Sendable {
    /// Tensors by their name in the file.
    public var tensors: [String: Tensor]
    /// Free-form string metadata (safetensors `__metadata__`; empty for `.pth`).
    public var metadata: [String: String]

    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }
}

extension Checkpoint {
    /// A copy whose floating-point tensors are converted to `dtype` (F32, F16 or BF16; rounding to
    /// nearest even). Integer tensors and tensors already in `dtype` are shared, not copied.
    ///
    /// Use it to shrink an fp32 checkpoint to bf16, or to widen bf16 weights for a float-only tool:
    /// ```swift
    /// try checkpoint.convertingFloats(to: .bfloat16).write(to: "model-bf16.safetensors")
    /// ```
    public func convertingFloats(to dtype: DType) throws -> Checkpoint {
        guard dtype.isFloatingPoint else {
            throw CheckpointError.unsupportedDType(name: "*", type: "\(dtype.rawValue) (conversion target must be F32, F16 or BF16)")
        }
        var converted = self
        for (name, tensor) in tensors where tensor.dtype.isFloatingPoint && tensor.dtype != dtype {
            converted.tensors[name] = try tensor.converted(to: dtype)
        }
        return converted
    }
}

extension Tensor {
    /// This tensor's values in another floating-point type, in new owned storage.
    func converted(to dtype: DType) throws -> Tensor {
        guard dtype.isFloatingPoint else { throw CheckpointError.unsupportedDType(name: "*", type: dtype.rawValue) }
        let values = floats()
        let storage = ByteStorage.allocate(count: values.count * dtype.byteSize) { dst in
            for (i, v) in values.enumerated() {
                switch dtype {
                case .float16: dst.storeBytes(of: floatToHalfBits(v).littleEndian, toByteOffset: i * 2, as: UInt16.self)
                case .bfloat16: dst.storeBytes(of: floatToBFloat16Bits(v).littleEndian, toByteOffset: i * 2, as: UInt16.self)
                default: dst.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
                }
            }
        }
        return try Tensor(dtype: dtype, shape: shape, storage: storage)
    }
}
