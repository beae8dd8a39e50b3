import Testing
@testable import RWKV

@Suite struct ZipArchiveTests {
    typealias S = CheckpointTestSupport

    @Test(arguments: [false, true])
    func writtenArchiveReadsBackWithAlignedData(forceZip64: Bool) throws {
        let payload = (0..<300).map { UInt8($0 % 251) }
        let bytes = try S.zip([("a/data.pkl", [1, 2, 3], 0), ("a/data/0", payload, 0), ("a/empty", [], 0)], forceZip64: forceZip64)
        let archive = try ZipArchive(storage: ByteStorage(copying: bytes))
        #expect(archive.entries.map(\.name) == ["a/data.pkl", "a/data/0", "a/empty"])
        let entry = try #require(archive.entry(named: "a/data/0"))
        let range = try archive.dataRange(of: entry)
        #expect(range.lowerBound % 64 == 0)
        #expect(Array(try archive.data(of: entry)) == payload)
        #expect(Array(try archive.data(of: try #require(archive.entry(named: "a/data.pkl")))) == [1, 2, 3])
        #expect(try archive.data(of: try #require(archive.entry(named: "a/empty"))).isEmpty)
    }

    @Test func crcMatchesKnownValue() {
        // The standard check value of CRC-32/IEEE.
        let check = Array("123456789".utf8)
        #expect(check.withUnsafeBytes { zipCRC32($0) } == 0xCBF4_3926)
        let long = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var bytewise: UInt32 = 0xFFFF_FFFF
        for b in long {
            bytewise ^= UInt32(b)
            for _ in 0..<8 { bytewise = bytewise & 1 != 0 ? (bytewise >> 1) ^ 0xEDB8_8320 : bytewise >> 1 }
        }
        #expect(long.withUnsafeBytes { zipCRC32($0) } == ~bytewise)
    }

    @Test func truncatedArchiveIsRejected() throws {
        let bytes = try S.zip([("a/data/0", [UInt8](repeating: 7, count: 500), 0)])
        for cut in [bytes.count - 1, bytes.count / 2, 30] {
            let error = S.checkpointError { _ = try ZipArchive(storage: ByteStorage(copying: bytes.prefix(cut))) }
            guard case .malformedZip = error else { Issue.record("cut at \(cut): \(String(describing: error))"); continue }
        }
    }

    @Test func nonZipIsRejected() {
        let text = Array("this is a plain text file, certainly not a zip archive".utf8)
        let error = S.checkpointError { _ = try ZipArchive(storage: ByteStorage(copying: text)) }
        #expect(error?.description.contains("end-of-central-directory") == true)
        #expect(S.checkpointError { _ = try ZipArchive(storage: ByteStorage(copying: [0x50, 0x4B])) }?.code == "malformed_zip")
    }

    @Test func compressedEntryIsNamedWithItsMethod() throws {
        let bytes = try S.zip([("a/data/0", [1, 2, 3, 4], 8)])
        let archive = try ZipArchive(storage: ByteStorage(copying: bytes))
        let error = S.checkpointError { _ = try archive.data(of: archive.entries[0]) }
        guard case let .unsupportedZipEntry(entry, reason) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(entry == "a/data/0")
        #expect(reason.contains("method 8") && reason.contains("deflate"))
    }

    @Test func localHeaderPastEndIsRejected() throws {
        var bytes = try S.zip([("x", [9, 9], 0)])
        // Point the central record's local-header offset (46-byte record, offset field at +42) far away.
        let central = bytes.count - 22 - (46 + 1)
        #expect(bytes[central] == 0x50 && bytes[central + 1] == 0x4B)
        bytes[central + 42] = 0xFF; bytes[central + 43] = 0xFF; bytes[central + 44] = 0xFF; bytes[central + 45] = 0x7F
        let archive = try ZipArchive(storage: ByteStorage(copying: bytes))
        let error = S.checkpointError { _ = try archive.data(of: archive.entries[0]) }
        #expect(error?.description.contains("outside the file") == true)
    }
}
