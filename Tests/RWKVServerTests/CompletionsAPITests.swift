// /v1/completions beyond one string prompt: token-id and list prompts, n, echo + logprobs (checked
// against a log-softmax of the model's own logits), scoring with max_tokens 0, tokenizer endpoints.

import Foundation
import Hummingbird
import HummingbirdTesting
import RWKV
import RWKVServer
import Testing

@Suite struct CompletionsAPITests {
    static let model: RWKVModel = {
        var spec = RandomModelSpec(layers: 2, embedding: 64, vocabulary: 256)
        (spec.decayRank, spec.iclrRank, spec.valueRank, spec.gateRank) = (8, 8, 8, 8)
        return try! RWKVModel(checkpoint: spec.checkpoint(dtype: .float32, seed: 9))
    }()

    func withApp(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let engine = BatchingEngine(modelID: "tiny", model: Self.model, tokenizer: ByteTokenizer())
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.maxTokensLimit = 64
        try await Application(router: buildRouter(engine: engine, configuration: configuration)).test(.router, body)
    }

    func post(_ client: any TestClientProtocol, _ uri: String, _ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: uri, method: .post, body: ByteBuffer(string: body)) { response in
            let object = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
            return (response.status, object)
        }
    }

    func choices(_ object: [String: Any]) -> [[String: Any]] { object["choices"] as? [[String: Any]] ?? [] }

    /// log p(token[i] | token[..<i]) from all-position logits, computed here (not by the server's code).
    func expectedLogprobs(_ tokens: [Int]) throws -> [Double] {
        var state = Self.model.makeState()
        let logits = try Self.model.forward(Array(tokens.dropLast()), state: &state, allLogits: true)
        return (1..<tokens.count).map { i in
            let row = logits.data[((i - 1) * logits.cols)..<(i * logits.cols)].map(Double.init)
            let m = row.max()!
            return row[tokens[i]] - m - Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
        }
    }

    @Test func echoWithLogprobsScoresThePrompt() async throws {
        let prompt = Array("The cat sat".utf8).map(Int.init)
        let expected = try expectedLogprobs(prompt)
        try await withApp { client in
            let (status, object) = try await post(client, "/v1/completions",
                                                  #"{"prompt": \#(prompt), "max_tokens": 0, "echo": true, "logprobs": 3}"#)
            #expect(status == .ok)
            let choice = try #require(choices(object).first)
            #expect(choice["text"] as? String == "The cat sat")
            let lp = try #require(choice["logprobs"] as? [String: Any])
            #expect(lp["tokens"] as? [String] == "The cat sat".map { String($0) })
            let values = try #require(lp["token_logprobs"] as? [Any])
            #expect(values.count == prompt.count && values[0] is NSNull)
            for (i, e) in expected.enumerated() {
                let got = try #require(values[i + 1] as? Double)
                #expect(abs(got - e) < 1e-4, "position \(i + 1): \(got) vs \(e)")
            }
            let top = try #require(lp["top_logprobs"] as? [Any])
            #expect(top[0] is NSNull)
            // Up to 3 entries (bytes that are not UTF-8 on their own share the string U+FFFD); the best is the argmax.
            var state = Self.model.makeState()
            let logits = try Self.model.forward(Array(prompt.dropLast()), state: &state, allLogits: true)
            for i in 1..<prompt.count {
                let entries = try #require(top[i] as? [String: Double])
                let row = logits.data[((i - 1) * logits.cols)..<(i * logits.cols)].map(Double.init)
                let m = row.max()!
                let best = -Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
                #expect((1...3).contains(entries.count) && abs(entries.values.max()! - best) < 1e-4)
            }
            #expect(lp["text_offset"] as? [Int] == Array(0..<prompt.count))
            #expect((object["usage"] as? [String: Int])?["completion_tokens"] == 0)
        }
    }

    @Test func tokenPromptsListsAndNMatchSingleRequests() async throws {
        try await withApp { client in
            func single(_ prompt: String, seed: Int) async throws -> String {
                let (_, o) = try await post(client, "/v1/completions", #"{"prompt": "\#(prompt)", "max_tokens": 6, "seed": \#(seed)}"#)
                return choices(o).first?["text"] as? String ?? "?"
            }
            let a = try await single("ab", seed: 5), b = try await single("cd", seed: 5)
            let (_, asIDs) = try await post(client, "/v1/completions", #"{"prompt": [97, 98], "max_tokens": 6, "seed": 5}"#)
            #expect(choices(asIDs).first?["text"] as? String == a)
            let (_, list) = try await post(client, "/v1/completions", #"{"prompt": ["ab", "cd"], "max_tokens": 6, "seed": 5}"#)
            #expect(choices(list).map { $0["text"] as? String } == [a, b])
            #expect(choices(list).map { $0["index"] as? Int } == [0, 1])
            let (_, lists) = try await post(client, "/v1/completions", #"{"prompt": [[97, 98], [99, 100]], "max_tokens": 6, "seed": 5}"#)
            #expect(choices(lists).map { $0["text"] as? String } == [a, b])
            // n samples: the i-th uses seed + i.
            let (_, many) = try await post(client, "/v1/completions", #"{"prompt": "ab", "max_tokens": 6, "seed": 5, "n": 3}"#)
            let expected = [a, try await single("ab", seed: 6), try await single("ab", seed: 7)]
            #expect(choices(many).map { $0["text"] as? String } == expected)
        }
    }

    @Test func generatedTokensCarryTheirLogprobs() async throws {
        try await withApp { client in
            let (status, object) = try await post(client, "/v1/completions",
                                                  #"{"prompt": "ab", "max_tokens": 5, "temperature": 0, "logprobs": 0}"#)
            #expect(status == .ok)
            let choice = try #require(choices(object).first)
            let lp = try #require(choice["logprobs"] as? [String: Any])
            let values = try #require(lp["token_logprobs"] as? [Double])
            // The same greedy run through the library gives the generated ids (the text is lossy for random bytes).
            var sampling = SamplingParameters.greedy
            sampling.topP = 1
            var generator = try TokenGenerator(model: Self.model, tokenizer: ByteTokenizer(), prompt: [97, 98],
                                               parameters: GenerateParameters(maxNewTokens: 5, sampling: sampling))
            var generated: [Int] = []
            while let t = try generator.next() { generated.append(t) }
            let tokens = [97, 98] + generated
            let expected = Array(try expectedLogprobs(tokens).suffix(values.count))
            #expect(values.count == 5)
            for (g, e) in zip(values, expected) { #expect(abs(g - e) < 1e-4) }
        }
    }

    @Test func tokenizerEndpoints() async throws {
        try await withApp { client in
            let (s1, t) = try await post(client, "/tokenize", #"{"prompt": "hi", "add_special_tokens": false}"#)
            #expect(s1 == .ok && t["tokens"] as? [Int] == [104, 105])
            let (s2, d) = try await post(client, "/detokenize", #"{"tokens": [104, 105]}"#)
            #expect(s2 == .ok && d["prompt"] as? String == "hi")
            let (s3, _) = try await post(client, "/v1/tokenize", #"{"prompt": "hi"}"#)
            #expect(s3 == .ok)
            try await client.execute(uri: "/tokenizer_info", method: .get) { response in
                #expect(response.status == .ok)
                let info = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
                #expect(info["chat_template"] is String && info["eos_token"] is String && info["vocab_size"] as? Int == 256)
            }
        }
    }

    @Test(arguments: [
        #"{"prompt": "x", "logprobs": 21}"#, #"{"prompt": [300]}"#, #"{"prompt": [-1]}"#, #"{"prompt": "x", "n": 0}"#,
        #"{"prompt": []}"#, #"{"prompt": [[]]}"#, #"{"prompt": "x", "n": 2, "stream": true}"#, #"{"prompt": {"a": 1}}"#,
    ])
    func badCompletionRequestsAre400(body: String) async throws {
        try await withApp { client in
            let (status, object) = try await post(client, "/v1/completions", body)
            #expect(status == .badRequest, "\(body)")
            #expect((object["error"] as? [String: Any])?["message"] is String)
        }
    }
}
