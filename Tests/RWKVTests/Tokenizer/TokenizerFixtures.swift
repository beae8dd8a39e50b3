// TokenizerFixtures: locates and reads the pip-generated tokenizer fixtures (scripts/make_fixtures.py).
//
// `vectors.json` holds encode/decode cases; `books.safetensors` holds pip's ids for the first
// 200,000 bytes of two books in the shared data folder. The tiny safetensors reader here reads only
// I32 tensors and exists so these tests do not depend on the Checkpoint layer.

import Foundation
import Testing

enum TokenizerFixtures {
    /// `<repo>/Tests`, found from this file's path.
    static let testsDirectory: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" && url.path != "/" { url.deleteLastPathComponent() }
        return url
    }()

    static let directory = testsDirectory.appendingPathComponent("Fixtures/tokenizer")
    static let regenerate = "regenerate with `python scripts/make_fixtures.py --only tokenizer --only books`"

    struct EncodeCase: Decodable {
        var text: String
        var utf8_hex: String
        var ids: [Int]
    }

    struct DecodeCase: Decodable {
        var ids: [Int]
        var utf8_hex: String
        var text_or_null: String?
    }

    struct Vectors: Decodable {
        var rwkv: String
        var encode: [EncodeCase]
        var decode: [DecodeCase]
    }

    static func vectors() throws -> Vectors {
        let data = try Data(contentsOf: directory.appendingPathComponent("vectors.json"))
        let vectors = try JSONDecoder().decode(Vectors.self, from: data)
        try #require(vectors.rwkv == "0.8.32", "vectors.json is from rwkv \(vectors.rwkv); \(regenerate)")
        return vectors
    }

    /// Bytes from a lowercase hex string.
    static func bytes(hex: String) throws -> [UInt8] {
        let digits = Array(hex.utf8)
        try #require(digits.count % 2 == 0, "odd hex length in fixture")
        return try stride(from: 0, to: digits.count, by: 2).map { i in
            try #require(UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16))
        }
    }

    /// The I32 tensors and metadata of a safetensors file.
    static func int32Tensors(_ name: String) throws -> (tensors: [String: [Int]], metadata: [String: String]) {
        let file = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
        try #require(file.count >= 8, "\(name) is shorter than a safetensors header; \(regenerate)")
        let headerLength = file[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        try #require(headerLength <= file.count - 8)
        let header = try #require(
            try JSONSerialization.jsonObject(with: Data(file[8..<8 + headerLength])) as? [String: Any])
        var tensors: [String: [Int]] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in header {
            if key == "__metadata__" {
                metadata = try #require(value as? [String: String])
                continue
            }
            let info = try #require(value as? [String: Any])
            try #require(info["dtype"] as? String == "I32", "tensor \(key) is not I32")
            let offsets = try #require(info["data_offsets"] as? [Int])
            let start = 8 + headerLength + offsets[0], end = 8 + headerLength + offsets[1]
            try #require(offsets.count == 2 && start <= end && end <= file.count && (end - start) % 4 == 0)
            tensors[key] = stride(from: start, to: end, by: 4).map { i in
                Int(Int32(bitPattern: UInt32(file[i]) | UInt32(file[i + 1]) << 8 | UInt32(file[i + 2]) << 16 | UInt32(file[i + 3]) << 24))
            }
        }
        return (tensors, metadata)
    }
}
