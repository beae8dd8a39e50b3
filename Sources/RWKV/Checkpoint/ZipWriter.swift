// ZipWriter: streams a zip archive of stored (uncompressed) entries, the container `torch.save` writes.
//
// Each entry's data starts on a 64-byte boundary (padding goes in the local header's extra field, as
// PyTorch does) so a reader can map tensors in place. zip64 fields are written for any entry, offset
// or directory that does not fit in 32 bits, so checkpoints above 4 GB are valid.
// Not a general zip library: no compression, no timestamps, no data descriptors.

/// Where a `ZipWriter` sends bytes: an atomic output file, or memory (tests, small archives).
protocol ByteSink: AnyObject {
    /// Offset of the next byte written.
    var position: Int { get }
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension AtomicFileWriter: ByteSink {}

/// A growable in-memory sink.
final class MemorySink: ByteSink {
    private(set) var bytes: [UInt8] = []
    var position: Int { bytes.count }
    func write(_ data: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: data) }
}

/// Writes stored zip entries one after another, then the central directory on `finish()`.
struct ZipWriter {
    private struct Record {
        let name: [UInt8]
        let method: Int
        let crc: UInt32
        let size: Int
        let localHeaderOffset: Int
    }

    private let sink: ByteSink
    private let alignment: Int
    /// Write zip64 structures even when sizes would fit in 32 bits (exercises the zip64 paths in tests).
    private let forceZip64: Bool
    private var records: [Record] = []

    private static let saturated32 = 0xFFFF_FFFF

    init(sink: ByteSink, alignment: Int = 64, forceZip64: Bool = false) {
        self.sink = sink
        self.alignment = max(1, alignment)
        self.forceZip64 = forceZip64
    }

    /// Appends an entry holding `data`. `method` is recorded as given (tests use it to fake
    /// compressed entries); the data itself is always written as is.
    mutating func addEntry(name: String, data: UnsafeRawBufferPointer, method: Int = 0) throws {
        let nameBytes = Array(name.utf8)
        guard nameBytes.count <= 0xFFFF else {
            throw CheckpointError.writeFailed(path: name, reason: "zip entry name longer than 65535 bytes")
        }
        let offset = sink.position
        let zip64 = forceZip64 || data.count >= Self.saturated32
        var header = ByteBuilder()
        header.u32(0x0403_4b50)
        header.u16(zip64 ? 45 : 20)             // version needed
        header.u16(0x0800)                      // flags: UTF-8 names
        header.u16(method)
        header.u16(0); header.u16(0x21)         // time, date (1980-01-01)
        let crc = crc32(data)
        header.u32(Int(crc))
        header.u32(zip64 ? Self.saturated32 : data.count)
        header.u32(zip64 ? Self.saturated32 : data.count)
        header.u16(nameBytes.count)
        let zip64Extra = zip64 ? 20 : 0
        let unpadded = offset + 30 + nameBytes.count + zip64Extra + 4
        let padding = (alignment - unpadded % alignment) % alignment
        header.u16(zip64Extra + 4 + padding)
        header.append(nameBytes)
        if zip64 {
            header.u16(1); header.u16(16)
            header.u64(data.count); header.u64(data.count)
        }
        header.u16(0x4246); header.u16(padding)  // padding extra field
        header.append([UInt8](repeating: UInt8(ascii: "Z"), count: padding))
        try header.flush(to: sink)
        try sink.write(data)
        records.append(Record(name: nameBytes, method: method, crc: crc, size: data.count, localHeaderOffset: offset))
    }

    mutating func addEntry(name: String, bytes: [UInt8], method: Int = 0) throws {
        try bytes.withUnsafeBytes { try addEntry(name: name, data: $0, method: method) }
    }

    /// Writes the central directory and end records. The writer must not be used afterwards.
    func finish() throws {
        let directoryOffset = sink.position
        var out = ByteBuilder()
        for r in records {
            let bigSize = forceZip64 || r.size >= Self.saturated32
            let bigOffset = forceZip64 || r.localHeaderOffset >= Self.saturated32
            var extra = ByteBuilder()
            if bigSize || bigOffset {
                extra.u16(1); extra.u16((bigSize ? 16 : 0) + (bigOffset ? 8 : 0))
                if bigSize { extra.u64(r.size); extra.u64(r.size) }
                if bigOffset { extra.u64(r.localHeaderOffset) }
            }
            out.u32(0x0201_4b50)
            out.u16(0x0300 | 45)                // made by: Unix, spec 4.5
            out.u16(bigSize || bigOffset ? 45 : 20)
            out.u16(0x0800)
            out.u16(r.method)
            out.u16(0); out.u16(0x21)
            out.u32(Int(r.crc))
            out.u32(bigSize ? Self.saturated32 : r.size)
            out.u32(bigSize ? Self.saturated32 : r.size)
            out.u16(r.name.count)
            out.u16(extra.bytes.count)
            out.u16(0); out.u16(0); out.u16(0)  // comment length, disk, internal attributes
            out.u32(0o100644 << 16)             // external attributes: regular file, rw-r--r--
            out.u32(bigOffset ? Self.saturated32 : r.localHeaderOffset)
            out.append(r.name)
            out.append(extra.bytes)
            if out.bytes.count >= 1 << 20 { try out.flush(to: sink) }
        }
        try out.flush(to: sink)
        let directorySize = sink.position - directoryOffset
        let needZip64 = forceZip64 || records.count >= 0xFFFF || directorySize >= Self.saturated32
            || directoryOffset >= Self.saturated32
        if needZip64 {
            let recordOffset = sink.position
            out.u32(0x0606_4b50); out.u64(44)
            out.u16(0x0300 | 45); out.u16(45)
            out.u32(0); out.u32(0)
            out.u64(records.count); out.u64(records.count)
            out.u64(directorySize); out.u64(directoryOffset)
            out.u32(0x0706_4b50); out.u32(0); out.u64(recordOffset); out.u32(1)
        }
        out.u32(0x0605_4b50)
        out.u16(0); out.u16(0)
        out.u16(needZip64 ? 0xFFFF : records.count)
        out.u16(needZip64 ? 0xFFFF : records.count)
        out.u32(needZip64 ? Self.saturated32 : directorySize)
        out.u32(needZip64 ? Self.saturated32 : directoryOffset)
        out.u16(0)
        try out.flush(to: sink)
    }
}

/// Little-endian byte assembly for headers.
struct ByteBuilder {
    var bytes: [UInt8] = []
    mutating func u16(_ v: Int) { appendLE(UInt64(truncatingIfNeeded: v), count: 2) }
    mutating func u32(_ v: Int) { appendLE(UInt64(truncatingIfNeeded: v), count: 4) }
    mutating func u64(_ v: Int) { appendLE(UInt64(truncatingIfNeeded: v), count: 8) }
    mutating func append(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    private mutating func appendLE(_ v: UInt64, count: Int) {
        for i in 0..<count { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }
    mutating func flush(to sink: ByteSink) throws {
        try bytes.withUnsafeBytes { try sink.write($0) }
        bytes.removeAll(keepingCapacity: true)
    }
}

/// CRC-32 (IEEE 802.3, the zip checksum), slicing-by-8 so multi-GB checkpoints hash at memory speed.
func crc32(_ data: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
    let t = crcTables
    var c = ~seed
    var i = 0
    let n = data.count
    while i + 8 <= n {
        let lo = c ^ UInt32(littleEndian: data.loadUnaligned(fromByteOffset: i, as: UInt32.self))
        let hi = UInt32(littleEndian: data.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
        c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
            ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
            ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
            ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
        i += 8
    }
    while i < n {
        c = t[Int((c ^ UInt32(data[i])) & 0xFF)] ^ (c >> 8)
        i += 1
    }
    return ~c
}

/// Eight 256-entry tables: table k maps a byte to its CRC contribution k bytes further on.
private let crcTables: [UInt32] = {
    var t = [UInt32](repeating: 0, count: 8 * 256)
    for n in 0..<256 {
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        t[n] = c
    }
    for k in 1..<8 {
        for n in 0..<256 {
            let previous = t[(k - 1) * 256 + n]
            t[k * 256 + n] = t[Int(previous & 0xFF)] ^ (previous >> 8)
        }
    }
    return t
}()
