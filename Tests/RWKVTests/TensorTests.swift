import Testing
@testable import RWKV

@Suite struct TensorTests {
    @Test func halfConversionRoundTripsEveryFiniteHalf() {
        for bits in UInt16(0)...UInt16.max {
            let f = halfBitsToFloat(bits)
            if f.isNaN { continue }
            #expect(floatToHalfBits(f) == bits, "half bits \(bits)")
        }
    }

    @Test func bfloat16RoundsToNearestEven() {
        #expect(floatToBFloat16Bits(1.0) == 0x3F80)
        // 1 + 2^-8 is exactly between two bf16 values; ties go to the even one (1.0).
        #expect(floatToBFloat16Bits(1.00390625) == 0x3F80)
        #expect(floatToBFloat16Bits(1.01171875) == 0x3F82)
    }

    @Test func viewPastStorageIsRejected() throws {
        let storage = ByteStorage(copying: [UInt8](repeating: 0, count: 16))
        #expect(throws: TensorError.self) { try Tensor(dtype: .float32, shape: [5], storage: storage) }
        #expect(throws: TensorError.self) { try Tensor(dtype: .float32, shape: [2], storage: storage, byteOffset: 12) }
        let ok = try Tensor(dtype: .float32, shape: [2, 2], storage: storage)
        #expect(ok.floats() == [0, 0, 0, 0])
    }
}
