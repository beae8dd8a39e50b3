// resume.bin from a stranger (issue 13): absurd header lengths, counts, steps and warm-ups are errors
// before anything is allocated or computed, and a corrupted payload is caught by the checksum.

import Foundation
import Testing
@testable import RWKV

@Suite("Hostile resume files")
struct ResumeFileCrasherTests {
    typealias T = TrainingSessionTests

    /// A real resume file of the tiny training model, as bytes.
    func resumeBytes() throws -> [UInt8] {
        let session = try TrainingSession(dimensions: T.dims, settings: T.settings, optimizer: T.optimizer(), data: T.corpus())
        _ = try session.trainStep()
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("resume.bin").path
        try session.saveResumeCheckpoint(path: path)
        return try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The file with its JSON header edited by `edit`, length and checksum recomputed (so only the edit is wrong).
    func edited(_ bytes: [UInt8], _ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        let length = Int(bytes[8..<16].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        var header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[16..<(16 + length)])) as? [String: Any])
        edit(&header)
        let json = [UInt8](try JSONSerialization.data(withJSONObject: header))
        var out = Array(bytes[0..<8]) + withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json
        out += bytes[(16 + length)..<(bytes.count - 4)]
        out += withUnsafeBytes(of: out.withUnsafeBytes { zipCRC32($0) }.littleEndian) { Array($0) }
        return out
    }

    func resumeError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("resume.bin").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try TrainingSession.resume(path: path, settings: T.settings, data: T.corpus())
            Issue.record("resume accepted a damaged file", sourceLocation: sourceLocation)
        } catch let TrainingError.checkpoint(_, detail) {
            return detail
        } catch {
            Issue.record("expected TrainingError.checkpoint, got \(error)", sourceLocation: sourceLocation)
        }
        return ""
    }

    @Test("The unedited file resumes (the edits below are the only damage)")
    func baseline() throws {
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("resume.bin").path
        try Data(try edited(try resumeBytes()) { _ in }).write(to: URL(fileURLWithPath: path))
        #expect(try TrainingSession.resume(path: path, settings: T.settings, data: T.corpus()).step == 1)
    }

    @Test("Header length ≥ 2^63 or past the end", arguments: [UInt64.max, 1 << 63, 1 << 40])
    func hugeHeaderLength(length: UInt64) throws {
        var bytes = try resumeBytes()
        withUnsafeBytes(of: length.littleEndian) { for i in 0..<8 { bytes[8 + i] = $0[i] } }
        #expect(try resumeError(bytes).contains("header length"))
    }

    @Test("Overflowing, negative or mismatched counts", arguments: [[Int.max, Int.max, Int.max], [-8, 8, 8], [1 << 61, 1 << 61, 1 << 61], [0, 0, 0]])
    func badCounts(counts: [Int]) throws {
        let bytes = try edited(try resumeBytes()) { $0["counts"] = counts }
        #expect(try !resumeError(bytes).isEmpty)
    }

    @Test("Negative step")
    func negativeStep() throws {
        #expect(try resumeError(try edited(try resumeBytes()) { $0["step"] = -3 }).contains("negative step"))
        #expect(try resumeError(try edited(try resumeBytes()) { $0["stateOptimizerStep"] = Int.min }).contains("negative step"))
    }

    @Test("Huge warm-up, token counts or rates in the optimizer settings")
    func hugeOptimizerValues() throws {
        for (key, value) in [("warmupSteps", Int.max as Any), ("tokensPerStep", Int.max), ("tokensPerStep", 0), ("exitTokens", -1), ("beta1", 1.5)] {
            let bytes = try edited(try resumeBytes()) { header in
                var optimizer = header["optimizer"] as? [String: Any] ?? [:]
                optimizer[key] = value
                header["optimizer"] = optimizer
            }
            #expect(try resumeError(bytes).contains(key), "\(key) = \(value)")
        }
    }

    @Test("A header claiming a million layers is refused before the model is allocated")
    func hugeModel() throws {
        let bytes = try edited(try resumeBytes()) { header in
            var dims = header["dimensions"] as? [String: Any] ?? [:]
            dims["layers"] = 1_000_000
            header["dimensions"] = dims
        }
        #expect(try resumeError(bytes).contains("layers"))
        let wide = try edited(try resumeBytes()) { header in
            var dims = header["dimensions"] as? [String: Any] ?? [:]
            dims["layers"] = 4096; dims["embedding"] = 65536; dims["headSize"] = 64
            header["dimensions"] = dims
        }
        #expect(try resumeError(wide).contains("needs"))   // parameter count ≠ the file's first array
    }

    @Test("A flipped payload byte is caught by the checksum")
    func payloadCorruption() throws {
        var bytes = try resumeBytes()
        bytes[bytes.count - 100] ^= 0x10
        #expect(try resumeError(bytes).contains("checksum"))
    }

    @Test("Truncation and a directory are errors")
    func truncatedOrDirectory() throws {
        let bytes = try resumeBytes()
        for cut in [0, 8, 15, 16, 40, bytes.count / 2, bytes.count - 1] {
            #expect(try !resumeError(Array(bytes.prefix(cut))).isEmpty, "cut at \(cut)")
        }
        let dir = try TestPaths.temporaryDirectory().path
        #expect(throws: TrainingError.self) { _ = try TrainingSession.resume(path: dir, settings: T.settings, data: T.corpus()) }
    }
}
