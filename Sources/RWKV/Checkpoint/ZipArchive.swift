// ZipArchive: a read-only view of the zip container that `torch.save` writes (`.pth`).
//
// Parses the end-of-central-directory record (found by searching backwards), the zip64 locator and
// record plus zip64 extra fields (official bf16 checkpoints above ~2B parameters exceed 4 GB), the
// central directory and each entry's local header, whose own name/extra lengths decide where the data
// starts. Every offset and size is checked against the file before use.
// Deliberately not supported: compression (PyTorch stores entries uncompressed), encryption,
// multi-disk archives and CRC verification (reading a 15 GB checkpoint should not hash 15 GB).

/// Little-endian integer reads from a byte buffer. Callers check bounds first.
struct LittleEndianBytes {
    let bytes: UnsafeRawBufferPointer

    func u16(_ offset: Int) -> Int { Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))) }
    func u32(_ offset: Int) -> Int { Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
    /// Reads a u64; values above `Int.max` come back as `nil` (no real file is that large).
    func u64(_ offset: Int) -> Int? {
        let v = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        return v > UInt64(Int.max) ? nil : Int(v)
    }
}

/// One file inside a zip archive, as described by its central-directory record.
struct ZipEntry: Sendable, Equatable {
    let name: String
    /// 0 = stored; anything else is compressed.
    let method: Int
    let flags: Int
    let compressedSize: Int
    let uncompressedSize: Int
    let localHeaderOffset: Int
}

/// The central directory of a zip file held in a `ByteStorage`; entry data are zero-copy ranges of it.
struct ZipArchive {
    let storage: ByteStorage
    /// Entries in central-directory order.
    let entries: [ZipEntry]
    private let indexByName: [String: Int]

    private static let eocdSignature = 0x0605_4b50
    private static let zip64LocatorSignature = 0x0706_4b50
    private static let zip64EOCDSignature = 0x0606_4b50
    private static let centralSignature = 0x0201_4b50
    private static let localSignature = 0x0403_4b50

    init(storage: ByteStorage) throws {
        self.storage = storage
        let file = LittleEndianBytes(bytes: storage.bytes)
        let size = storage.count
        guard size >= 22 else { throw CheckpointError.malformedZip(reason: "file is \(size) bytes, too short for a zip end record (22 bytes)") }

        let eocd = try Self.findEndRecord(file, size: size)
        var entryCount = file.u16(eocd + 10)
        var directorySize = file.u32(eocd + 12)
        var directoryOffset = file.u32(eocd + 16)
        if file.u16(eocd + 4) != 0 || file.u16(eocd + 6) != 0 {
            if file.u16(eocd + 4) != 0xFFFF { throw CheckpointError.malformedZip(reason: "multi-disk archives are not supported") }
        }

        // A zip64 locator sits immediately before the classic end record when zip64 is in use.
        let locator = eocd - 20
        if locator >= 0, file.u32(locator) == Self.zip64LocatorSignature {
            guard let recordOffset = file.u64(locator + 8), recordOffset <= size - 56 else {
                throw CheckpointError.malformedZip(reason: "zip64 end record offset points outside the file (\(size) bytes)")
            }
            guard file.u32(recordOffset) == Self.zip64EOCDSignature else {
                throw CheckpointError.malformedZip(reason: "no zip64 end record at offset \(recordOffset)")
            }
            guard let count = file.u64(recordOffset + 32), let dirSize = file.u64(recordOffset + 40),
                  let dirOffset = file.u64(recordOffset + 48)
            else { throw CheckpointError.malformedZip(reason: "zip64 end record holds impossible sizes") }
            entryCount = count
            directorySize = dirSize
            directoryOffset = dirOffset
        }

        guard directoryOffset <= size, directorySize <= size - directoryOffset else {
            throw CheckpointError.malformedZip(reason: "central directory [\(directoryOffset), +\(directorySize)) lies outside the file (\(size) bytes); the file is probably truncated")
        }
        guard entryCount <= directorySize / 46 else {
            throw CheckpointError.malformedZip(reason: "\(entryCount) entries cannot fit in a \(directorySize)-byte central directory")
        }

        var entries: [ZipEntry] = []
        entries.reserveCapacity(entryCount)
        var cursor = directoryOffset
        let end = directoryOffset + directorySize
        for index in 0..<entryCount {
            let (entry, next) = try Self.parseCentralRecord(file, at: cursor, end: end, index: index)
            entries.append(entry)
            cursor = next
        }
        var byName: [String: Int] = [:]
        for (i, e) in entries.enumerated() where byName[e.name] == nil { byName[e.name] = i }
        self.entries = entries
        self.indexByName = byName
    }

    /// The entry with exactly this name.
    func entry(named name: String) -> ZipEntry? {
        indexByName[name].map { entries[$0] }
    }

    /// Byte range of an entry's data inside `storage`. Fails for compressed or encrypted entries and
    /// for local headers or data that run outside the file.
    func dataRange(of entry: ZipEntry) throws -> Range<Int> {
        guard entry.method == 0 else {
            throw CheckpointError.unsupportedZipEntry(entry: entry.name, reason: "compression method \(entry.method) (\(Self.methodName(entry.method))) is not supported; PyTorch writes entries uncompressed (method 0, stored)")
        }
        guard entry.flags & 1 == 0 else { throw CheckpointError.unsupportedZipEntry(entry: entry.name, reason: "entry is encrypted") }
        guard entry.compressedSize == entry.uncompressedSize else {
            throw CheckpointError.unsupportedZipEntry(entry: entry.name, reason: "stored entry has compressed size \(entry.compressedSize) but uncompressed size \(entry.uncompressedSize)")
        }
        let file = LittleEndianBytes(bytes: storage.bytes)
        let size = storage.count
        let header = entry.localHeaderOffset
        guard header <= size - 30 else {
            throw CheckpointError.malformedZip(reason: "local header of '\(entry.name)' at offset \(header) lies outside the file (\(size) bytes)")
        }
        guard file.u32(header) == Self.localSignature else {
            throw CheckpointError.malformedZip(reason: "no local header signature at offset \(header) for '\(entry.name)'")
        }
        let start = header + 30 + file.u16(header + 26) + file.u16(header + 28)
        guard start <= size, entry.compressedSize <= size - start else {
            throw CheckpointError.malformedZip(reason: "data of '\(entry.name)' [\(start), +\(entry.compressedSize)) runs past the end of the file (\(size) bytes); the file is probably truncated")
        }
        return start..<(start + entry.compressedSize)
    }

    /// An entry's bytes (a view into `storage`; valid while `storage` lives).
    func data(of entry: ZipEntry) throws -> UnsafeRawBufferPointer {
        let range = try dataRange(of: entry)
        return UnsafeRawBufferPointer(rebasing: storage.bytes[range])
    }

    // MARK: Parsing

    /// Searches backwards for the end-of-central-directory signature (it may be followed by a comment).
    private static func findEndRecord(_ file: LittleEndianBytes, size: Int) throws -> Int {
        let lowest = max(0, size - 22 - 0xFFFF)
        var offset = size - 22
        while offset >= lowest {
            if file.u32(offset) == eocdSignature, offset + 22 + file.u16(offset + 20) <= size { return offset }
            offset -= 1
        }
        throw CheckpointError.malformedZip(reason: "no end-of-central-directory record found (truncated file or not a zip)")
    }

    /// Parses one central-directory record at `offset`, resolving zip64 extra fields.
    private static func parseCentralRecord(_ file: LittleEndianBytes, at offset: Int, end: Int, index: Int) throws -> (ZipEntry, Int) {
        guard offset <= end - 46, file.u32(offset) == centralSignature else {
            throw CheckpointError.malformedZip(reason: "central directory record \(index) at offset \(offset) is missing or damaged")
        }
        let nameLength = file.u16(offset + 28), extraLength = file.u16(offset + 30), commentLength = file.u16(offset + 32)
        let next = offset + 46 + nameLength + extraLength + commentLength
        guard next <= end else {
            throw CheckpointError.malformedZip(reason: "central directory record \(index) runs past the directory end")
        }
        let nameBytes = UnsafeRawBufferPointer(rebasing: file.bytes[(offset + 46)..<(offset + 46 + nameLength)])
        let name = String(decoding: nameBytes, as: UTF8.self)
        var compressed = file.u32(offset + 20)
        var uncompressed = file.u32(offset + 24)
        var localOffset = file.u32(offset + 42)

        // zip64 extra field (id 1): present values appear in this order, only for saturated fields.
        var extra = offset + 46 + nameLength
        let extraEnd = extra + extraLength
        while extra + 4 <= extraEnd {
            let id = file.u16(extra), length = file.u16(extra + 2)
            let body = extra + 4
            guard body + length <= extraEnd else {
                throw CheckpointError.malformedZip(reason: "extra field of '\(name)' runs past its record")
            }
            if id == 1 {
                var field = body
                func next64() throws -> Int {
                    guard field + 8 <= body + length, let v = file.u64(field) else {
                        throw CheckpointError.malformedZip(reason: "zip64 extra field of '\(name)' is too short or holds an impossible value")
                    }
                    field += 8
                    return v
                }
                if uncompressed == 0xFFFF_FFFF { uncompressed = try next64() }
                if compressed == 0xFFFF_FFFF { compressed = try next64() }
                if localOffset == 0xFFFF_FFFF { localOffset = try next64() }
            }
            extra = body + length
        }
        let entry = ZipEntry(name: name, method: file.u16(offset + 10), flags: file.u16(offset + 8),
                             compressedSize: compressed, uncompressedSize: uncompressed, localHeaderOffset: localOffset)
        return (entry, next)
    }

    private static func methodName(_ method: Int) -> String {
        switch method {
        case 8: return "deflate"
        case 9: return "deflate64"
        case 12: return "bzip2"
        case 14: return "lzma"
        case 93: return "zstd"
        default: return "unknown"
        }
    }
}
