// Helpers shared by the Checkpoint tests: in-memory files, zip building and bit-exact comparison.

import Foundation
import Testing
@testable import RWKV

enum CheckpointTestSupport {
    /// Writes `bytes` to a fresh temporary file and returns its path.
    static func temporaryFile(_ bytes: [UInt8], name: String = "input.bin") throws -> String {
        let path = try TestPaths.temporaryDirectory().appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A zip archive with the given entries, built in memory with the package's writer.
    static func zip(_ entries: [(name: String, bytes: [UInt8], method: Int)], forceZip64: Bool = false) throws -> [UInt8] {
        let sink = MemorySink()
        var writer = ZipWriter(sink: sink, forceZip64: forceZip64)
        for e in entries { try writer.addEntry(name: e.name, bytes: e.bytes, method: e.method) }
        try writer.finish()
        return sink.bytes
    }

    /// A torch-layout archive whose `data.pkl` is `pickle` and whose storages are `storages`.
    static func pthArchive(pickle: [UInt8], storages: [[UInt8]], method: Int = 0) throws -> [UInt8] {
        var entries: [(name: String, bytes: [UInt8], method: Int)] = [("m/data.pkl", pickle, method), ("m/byteorder", Array("little".utf8), 0)]
        for (i, s) in storages.enumerated() { entries.append(("m/data/\(i)", s, 0)) }
        return try zip(entries)
    }

    /// Reads a `.pth` held in memory.
    static func readPTH(_ bytes: [UInt8]) throws -> Checkpoint {
        try Checkpoint.readPTH(from: ByteStorage(copying: bytes))
    }

    /// Runs `body`, requires it to throw a `CheckpointError`, and returns it without `.inFile` wrappers.
    static func checkpointError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> CheckpointError? {
        do {
            try body()
            Issue.record("expected a CheckpointError, nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as CheckpointError {
            return error.underlying
        } catch {
            Issue.record("expected a CheckpointError, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    /// Expects two checkpoints to hold the same names, dtypes, shapes and bytes.
    static func expectIdentical(_ a: Checkpoint, _ b: Checkpoint, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.tensors.keys.sorted() == b.tensors.keys.sorted(), sourceLocation: sourceLocation)
        for (name, x) in a.tensors {
            guard let y = b.tensors[name] else { continue }
            #expect(x.dtype == y.dtype, "dtype of \(name)", sourceLocation: sourceLocation)
            #expect(x.shape == y.shape, "shape of \(name)", sourceLocation: sourceLocation)
            #expect(Array(x.rawBytes) == Array(y.rawBytes), "bytes of \(name)", sourceLocation: sourceLocation)
        }
    }

    /// Little-endian bytes of fp32 values.
    static func floatBytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }
}
