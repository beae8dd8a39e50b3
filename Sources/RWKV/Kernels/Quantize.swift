// Encoding fp32 rows into each weight format (load-time conversion and quantisation).
//
// Q8_0: d = max|x| / 127, q = round(x / d)                      → |x − q·d| ≤ d/2.
// Q4_0: m = the element of largest magnitude (with its sign), d = m / −8,
//       q = clamp(round(x / d) + 8, 0, 15)                      → |x − (q − 8)·d| ≤ |d|/2, except
//       elements of the sign opposite to m beyond 7·|d|, which are clamped (error ≤ |d|).
// Both store d rounded to fp16; values are then exactly q·fp16(d).

/// Writes `x` (a whole row) in `format` to `out` (exactly `rowBytes(format, x.count)` bytes).
func encodeRow(_ x: UnsafeBufferPointer<Float>, format: WeightFormat, into out: UnsafeMutableRawPointer) {
    switch format {
    case .f32:
        for i in x.indices { out.storeBytes(of: x[i], toByteOffset: 4 * i, as: Float.self) }
    case .f16:
        for i in x.indices { out.storeBytes(of: floatToHalfBits(x[i]), toByteOffset: 2 * i, as: UInt16.self) }
    case .bf16:
        for i in x.indices { out.storeBytes(of: floatToBFloat16Bits(x[i]), toByteOffset: 2 * i, as: UInt16.self) }
    case .q8_0:
        for b in 0..<(x.count / 32) {
            encodeBlockQ8_0(UnsafeBufferPointer(rebasing: x[(32 * b)..<(32 * b + 32)]), into: out + b * format.blockBytes)
        }
    case .q4_0:
        for b in 0..<(x.count / 32) {
            encodeBlockQ4_0(UnsafeBufferPointer(rebasing: x[(32 * b)..<(32 * b + 32)]), into: out + b * format.blockBytes)
        }
    }
}

/// Bytes of one row of `cols` elements in `format` (cols must be a whole number of blocks).
func rowBytes(_ format: WeightFormat, _ cols: Int) -> Int {
    cols / format.blockLength * format.blockBytes
}

private func encodeBlockQ8_0(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawPointer) {
    let amax = x.reduce(Float(0)) { max($0, abs($1)) }
    let dBits = floatToHalfBits(amax / 127)
    let d = halfBitsToFloat(dBits)
    let inv: Float = d == 0 ? 0 : 1 / d
    out.storeBytes(of: dBits, as: UInt16.self)
    for i in 0..<32 {
        let q = max(-127, min(127, (x[i] * inv).rounded()))
        out.storeBytes(of: Int8(q), toByteOffset: 2 + i, as: Int8.self)
    }
}

private func encodeBlockQ4_0(_ x: UnsafeBufferPointer<Float>, into out: UnsafeMutableRawPointer) {
    var m: Float = 0
    for v in x where abs(v) > abs(m) { m = v }
    let dBits = floatToHalfBits(m / -8)
    let d = halfBitsToFloat(dBits)
    let inv: Float = d == 0 ? 0 : 1 / d
    out.storeBytes(of: dBits, as: UInt16.self)
    func nibble(_ v: Float) -> UInt8 { UInt8(max(0, min(15, (v * inv).rounded() + 8))) }
    for i in 0..<16 {
        out.storeBytes(of: nibble(x[i]) | nibble(x[i + 16]) << 4, toByteOffset: 2 + i, as: UInt8.self)
    }
}
