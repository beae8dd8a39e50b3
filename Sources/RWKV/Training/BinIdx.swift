// RWKV-LM's binidx corpora (Megatron's MMapIndexedDataset): `NAME.idx` describes, `NAME.bin` holds the
// tokens of every document back to back.
//
// NAME.idx: magic "MMIDIDX\0\0" (9 bytes), version u64 = 1, dtype code u8, sequence count n (u64),
// document count m (u64), sizes int32[n], byte pointers int64[n], document index int64[m].
// dtype codes: 1 u8, 2 i8, 3 i16, 4 i32, 5 i64, 8 u16 (RWKV-LM's World corpora use u16).
// RWKV-LM trains on the concatenation of all sequences, which is exactly the .bin file in order.

import Foundation

enum BinIdx {
    static let magic: [UInt8] = Array("MMIDIDX".utf8) + [0, 0]

    /// The token stream of `path` (either the .bin or the .idx file of a pair).
    static func load(path: String) throws -> [Int] {
        let stem = path.hasSuffix(".bin") || path.hasSuffix(".idx") ? String(path.dropLast(4)) : path
        let idxPath = stem + ".idx", binPath = stem + ".bin"
        guard let idx = FileManager.default.contents(atPath: idxPath) else { throw TrainingError.data("cannot read \(idxPath)") }
        let bytes = [UInt8](idx)
        func fail(_ why: String) -> TrainingError { TrainingError.data("\(idxPath) is not a binidx index: \(why)") }
        guard bytes.count >= 34, Array(bytes[0..<9]) == magic else { throw fail("magic 'MMIDIDX' missing") }
        func u64(_ o: Int) -> UInt64 { bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: UInt64.self).littleEndian } }
        guard u64(9) == 1 else { throw fail("version \(u64(9)), expected 1") }
        let itemSize: Int
        switch bytes[17] {
        case 1, 2: itemSize = 1
        case 3, 8: itemSize = 2
        case 4: itemSize = 4
        case 5: itemSize = 8
        default: throw fail("token dtype code \(bytes[17]) is not an integer type")
        }
        let n = u64(18), m = u64(26)
        guard n < UInt64(bytes.count), m < UInt64(bytes.count), 34 + Int(n) * 12 + Int(m) * 8 <= bytes.count else {
            throw fail("counts (\(n) sequences, \(m) documents) run past the end of the file")
        }
        var total = 0
        for i in 0..<Int(n) {
            let size = bytes.withUnsafeBytes { Int(Int32(littleEndian: $0.loadUnaligned(fromByteOffset: 34 + i * 4, as: Int32.self))) }
            guard size >= 0 else { throw fail("sequence \(i) has negative size \(size)") }
            total += size
        }
        guard let bin = FileManager.default.contents(atPath: binPath) else { throw TrainingError.data("cannot read \(binPath)") }
        guard bin.count == total * itemSize else {
            throw TrainingError.data("\(binPath) has \(bin.count) bytes, its index describes \(total) tokens of \(itemSize) bytes")
        }
        let code = bytes[17]
        return bin.withUnsafeBytes { raw in
            (0..<total).map { i -> Int in
                switch code {
                case 1: return Int(raw[i])
                case 2: return Int(Int8(bitPattern: raw[i]))
                case 3: return Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)))
                case 8: return Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                case 4: return Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                default: return Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
                }
            }
        }
    }
}
