// The HTTP API driven through the router (no socket), over the bundled byte-level RWKV-7 model.

import Foundation
import Hummingbird
import HummingbirdTesting
import RWKV
import RWKVServer
import Testing

@Suite struct ServerTests {
    static let modelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("models/rwkv7-shakespeare-L6-D256.pth").path

    func makeApp() throws -> (some ApplicationProtocol, BatchingEngine) {
        let model = try RWKVModel(checkpoint: Checkpoint.load(path: Self.modelPath))
        let engine = BatchingEngine(modelID: "tiny", model: model, tokenizer: ByteTokenizer())
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.maxTokensLimit = 64
        return (Application(router: buildRouter(engine: engine, configuration: configuration)), engine)
    }

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test func listsTheModel() async throws {
        let (app, _) = try makeApp()
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/models", method: .get) { response in
                #expect(response.status == .ok)
                let data = try #require(try json(response.body)["data"] as? [[String: Any]])
                #expect(data.first?["id"] as? String == "tiny")
            }
        }
    }

    @Test func greedyCompletionEqualsLibraryGeneration() async throws {
        let (app, engine) = try makeApp()
        var text = ""
        try generateText(model: engine.model, tokenizer: engine.tokenizer, prompt: "In the beginning",
                         parameters: GenerateParameters(maxNewTokens: 12, sampling: .greedy)) { text += $0; return true }
        let expected = text
        try await app.test(.router) { client in
            let body = #"{"model": "tiny", "prompt": "In the beginning", "max_tokens": 12, "temperature": 0}"#
            try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                let object = try json(response.body)
                let choice = try #require((object["choices"] as? [[String: Any]])?.first)
                #expect(choice["text"] as? String == expected)
                #expect(choice["finish_reason"] as? String == "length")
                let usage = try #require(object["usage"] as? [String: Int])
                #expect(usage == ["prompt_tokens": 16, "completion_tokens": 12, "total_tokens": 28])
            }
        }
    }

    /// Concurrent requests share batched decode steps; each still gets exactly its own greedy text.
    @Test func concurrentRequestsAreBatchedAndIndependent() async throws {
        let (app, engine) = try makeApp()
        let prompts = ["In the beginning", "Once upon a time there", "The"]
        var expected: [String] = []
        for prompt in prompts {
            var text = ""
            try generateText(model: engine.model, tokenizer: engine.tokenizer, prompt: prompt,
                             parameters: GenerateParameters(maxNewTokens: 10 + prompt.count % 7, sampling: .greedy)) { text += $0; return true }
            expected.append(text)
        }
        let answers = expected
        try await app.test(.router) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, prompt) in prompts.enumerated() {
                    group.addTask {
                        let body = #"{"prompt": "\#(prompt)", "max_tokens": \#(10 + prompt.count % 7), "temperature": 0}"#
                        try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: body)) { response in
                            let choice = (try json(response.body)["choices"] as? [[String: Any]])?.first
                            #expect(choice?["text"] as? String == answers[i], "prompt \(i)")
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func chatStreamsServerSentEventsEndingInDone() async throws {
        let (app, _) = try makeApp()
        try await app.test(.router) { client in
            let body = #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 6, "stream": true, "seed": 3}"#
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/event-stream")
                let events = String(buffer: response.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.last == "data: [DONE]")
                let chunks = try events.dropLast().map { event -> [String: Any] in
                    #expect(event.hasPrefix("data: "))
                    return try #require(JSONSerialization.jsonObject(with: Data(event.dropFirst(6).utf8)) as? [String: Any])
                }
                #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
                let deltas = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"]) as? [String: Any] }
                #expect(deltas.first?["role"] as? String == "assistant")
                let finish = (chunks.last?["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String
                #expect(finish == "length" || finish == "stop")
            }
        }
    }

    @Test(arguments: [
        (#"not json"#, "/v1/completions"),
        (#"{"prompt": 1}"#, "/v1/completions"),
        (#"{"prompt": "x", "max_tokens": 100000}"#, "/v1/completions"),
        (#"{"prompt": "x", "temperature": -1}"#, "/v1/completions"),
        (#"{"messages": []}"#, "/v1/chat/completions"),
        (#"{"messages": [{"role": "wizard", "content": "x"}]}"#, "/v1/chat/completions"),
    ])
    func badRequestsGetOpenAIStyleErrors(body: String, uri: String) async throws {
        let (app, _) = try makeApp()
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest, "\(body)")
                let error = try #require(try json(response.body)["error"] as? [String: Any])
                #expect((error["message"] as? String)?.isEmpty == false)
            }
        }
    }

    @Test func oversizedBodyIsRefused() async throws {
        let (app, _) = try makeApp()
        try await app.test(.router) { client in
            let huge = #"{"prompt": ""# + String(repeating: "a", count: 3 << 20) + #""}"#
            try await client.execute(uri: "/v1/completions", method: .post, body: ByteBuffer(string: huge)) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
    }
}
