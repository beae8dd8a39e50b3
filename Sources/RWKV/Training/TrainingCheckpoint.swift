// Files a training run reads and writes: the resume checkpoint (weights + Adam state, our own format)
// and the official-layout export (a `Checkpoint`, written as bf16 `.pth` for RWKV-LM).
//
// Resume file layout (little-endian):
//   "RWKVTRN1" (8 bytes) | UInt64 header length | JSON `ResumeHeader` | fp32 arrays in `arrays` order
//   | UInt32 CRC-32 of every byte before it (header version 2; version-1 files have no checksum)
// Arrays: parameters, adam.m, adam.v, then (state tuning) state, state.m, state.v. Written atomically
// (temporary file + fsync + rename), so a crash mid-write leaves the previous checkpoint intact.
// Reading trusts nothing: lengths and counts are checked against the file size before any allocation.

import Foundation

/// Everything besides the big arrays needed to continue a run bit-for-bit.
public struct ResumeHeader: Codable, Sendable, Equatable {
    public var version = 2
    public var dimensions: RWKV7Dimensions
    public var optimizer: OptimizerSettings
    public var step: Int
    public var stateOptimizerStep: Int?
    /// Names and element counts of the arrays that follow the header, in order.
    public var arrays: [String]
    public var counts: [Int]
    /// Free-form run settings (batch, ctx, seed, data path …) so `--resume` can check them.
    public var run: [String: String]
}

enum ResumeFile {
    static let magic = Array("RWKVTRN1".utf8)

    static func write(path: String, header: ResumeHeader, arrays: [UnsafeMutableBufferPointer<Float>]) throws {
        let out = try AtomicFileWriter(path: path)
        var header = header
        header.version = 2
        let json = try JSONEncoder().encode(header)
        var length = UInt64(json.count).littleEndian
        var crc: UInt32 = 0
        func emit(_ bytes: UnsafeRawBufferPointer) throws {
            crc = zipCRC32(bytes, seed: crc)
            try out.write(bytes)
        }
        try magic.withUnsafeBytes { try emit($0) }
        try withUnsafeBytes(of: &length) { try emit($0) }
        try json.withUnsafeBytes { try emit($0) }
        for a in arrays { try emit(UnsafeRawBufferPointer(a)) }
        var checksum = crc.littleEndian
        try withUnsafeBytes(of: &checksum) { try out.write($0) }
        try out.commit()
    }

    /// Reads the header and the raw arrays (each checked against the header's counts and the checksum).
    static func read(path: String) throws -> (ResumeHeader, [[Float]]) {
        func fail(_ detail: String) -> TrainingError { .checkpoint(path: path, detail: detail) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileManager.default.contents(atPath: path) else {
            throw fail("cannot read the file (missing, a directory, or unreadable)")
        }
        guard data.count >= 16, Array(data.prefix(8)) == magic else {
            throw fail("not a swift-rwkv training checkpoint (expected magic RWKVTRN1)")
        }
        let declared = data.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard let length = Checked.int(declared, limit: data.count - 16), length > 0 else {
            throw fail("header length \(declared) runs past the end of the \(data.count)-byte file")
        }
        let header: ResumeHeader
        do { header = try JSONDecoder().decode(ResumeHeader.self, from: data.subdata(in: 16..<(16 + length))) } catch {
            throw fail("unreadable header: \(error)")
        }
        guard header.version == 1 || header.version == 2 else { throw fail("unsupported header version \(header.version) (1 and 2 are read)") }
        try validate(header, fail: fail)
        let trailer = header.version == 2 ? 4 : 0
        guard let arrayBytes = Checked.sum(header.counts).flatMap({ Checked.multiply($0, 4) }),
              let expected = Checked.sum([16, length, arrayBytes, trailer]) else {
            throw fail("array counts \(header.counts) overflow; the file is damaged")
        }
        guard data.count == expected else { throw fail("file has \(data.count) bytes, the header describes \(expected)") }
        if header.version == 2 {
            let stored = data.subdata(in: (expected - 4)..<expected).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
            let actual = data.withUnsafeBytes { zipCRC32(UnsafeRawBufferPointer(rebasing: $0[0..<(expected - 4)])) }
            guard stored == actual else { throw fail("checksum mismatch: the file is corrupted; resume from an older checkpoint or start again") }
        }
        var offset = 16 + length, arrays: [[Float]] = []
        for count in header.counts {
            let slice = data.subdata(in: offset..<(offset + count * 4))
            arrays.append(slice.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } })
            offset += count * 4
        }
        return (header, arrays)
    }

    /// Header fields that decide sizes or loop bounds: all checked before they are used.
    private static func validate(_ header: ResumeHeader, fail: (String) -> TrainingError) throws {
        guard header.arrays.count == header.counts.count, (1...16).contains(header.counts.count) else {
            throw fail("\(header.arrays.count) array names for \(header.counts.count) counts; expected the same number, 1 to 16")
        }
        if let bad = header.counts.first(where: { $0 < 0 }) { throw fail("negative array count \(bad)") }
        guard header.step >= 0, (header.stateOptimizerStep ?? 0) >= 0 else {
            throw fail("negative step \(header.step) / state step \(header.stateOptimizerStep ?? 0)")
        }
        do {
            try header.dimensions.validate()
            try header.optimizer.validate()
        } catch { throw fail("\(error)") }
        // The parameter arrays must be as large as the model; this bounds the model by the file size.
        guard let parameters = header.dimensions.checkedParameterCount, header.counts[0] == parameters else {
            throw fail("the first array has \(header.counts[0]) values, the model \(header.dimensions) needs "
                       + "\(header.dimensions.checkedParameterCount.map(String.init) ?? "more than Int.max")")
        }
    }
}

extension RWKV7TrainingModel {
    /// The parameters as an official-layout checkpoint (fp32 tensors with the `.pth` names and shapes).
    /// `.convertingFloats(to: .bfloat16).writePTH(to:)` gives what RWKV-LM `--load_model` reads.
    public func exportCheckpoint() throws -> Checkpoint {
        var tensors: [String: Tensor] = [:]
        for (i, spec) in layout.specs.enumerated() {
            let off = layout.offsets[i]
            tensors[spec.name] = try Tensor(parameters.buffer[off..<(off + spec.count)].map { Float($0) }, shape: spec.shape)
        }
        return Checkpoint(tensors: tensors)
    }

    /// Copies matching tensors of `checkpoint` into the parameters (fine-tuning from an official file).
    /// Layer-0 `v0/v1/v2` may be absent (converters drop them); every other tensor must be present.
    public func load(_ checkpoint: Checkpoint) throws {
        for (i, spec) in layout.specs.enumerated() {
            guard let t = checkpoint.tensors[spec.name] else {
                if spec.name.hasPrefix("blocks.0.att.v") { continue }
                throw ModelError.missingTensor(spec.name)
            }
            guard t.count == spec.count, t.shape.filter({ $0 != 1 }) == spec.shape.filter({ $0 != 1 }) else {
                throw ModelError.wrongShape(tensor: spec.name, expected: spec.shape, found: t.shape)
            }
            let values = t.floats(), off = layout.offsets[i]
            for j in 0..<spec.count { parameters.buffer[off + j] = S(values[j]) }
        }
    }
}

extension RWKV7Dimensions {
    /// Sizes of an official-layout checkpoint (read from its shapes).
    public init(checkpoint: Checkpoint) throws {
        let config = try ModelConfig.detect(from: checkpoint.tensors)
        guard config.version == .v7 else { throw ModelError.unsupportedVersion(config.version, detail: "training supports RWKV-7 only") }
        self.init(layers: config.layerCount, embedding: config.embeddingSize, headSize: config.headSize,
                  vocabulary: config.vocabularySize, decayRank: config.decayRank, iclrRank: config.iclrRank,
                  valueRank: config.valueRank, gateRank: config.gateRank)
    }
}

extension RWKV7Initializer {
    /// A fresh official-layout fp32 checkpoint (what RWKV-LM's `--train_stage 1` would write, spec §9.1).
    public static func checkpoint(dimensions: RWKV7Dimensions, seed: UInt64) throws -> Checkpoint {
        try dimensions.validate()
        var rng = TrainingRandom(seed: seed)
        var tensors: [String: Tensor] = [:]
        for spec in dimensions.parameterSpecs {
            tensors[spec.name] = try Tensor(initialValues(spec, dimensions: dimensions, rng: &rng).map { Float($0) }, shape: spec.shape)
        }
        return Checkpoint(tensors: tensors)
    }
}
