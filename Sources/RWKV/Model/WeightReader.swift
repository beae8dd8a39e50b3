// Fetches named tensors as fp32 with their shapes checked, so each model file can state its weights
// in one line each and every shape problem names the tensor, the expected and the found shape.

struct WeightReader {
    let tensors: [String: Tensor]

    func tensor(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else { throw ModelError.missingTensor(name) }
        guard t.dtype.isFloatingPoint else {
            throw ModelError.unrecognised(detail: "tensor '\(name)' has integer type \(t.dtype.rawValue)")
        }
        return t
    }

    /// A length-n vector; any shape whose dimensions other than one of them are 1 is accepted ([1,1,C] → [C]).
    func vector(_ name: String, _ n: Int) throws -> [Float] {
        let t = try tensor(name)
        let squeezed = t.shape.filter { $0 != 1 }
        guard t.count == n, squeezed.count <= 1 else { throw ModelError.wrongShape(tensor: name, expected: [n], found: t.shape) }
        return t.floats()
    }

    /// A tensor of exactly `shape`, flattened row-major.
    func exact(_ name: String, _ shape: [Int]) throws -> [Float] {
        let t = try tensor(name)
        guard t.shape == shape else { throw ModelError.wrongShape(tensor: name, expected: shape, found: t.shape) }
        return t.floats()
    }

    /// A large (rows, cols) weight in `format`, or in the file's dtype when `format` is nil (then a
    /// zero-copy view of the checkpoint's bytes). A block-quantised format is only applied when the
    /// rows are whole blocks (cols a multiple of 32); other matrices keep the file's dtype.
    func weights(_ name: String, _ rows: Int, _ cols: Int, format: WeightFormat?) throws -> WeightMatrix {
        // Already quantised (QuantizedCheckpoint.swift): U8 rows of blocks, viewed in place. A requested
        // format does not re-quantise them (that would only add error).
        if let q = tensors[name], q.dtype == .uint8, q.shape.count == 2, q.shape[0] == rows,
           let stored = WeightFormat.quantized(cols: cols, storedWidth: q.shape[1]) {
            let m = try WeightMatrix(rows: rows, cols: cols, format: stored, storage: q.storage, byteOffset: q.byteOffset)
            return m
        }
        let t = try tensor(name)
        guard t.shape == [rows, cols] else { throw ModelError.wrongShape(tensor: name, expected: [rows, cols], found: t.shape) }
        guard var target = format ?? WeightFormat(dtype: t.dtype) else {
            throw ModelError.unrecognised(detail: "tensor '\(name)' has dtype \(t.dtype.rawValue), expected a float type")
        }
        if cols % target.blockLength != 0, let own = WeightFormat(dtype: t.dtype) { target = own }
        return try WeightMatrix(quantizing: t, to: target)
    }

    /// A (rows, cols) matrix stored exactly with that shape.
    func matrix(_ name: String, _ rows: Int, _ cols: Int) throws -> Matrix {
        Matrix(rows: rows, cols: cols, data: try exact(name, [rows, cols]))
    }
}
