import Testing
@testable import RWKV

/// Weight formats: byte layouts, quantisation error, zero-copy views, and every product kernel
/// against its scalar twin on ragged sizes, token counts 1…9 and 16…21 (staged tiles), and one or two threads.
@Suite struct WeightMatrixTests {
    static let randomFloats = KernelTests.randomFloats

    /// A 2-D tensor holding `values` in `dtype` (F32, F16 or BF16), in an owned buffer at an odd offset
    /// so kernels must cope with unaligned rows.
    static func tensor(_ values: [Float], rows: Int, cols: Int, dtype: DType) throws -> Tensor {
        let size = dtype.byteSize, pad = 3
        let storage = ByteStorage.allocate(count: pad + values.count * size) { out in
            for (i, v) in values.enumerated() {
                switch dtype {
                case .float16: out.storeBytes(of: floatToHalfBits(v), toByteOffset: pad + 2 * i, as: UInt16.self)
                case .bfloat16: out.storeBytes(of: floatToBFloat16Bits(v), toByteOffset: pad + 2 * i, as: UInt16.self)
                default: out.storeBytes(of: v, toByteOffset: pad + 4 * i, as: Float.self)
                }
            }
        }
        return try Tensor(dtype: dtype, shape: [rows, cols], storage: storage, byteOffset: pad)
    }

    static func matrix(_ format: WeightFormat, rows: Int, cols: Int, seed: UInt64) throws -> WeightMatrix {
        let values = randomFloats(rows * cols, seed)
        switch format {
        case .f32: return try WeightMatrix(tensor: tensor(values, rows: rows, cols: cols, dtype: .float32))
        case .f16: return try WeightMatrix(tensor: tensor(values, rows: rows, cols: cols, dtype: .float16))
        case .bf16: return try WeightMatrix(tensor: tensor(values, rows: rows, cols: cols, dtype: .bfloat16))
        case .q8_0, .q4_0: return try WeightMatrix(quantizing: Matrix(rows: rows, cols: cols, data: values), to: format)
        }
    }

    static func bytes(_ w: WeightMatrix) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: w.baseAddress, count: w.byteCount))
    }

    // MARK: Layouts

    @Test func blockStructsHaveGGUFSizes() {
        #expect(MemoryLayout<BlockQ8_0>.size == 34 && MemoryLayout<BlockQ8_0>.stride == 34)
        #expect(MemoryLayout<BlockQ4_0>.size == 18 && MemoryLayout<BlockQ4_0>.stride == 18)
        #expect(WeightFormat.q8_0.blockBytes == 34 && WeightFormat.q4_0.blockBytes == 18)
        #expect(WeightFormat.q8_0.blockLength == 32 && WeightFormat.q4_0.blockLength == 32)
    }

    @Test func q8BlockBytesArePinned() throws {
        // max |x| = 127 gives d = 1 (fp16 0x3C00), so the quants are the values themselves.
        let x = (0..<32).map { Float($0 * 8 - 127) }
        let w = try WeightMatrix(quantizing: Matrix(rows: 1, cols: 32, data: x), to: .q8_0)
        let expected: [UInt8] = [0x00, 0x3C] + (0..<32).map { UInt8(bitPattern: Int8($0 * 8 - 127)) }
        #expect(Self.bytes(w) == expected)
        #expect((0..<32).map { w.element(0, $0) } == x)
    }

    @Test func q4BlockBytesArePinned() throws {
        // m = −8 gives d = 1; element i → q = i, element i + 16 → q = 15 − i.
        let x = (0..<16).map { Float($0 - 8) } + (0..<16).map { Float(7 - $0) }
        let w = try WeightMatrix(quantizing: Matrix(rows: 1, cols: 32, data: x), to: .q4_0)
        let expected: [UInt8] = [0x00, 0x3C] + (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }
        #expect(Self.bytes(w) == expected)
        #expect((0..<32).map { w.element(0, $0) } == x)
    }

    @Test func q4DecodesHandWrittenBlock() throws {
        // d = −2 (fp16 0xC000); byte 0 = 0x1F: element 0 has q = 15, element 16 has q = 1.
        var raw: [UInt8] = [0x00, 0xC0, 0x1F] + [UInt8](repeating: 0x88, count: 15)
        let storage = ByteStorage(copying: raw)
        raw.removeAll()
        let w = try WeightMatrix(rows: 1, cols: 32, format: .q4_0, storage: storage, byteOffset: 0)
        #expect(throws: TensorError.self) { try WeightMatrix(rows: 2, cols: 32, format: .q4_0, storage: storage, byteOffset: 0) }
        #expect(w.element(0, 0) == -14 && w.element(0, 16) == 14 && w.element(0, 1) == 0 && w.element(0, 31) == 0)
        var row = [Float](repeating: .nan, count: 32)
        row.withUnsafeMutableBufferPointer { w.row(0, into: $0) }
        #expect(row[0] == -14 && row[16] == 14 && row[5] == 0)
    }

    // MARK: Conversion and quantisation

    @Test(arguments: [WeightFormat.q8_0, .q4_0])
    func quantisationErrorWithinBound(format: WeightFormat) throws {
        let x = Self.randomFloats(7 * 96, 21).enumerated().map { $0.element * Float(1 + $0.offset % 5) }
        let w = try WeightMatrix(quantizing: Matrix(rows: 7, cols: 96, data: x), to: format)
        for r in 0..<7 {
            for b in 0..<3 {
                let block = x[(r * 96 + b * 32)..<(r * 96 + b * 32 + 32)]
                let amax = block.map { abs($0) }.max() ?? 0
                // Q8_0: d ≈ amax/127, error ≤ d/2. Q4_0: |d| ≈ amax/8, error ≤ |d| (clamped side).
                let bound = format == .q8_0 ? amax / 127 / 2 * 1.002 : amax / 8 * 1.002
                for (i, v) in block.enumerated() {
                    #expect(abs(w.element(r, b * 32 + i) - v) <= bound)
                }
            }
        }
    }

    @Test func tensorViewsAreZeroCopy() throws {
        for dtype in [DType.float32, .float16, .bfloat16] {
            let t = try Self.tensor(Self.randomFloats(6 * 10, 22), rows: 6, cols: 10, dtype: dtype)
            let w = try WeightMatrix(tensor: t)
            #expect(w.storage === t.storage && w.byteOffset == t.byteOffset)
            #expect(w.format == WeightFormat(dtype: dtype) && w.rows == 6 && w.cols == 10)
            let same = try WeightMatrix(quantizing: t, to: w.format)
            #expect(same.storage === t.storage)
            // Converting to f32 decodes exactly what the tensor holds.
            let f = try WeightMatrix(quantizing: t, to: .f32)
            #expect((f.storage === t.storage) == (dtype == .float32))
            #expect((0..<60).map { f.element($0 / 10, $0 % 10) } == t.floats())
        }
    }

    @Test func badInputsThrowTypedErrors() throws {
        let cube = try Tensor([Float](repeating: 1, count: 8), shape: [2, 2, 2])
        #expect(throws: WeightError.notAMatrix(shape: [2, 2, 2])) { try WeightMatrix(tensor: cube) }
        let ints = try Tensor(dtype: .int32, shape: [2, 2], storage: ByteStorage.allocate(count: 16) { _ in })
        #expect(throws: WeightError.unsupportedDType(.int32)) { try WeightMatrix(tensor: ints) }
        let ragged = Matrix(rows: 2, cols: 33)
        #expect(throws: WeightError.partialBlock(format: .q8_0, cols: 33)) { try WeightMatrix(quantizing: ragged, to: .q8_0) }
        #expect(throws: WeightError.partialBlock(format: .q4_0, cols: 48)) {
            try WeightMatrix(quantizing: Matrix(rows: 1, cols: 48), to: .q4_0)
        }
    }

    @Test func portableHalfDecodeIsExactForAllBitPatterns() {
        let bits = (0...UInt16.max).map { $0 }
        bits.withUnsafeBytes { raw in
            for i in stride(from: 0, to: bits.count, by: 8) {
                let v = decodeHalf8Portable(raw.baseAddress!, 2 * i)
                let hw = decodeHalf8(raw.baseAddress!, 2 * i)
                for j in 0..<8 {
                    let expected = halfBitsToFloat(bits[i + j])
                    #expect(v[j].bitPattern == expected.bitPattern || (v[j].isNaN && expected.isNaN))
                    #expect(hw[j].bitPattern == expected.bitPattern || (hw[j].isNaN && expected.isNaN))
                }
            }
        }
    }

    // MARK: Products

    /// Formats × (rows, cols): ragged rows everywhere, ragged columns for the float formats.
    static let productCases: [(WeightFormat, Int, Int)] = [
        (.f32, 1, 1), (.f32, 13, 7), (.f32, 37, 45), (.f32, 131, 96),
        (.f16, 1, 3), (.f16, 13, 9), (.f16, 37, 77), (.f16, 131, 96),
        (.bf16, 1, 5), (.bf16, 13, 40), (.bf16, 37, 71), (.bf16, 131, 96),
        (.q8_0, 1, 32), (.q8_0, 13, 64), (.q8_0, 37, 96), (.q8_0, 131, 160),
        (.q4_0, 1, 32), (.q4_0, 13, 64), (.q4_0, 37, 96), (.q4_0, 131, 160),
        // Wider than one 512-column chunk of the C kernel's tiles, with a ragged last chunk.
        (.f32, 5, 1031), (.bf16, 7, 600), (.f16, 35, 1100), (.q8_0, 9, 1056), (.q4_0, 34, 1088),
    ]

    @Test(arguments: productCases)
    func applyMatchesReference(format: WeightFormat, rows: Int, cols: Int) throws {
        let w = try Self.matrix(format, rows: rows, cols: cols, seed: UInt64(rows * 1000 + cols))
        for tokens in Array(1...9) + [productStagingTokens, productStagingTokens + 5] {
            let x = Self.randomFloats(tokens * cols, UInt64(tokens))
            var ref = [Float](repeating: .nan, count: tokens * rows)
            x.withUnsafeBufferPointer { xb in ref.withUnsafeMutableBufferPointer { w.applyReference(xb, tokens: tokens, into: $0) } }
            for (threads, path) in [1, 2].flatMap({ t in KernelPath.runnable.map { (t, $0) } }) {
                var fast = [Float](repeating: .nan, count: tokens * rows)
                x.withUnsafeBufferPointer { xb in
                    fast.withUnsafeMutableBufferPointer { w.apply(xb, tokens: tokens, into: $0, threads: threads, path: path) }
                }
                for t in 0..<tokens {
                    for r in 0..<rows {
                        // Summation-order bound: a few ulps of Σ|w·x|.
                        let magnitude = (0..<cols).reduce(Float(0)) { $0 + abs(w.element(r, $1) * x[t * cols + $1]) }
                        #expect(abs(fast[t * rows + r] - ref[t * rows + r]) <= 1e-5 * magnitude + 1e-30,
                                "\(format) \(rows)×\(cols) tokens \(tokens) threads \(threads) \(path) at (\(t), \(r))")
                    }
                }
            }
        }
    }

    /// Large enough to be split over threads: our kernels' split must not change a single bit. From
    /// `blasMinimumTokens` on, BLAS's own blocking may regroup sums per thread count: fp32 rounding only.
    @Test(arguments: WeightFormat.allCases)
    func threadedProductEqualsSingleThread(format: WeightFormat) throws {
        let (rows, cols) = (517, 256)
        let w = try Self.matrix(format, rows: rows, cols: cols, seed: 30)
        for (path, tokens) in KernelPath.runnable.flatMap({ p in [1, 6, productStagingTokens + 1].map { (p, $0) } }) {
            let x = Self.randomFloats(tokens * cols, 31)
            var one = [Float](repeating: .nan, count: tokens * rows), two = one, three = one
            x.withUnsafeBufferPointer { xb in
                one.withUnsafeMutableBufferPointer { w.apply(xb, tokens: tokens, into: $0, threads: 1, path: path) }
                two.withUnsafeMutableBufferPointer { w.apply(xb, tokens: tokens, into: $0, threads: 2, path: path) }
                three.withUnsafeMutableBufferPointer { w.apply(xb, tokens: tokens, into: $0, threads: 3, path: path) }
            }
            if tokens >= blasMinimumTokens && blasEnabled {
                let scale = one.map { abs($0) }.max() ?? 1
                #expect(zip(one, two).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
                #expect(zip(one, three).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
            } else {
                #expect(one.map(\.bitPattern) == two.map(\.bitPattern))
                #expect(one.map(\.bitPattern) == three.map(\.bitPattern))
            }
        }
    }

    /// The quantised product stays within Σ_c |x_c| · (per-element quantisation bound) of the fp32 one.
    @Test(arguments: [WeightFormat.q8_0, .q4_0, .f16, .bf16])
    func quantisedProductWithinFormatBound(format: WeightFormat) throws {
        let (rows, cols) = (29, 128)
        let values = Self.randomFloats(rows * cols, 40)
        let exact = try WeightMatrix(quantizing: Matrix(rows: rows, cols: cols, data: values), to: .f32)
        let q = try WeightMatrix(quantizing: Matrix(rows: rows, cols: cols, data: values), to: format)
        let x = Self.randomFloats(cols, 41)
        var y = [Float](repeating: 0, count: rows), yq = y
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { exact.apply(xb, tokens: 1, into: $0) }
            yq.withUnsafeMutableBufferPointer { q.apply(xb, tokens: 1, into: $0) }
        }
        // Values are in [−1, 1): Q8_0 error ≤ 1/254, Q4_0 ≤ 1/8, fp16 ≤ 2^-11, bf16 ≤ 2^-8 (relative).
        let perElement: Float = switch format {
        case .q8_0: 1.0 / 254
        case .q4_0: 1.0 / 8
        case .f16: 1.0 / 2048
        default: 1.0 / 256
        }
        let bound = x.reduce(Float(0)) { $0 + abs($1) } * perElement * 1.01 + 1e-4
        for r in 0..<rows { #expect(abs(yq[r] - y[r]) <= bound) }
        #expect(zip(yq, y).contains { $0 != $1 } || format == .f32)
    }

    @Test(arguments: WeightFormat.allCases)
    func rowLookupMatchesElements(format: WeightFormat) throws {
        let w = try Self.matrix(format, rows: 5, cols: 64, seed: 50)
        var out = [Float](repeating: .nan, count: 64)
        out.withUnsafeMutableBufferPointer { w.row(3, into: $0) }
        #expect(out == (0..<64).map { w.element(3, $0) })
    }
}
