// Per-format traits for the weight product kernels: decode stored weights into fp32 SIMD8 lanes
// (fast path) or one element at a time (reference path and row lookup).
//
// The product kernels are generic over `WeightDecoder` and specialised per format inside this
// module, so each format gets its own tight loop. Only SIMD8-wide conversions are used: wider
// stdlib conversions compile to out-of-line calls (docs: swift-performance notes).

/// Decodes one storage format. `row` points at the first byte of a matrix row; `c` is an element index.
protocol WeightDecoder {
    /// Weights c..<c+32 as four SIMD8 (c is a multiple of 32).
    static func decode32(_ row: UnsafeRawPointer, _ c: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
    /// Weights c..<c+8 (c is a multiple of 8).
    static func decode8(_ row: UnsafeRawPointer, _ c: Int) -> SIMD8<Float>
    /// Weight c, decoded with plain scalar code (the reference twin of the SIMD decoders).
    static func scalar(_ row: UnsafeRawPointer, _ c: Int) -> Float
    /// Row · x over `n` elements (single-token path). Defaults to `dot1` over `decode32`; block
    /// formats override it to apply each block's scale once to a block sum.
    static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float
}

extension WeightDecoder {
    @inline(__always)
    static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float { dot1(Self.self, row, x, n) }
}

// MARK: Half-precision helpers

// x86_64 is built without F16C code generation (the C kernels carry their own), where `Float16`
// conversions are a libcall per element: the portable path there uses the integer decode.
#if arch(arm64)
/// fp16 bits → Float through the hardware conversion.
@inline(__always)
func halfToFloat(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

/// Eight fp16 values at `p + byteOffset` → Float.
@inline(__always)
func decodeHalf8(_ p: UnsafeRawPointer, _ byteOffset: Int) -> SIMD8<Float> {
    SIMD8<Float>(p.loadUnaligned(fromByteOffset: byteOffset, as: SIMD8<Float16>.self))
}
#else
@inline(__always)
func halfToFloat(_ bits: UInt16) -> Float { halfBitsToFloat(bits) }

@inline(__always)
func decodeHalf8(_ p: UnsafeRawPointer, _ byteOffset: Int) -> SIMD8<Float> { decodeHalf8Portable(p, byteOffset) }
#endif

/// Eight fp16 values → Float with integer SIMD only: move exponent and mantissa into fp32 position,
/// rescale by 2^112 (which also turns subnormal halves into the right normal floats), patch Inf/NaN,
/// then restore the sign. Exact for every input.
@inline(__always)
func decodeHalf8Portable(_ p: UnsafeRawPointer, _ byteOffset: Int) -> SIMD8<Float> {
    let h = SIMD8<UInt32>(truncatingIfNeeded: p.loadUnaligned(fromByteOffset: byteOffset, as: SIMD8<UInt16>.self))
    let sign = (h & 0x8000) &<< 16
    let magnitude = (h & 0x7FFF) &<< 13
    var f = unsafeBitCast(magnitude, to: SIMD8<Float>.self) * SIMD8<Float>(repeating: Float(bitPattern: 0x7780_0000))
    let special = magnitude .>= 0x0F80_0000
    f.replace(with: unsafeBitCast(magnitude | 0x7F80_0000, to: SIMD8<Float>.self), where: special)
    return unsafeBitCast(unsafeBitCast(f, to: SIMD8<UInt32>.self) | sign, to: SIMD8<Float>.self)
}

// MARK: Formats

enum DecodeF32: WeightDecoder {
    @inline(__always)
    static func decode32(_ row: UnsafeRawPointer, _ c: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        (decode8(row, c), decode8(row, c + 8), decode8(row, c + 16), decode8(row, c + 24))
    }
    @inline(__always)
    static func decode8(_ row: UnsafeRawPointer, _ c: Int) -> SIMD8<Float> {
        row.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
    }
    static func scalar(_ row: UnsafeRawPointer, _ c: Int) -> Float {
        row.loadUnaligned(fromByteOffset: 4 * c, as: Float.self)
    }
}

enum DecodeF16: WeightDecoder {
    @inline(__always)
    static func decode32(_ row: UnsafeRawPointer, _ c: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        (decode8(row, c), decode8(row, c + 8), decode8(row, c + 16), decode8(row, c + 24))
    }
    @inline(__always)
    static func decode8(_ row: UnsafeRawPointer, _ c: Int) -> SIMD8<Float> { decodeHalf8(row, 2 * c) }
    static func scalar(_ row: UnsafeRawPointer, _ c: Int) -> Float {
        halfBitsToFloat(row.loadUnaligned(fromByteOffset: 2 * c, as: UInt16.self))
    }
}

enum DecodeBF16: WeightDecoder {
    @inline(__always)
    static func decode32(_ row: UnsafeRawPointer, _ c: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        (decode8(row, c), decode8(row, c + 8), decode8(row, c + 16), decode8(row, c + 24))
    }
    /// bf16 is the high half of an fp32: widen and shift.
    @inline(__always)
    static func decode8(_ row: UnsafeRawPointer, _ c: Int) -> SIMD8<Float> {
        let u = row.loadUnaligned(fromByteOffset: 2 * c, as: SIMD8<UInt16>.self)
        return unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: u) &<< 16, to: SIMD8<Float>.self)
    }
    static func scalar(_ row: UnsafeRawPointer, _ c: Int) -> Float {
        Float(bitPattern: UInt32(row.loadUnaligned(fromByteOffset: 2 * c, as: UInt16.self)) << 16)
    }
}

enum DecodeQ8_0: WeightDecoder {
    static let blockBytes = MemoryLayout<BlockQ8_0>.size

    @inline(__always)
    static func decode32(_ row: UnsafeRawPointer, _ c: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let block = row + (c / 32) * blockBytes
        let d = SIMD8<Float>(repeating: halfToFloat(block.loadUnaligned(as: UInt16.self)))
        return (quants8(block, 2) * d, quants8(block, 10) * d, quants8(block, 18) * d, quants8(block, 26) * d)
    }
    @inline(__always)
    static func decode8(_ row: UnsafeRawPointer, _ c: Int) -> SIMD8<Float> {
        let block = row + (c / 32) * blockBytes
        let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
        return quants8(block, 2 + c % 32) * d
    }
    @inline(__always)
    private static func quants8(_ block: UnsafeRawPointer, _ byteOffset: Int) -> SIMD8<Float> {
        SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: block.loadUnaligned(fromByteOffset: byteOffset, as: SIMD8<Int8>.self)))
    }
    /// Σ_b d_b · Σ_i q_i·x_i: the quants convert straight to float and the scale is applied once per block.
    @inline(__always)
    static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let rx = UnsafeRawPointer(x)
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var b = 0
        while b < n / 32 {
            let block = row + b * blockBytes, o = 128 * b
            var s = quants8(block, 2) * rx.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            var u = quants8(block, 10) * rx.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self)
            s.addProduct(quants8(block, 18), rx.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self))
            u.addProduct(quants8(block, 26), rx.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self))
            let d = SIMD8<Float>(repeating: halfToFloat(block.loadUnaligned(as: UInt16.self)))
            if b & 1 == 0 { acc0.addProduct(s + u, d) } else { acc1.addProduct(s + u, d) }
            b += 1
        }
        return (acc0 + acc1).sum()
    }
    static func scalar(_ row: UnsafeRawPointer, _ c: Int) -> Float {
        let block = row + (c / 32) * blockBytes
        let q = block.load(fromByteOffset: 2 + c % 32, as: Int8.self)
        return Float(q) * halfBitsToFloat(block.loadUnaligned(as: UInt16.self))
    }
}

enum DecodeQ4_0: WeightDecoder {
    static let blockBytes = MemoryLayout<BlockQ4_0>.size

    /// Bytes 0–7 and 8–15 widened once; low nibbles are elements 0–15, high nibbles 16–31.
    @inline(__always)
    static func decode32(_ row: UnsafeRawPointer, _ c: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let block = row + (c / 32) * blockBytes
        let d = SIMD8<Float>(repeating: halfToFloat(block.loadUnaligned(as: UInt16.self)))
        let lo = SIMD8<Int32>(truncatingIfNeeded: block.loadUnaligned(fromByteOffset: 2, as: SIMD8<UInt8>.self))
        let hi = SIMD8<Int32>(truncatingIfNeeded: block.loadUnaligned(fromByteOffset: 10, as: SIMD8<UInt8>.self))
        let eight = SIMD8<Int32>(repeating: 8)
        return (SIMD8<Float>((lo & 15) &- eight) * d, SIMD8<Float>((hi & 15) &- eight) * d,
                SIMD8<Float>((lo &>> 4) &- eight) * d, SIMD8<Float>((hi &>> 4) &- eight) * d)
    }
    @inline(__always)
    static func decode8(_ row: UnsafeRawPointer, _ c: Int) -> SIMD8<Float> {
        let block = row + (c / 32) * blockBytes
        let d = halfToFloat(block.loadUnaligned(as: UInt16.self))
        let i = c % 32
        let bytes = SIMD8<Int32>(truncatingIfNeeded: block.loadUnaligned(fromByteOffset: 2 + i % 16, as: SIMD8<UInt8>.self))
        let q = i < 16 ? bytes & 15 : bytes &>> 4
        return SIMD8<Float>(q &- 8) * d
    }
    /// Σ_b d_b · (Σ_i q_i·x_i − 8·Σ_i x_i): nibbles convert to float unshifted, the offset and the
    /// scale are applied once per block.
    @inline(__always)
    static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let rx = UnsafeRawPointer(x)
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        let minus8 = SIMD8<Float>(repeating: -8)
        var b = 0
        while b < n / 32 {
            let block = row + b * blockBytes, o = 128 * b
            let lo = SIMD8<Int32>(truncatingIfNeeded: block.loadUnaligned(fromByteOffset: 2, as: SIMD8<UInt8>.self))
            let hi = SIMD8<Int32>(truncatingIfNeeded: block.loadUnaligned(fromByteOffset: 10, as: SIMD8<UInt8>.self))
            let x0 = rx.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            let x1 = rx.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self)
            let x2 = rx.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self)
            let x3 = rx.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self)
            var s = SIMD8<Float>(lo & 15) * x0
            var u = SIMD8<Float>(hi & 15) * x1
            s.addProduct(SIMD8<Float>(lo &>> 4), x2)
            u.addProduct(SIMD8<Float>(hi &>> 4), x3)
            s += u
            s.addProduct((x0 + x1) + (x2 + x3), minus8)
            let d = SIMD8<Float>(repeating: halfToFloat(block.loadUnaligned(as: UInt16.self)))
            if b & 1 == 0 { acc0.addProduct(s, d) } else { acc1.addProduct(s, d) }
            b += 1
        }
        return (acc0 + acc1).sum()
    }
    static func scalar(_ row: UnsafeRawPointer, _ c: Int) -> Float {
        let block = row + (c / 32) * blockBytes
        let i = c % 32
        let byte = block.load(fromByteOffset: 2 + i % 16, as: UInt8.self)
        let q = i < 16 ? byte & 0x0F : byte >> 4
        return Float(Int(q) - 8) * halfBitsToFloat(block.loadUnaligned(as: UInt16.self))
    }
}
