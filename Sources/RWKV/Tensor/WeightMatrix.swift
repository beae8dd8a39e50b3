// WeightMatrix: a (rows, cols) weight matrix in one of the `WeightFormat`s, viewing bytes it does not
// necessarily own.
//
// Built from a checkpoint tensor it points straight into the tensor's storage (an mmap'd file), so
// f32/f16/bf16 weights are never copied; quantising or converting writes one new owned buffer.
// Products live in Kernels/WeightProduct.swift.

import CRWKVKernels

/// A row-major weight matrix stored as f32, f16, bf16, Q8_0 or Q4_0.
///
/// Row r occupies `rowBytes` bytes starting at `byteOffset + r·rowBytes` inside `storage`.
/// Quantised formats need `cols` to be a multiple of 32 (whole blocks per row); there is no padded
/// fallback, the initialisers throw `WeightError.partialBlock` instead.
public struct WeightMatrix: Sendable {
    public let rows: Int
    public let cols: Int
    public let format: WeightFormat
    /// Bytes the matrix lives in (shared with the checkpoint for zero-copy views).
    public let storage: ByteStorage
    /// Offset of row 0 inside `storage`, in bytes.
    public let byteOffset: Int

    /// Bytes per row.
    public var rowBytes: Int { RWKV.rowBytes(format, cols) }
    /// Bytes of the whole matrix: what one product streams from memory.
    public var byteCount: Int { rows * rowBytes }
    /// First byte of row 0.
    public var baseAddress: UnsafeRawPointer { storage.base + byteOffset }

    /// A zero-copy view of a 2-D F32, F16 or BF16 tensor ([rows, cols]).
    public init(tensor: Tensor) throws {
        guard tensor.shape.count == 2 else { throw WeightError.notAMatrix(shape: tensor.shape) }
        guard let format = WeightFormat(dtype: tensor.dtype) else { throw WeightError.unsupportedDType(tensor.dtype) }
        self.rows = tensor.shape[0]
        self.cols = tensor.shape[1]
        self.format = format
        self.storage = tensor.storage
        self.byteOffset = tensor.byteOffset
    }

    /// A view of `rows × cols` elements already stored in `format` at `byteOffset` of `storage`
    /// (e.g. a Q8_0 tensor inside a GGUF file). Throws if the rows are not whole blocks or the
    /// bytes run past the storage.
    public init(rows: Int, cols: Int, format: WeightFormat, storage: ByteStorage, byteOffset: Int) throws {
        guard rows >= 0, cols >= 0 else { throw WeightError.notAMatrix(shape: [rows, cols]) }
        guard cols % format.blockLength == 0 else { throw WeightError.partialBlock(format: format, cols: cols) }
        let (bytes, overflow) = rows.multipliedReportingOverflow(by: RWKV.rowBytes(format, cols))
        guard !overflow, byteOffset >= 0, byteOffset <= storage.count, bytes <= storage.count - byteOffset else {
            throw TensorError.outOfBounds(offset: byteOffset, byteCount: overflow ? Int.max : bytes, storageBytes: storage.count)
        }
        self.rows = rows
        self.cols = cols
        self.format = format
        self.storage = storage
        self.byteOffset = byteOffset
    }

    /// `tensor` (2-D, F32/F16/BF16) in `format`: a zero-copy view when the dtype already matches,
    /// otherwise converted or quantised row by row into a new owned buffer.
    public init(quantizing tensor: Tensor, to format: WeightFormat) throws {
        let view = try WeightMatrix(tensor: tensor)
        if view.format == format {
            self = view
            return
        }
        let (rows, cols) = (view.rows, view.cols)
        try self.init(rows: rows, cols: cols, format: format) { r, buffer in view.row(r, into: buffer) }
    }

    /// An fp32 `Matrix` in `format` (always a new owned buffer).
    public init(quantizing matrix: Matrix, to format: WeightFormat) throws {
        try self.init(rows: matrix.rows, cols: matrix.cols, format: format) { r, buffer in
            matrix.data.withUnsafeBufferPointer { d in
                _ = buffer.update(fromContentsOf: UnsafeBufferPointer(rebasing: d[(r * matrix.cols)..<((r + 1) * matrix.cols)]))
            }
        }
    }

    /// Encodes rows produced one at a time by `row(r, buffer)` into a new buffer.
    private init(rows: Int, cols: Int, format: WeightFormat,
                 row: (Int, UnsafeMutableBufferPointer<Float>) -> Void) throws {
        guard cols % format.blockLength == 0 else { throw WeightError.partialBlock(format: format, cols: cols) }
        let stride = RWKV.rowBytes(format, cols)
        let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(cols, 1))
        defer { scratch.deallocate() }
        let values = UnsafeMutableBufferPointer(rebasing: scratch[0..<cols])
        self.storage = ByteStorage.allocate(count: rows * stride) { out in
            guard let base = out.baseAddress else { return }
            for r in 0..<rows {
                row(r, values)
                encodeRow(UnsafeBufferPointer(values), format: format, into: base + r * stride)
            }
        }
        self.rows = rows
        self.cols = cols
        self.format = format
        self.byteOffset = 0
    }

    /// Decodes row `r` (e.g. an embedding lookup) into `out` (at least `cols` floats).
    public func row(_ r: Int, into out: UnsafeMutableBufferPointer<Float>) {
        let row = baseAddress + r * rowBytes
        if KernelPath.automatic == .native, let o = out.baseAddress {
            rwkv_decode_row(format.nativeCode, row, cols, o)
            return
        }
        switch format {
        case .f32: decodeRow(DecodeF32.self, row, out)
        case .f16: decodeRow(DecodeF16.self, row, out)
        case .bf16: decodeRow(DecodeBF16.self, row, out)
        case .q8_0: decodeRow(DecodeQ8_0.self, row, out)
        case .q4_0: decodeRow(DecodeQ4_0.self, row, out)
        }
    }

    /// Element (r, c), decoded with scalar code.
    public func element(_ r: Int, _ c: Int) -> Float {
        let row = baseAddress + r * rowBytes
        switch format {
        case .f32: return DecodeF32.scalar(row, c)
        case .f16: return DecodeF16.scalar(row, c)
        case .bf16: return DecodeBF16.scalar(row, c)
        case .q8_0: return DecodeQ8_0.scalar(row, c)
        case .q4_0: return DecodeQ4_0.scalar(row, c)
        }
    }

    private func decodeRow<D: WeightDecoder>(_: D.Type, _ row: UnsafeRawPointer, _ out: UnsafeMutableBufferPointer<Float>) {
        for c in 0..<cols { out[c] = D.scalar(row, c) }
    }
}
