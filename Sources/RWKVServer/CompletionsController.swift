// /v1/models, /v1/completions and /v1/chat/completions over any `TextEngine`.

import Foundation
import Hummingbird
import RWKV

struct CompletionsController<Engine: TextEngine> {
    let engine: Engine
    let configuration: ServerConfiguration

    func addRoutes(to group: RouterGroup<ServerRequestContext>) {
        group.get("models") { _, _ in try json(models()) }
        group.post("completions") { request, context in try await complete(request, context: context) }
        group.post("chat/completions") { request, context in try await chat(request, context: context) }
    }

    func models() -> ModelList {
        ModelList(object: "list", data: [.init(id: engine.modelID, object: "model", created: startTime, owned_by: "swift-rwkv")])
    }

    // MARK: /v1/completions

    func complete(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let body = try await decode(CompletionRequest.self, request, context)
        let parameters = try generateParameters(body.fields, chat: false)
        let id = "cmpl-" + UUID().uuidString.lowercased()
        let stream = engine.generate(prompt: body.prompt.text, parameters: parameters)
        if body.fields.stream == true {
            return eventStream(stream) { _, event in
                switch event {
                case let .chunk(text):
                    return CompletionResponse(id: id, object: "text_completion", created: now(), model: engine.modelID,
                                              choices: [.init(text: text, index: 0, finish_reason: nil)], usage: nil)
                case let .info(info):
                    return CompletionResponse(id: id, object: "text_completion", created: now(), model: engine.modelID,
                                              choices: [.init(text: "", index: 0, finish_reason: info.stopReason.openAIName)],
                                              usage: usage(info))
                }
            }
        }
        let (text, info) = try await collect(stream)
        return try json(CompletionResponse(id: id, object: "text_completion", created: now(), model: engine.modelID,
                                           choices: [.init(text: text, index: 0, finish_reason: info.stopReason.openAIName)],
                                           usage: usage(info)))
    }

    // MARK: /v1/chat/completions

    func chat(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let body = try await decode(ChatRequest.self, request, context)
        guard !body.messages.isEmpty else { throw APIError.badRequest("messages must not be empty", param: "messages") }
        let messages = try body.messages.enumerated().map { i, m -> ChatMessage in
            guard let role = ChatMessage.Role(rawValue: m.role) else {
                throw APIError.badRequest("messages[\(i)].role must be system, user or assistant, found '\(m.role)'", param: "messages")
            }
            return ChatMessage(role: role, content: m.content ?? "")
        }
        let parameters = try generateParameters(body.fields, chat: true)
        let id = "chatcmpl-" + UUID().uuidString.lowercased()
        let stream = engine.generate(prompt: ChatTemplate.g1.prompt(for: messages), parameters: parameters)
        if body.fields.stream == true {
            return eventStream(stream) { index, event in
                func chunk(_ delta: ChatChunk.Delta, _ finish: String?) -> ChatChunk {
                    ChatChunk(id: id, object: "chat.completion.chunk", created: now(), model: engine.modelID,
                              choices: [.init(index: 0, delta: delta, finish_reason: finish)])
                }
                switch event {
                case let .chunk(text):
                    return chunk(.init(role: index == 0 ? "assistant" : nil, content: text), nil)
                case let .info(info):
                    return chunk(.init(role: nil, content: nil), info.stopReason.openAIName)
                }
            }
        }
        let (text, info) = try await collect(stream)
        return try json(ChatResponse(id: id, object: "chat.completion", created: now(), model: engine.modelID,
                                     choices: [.init(index: 0, message: .init(role: "assistant", content: text),
                                                     finish_reason: info.stopReason.openAIName)],
                                     usage: usage(info)))
    }

    // MARK: Helpers

    /// OpenAI semantics for omitted fields: temperature 1, top_p 1 (no nucleus filter), no penalties.
    func generateParameters(_ f: SamplingFields, chat: Bool) throws -> GenerateParameters {
        let maxTokens = f.max_completion_tokens ?? f.max_tokens ?? configuration.defaultMaxTokens
        guard (0...configuration.maxTokensLimit).contains(maxTokens) else {
            throw APIError.badRequest("max_tokens must be between 0 and \(configuration.maxTokensLimit), found \(maxTokens)", param: "max_tokens")
        }
        var s = SamplingParameters(temperature: f.temperature ?? 1, topP: f.top_p ?? 1, topK: f.top_k ?? 0,
                                   presencePenalty: f.presence_penalty ?? 0, frequencyPenalty: f.frequency_penalty ?? 0,
                                   penaltyDecay: f.penalty_decay ?? 0.996, stopStrings: f.stop?.values ?? [], seed: f.seed)
        if chat && !s.stopStrings.contains(ChatTemplate.g1.replyStop) { s.stopStrings.append(ChatTemplate.g1.replyStop) }
        do { try s.validate() } catch { throw APIError.badRequest("\(error)") }
        return GenerateParameters(maxNewTokens: maxTokens, sampling: s)
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ context: ServerRequestContext) async throws -> T {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: context.maxUploadSize)
        } catch {
            throw APIError(status: .contentTooLarge, message: "request body is larger than \(context.maxUploadSize) bytes")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.badRequest("invalid request body: \(describe(error))")
        }
    }

    func collect(_ stream: AsyncThrowingStream<Generation, Error>) async throws -> (String, GenerationInfo) {
        var text = ""
        do {
            for try await event in stream {
                switch event {
                case let .chunk(piece): text += piece
                case let .info(info): return (text, info)
                }
            }
        } catch {
            throw APIError(status: .internalServerError, message: "generation failed: \(error)", type: "server_error")
        }
        throw APIError(status: .internalServerError, message: "generation ended without a summary", type: "server_error")
    }

    /// Server-sent events: one `data:` line per event, then `data: [DONE]`.
    func eventStream<Payload: Encodable & Sendable>(_ stream: AsyncThrowingStream<Generation, Error>,
                                         _ payload: @escaping @Sendable (_ index: Int, Generation) -> Payload) -> Response {
        let bytes = AsyncThrowingStream<ByteBuffer, Error> { continuation in
            let task = Task {
                let encoder = JSONEncoder()
                var index = 0
                do {
                    for try await event in stream {
                        if case let .chunk(text) = event, text.isEmpty { continue }
                        let data = try encoder.encode(payload(index, event))
                        index += 1
                        continuation.yield(ByteBuffer(string: "data: " + String(decoding: data, as: UTF8.self) + "\n\n"))
                    }
                } catch {
                    let message = String(describing: error).replacingOccurrences(of: "\"", with: "'")
                    continuation.yield(ByteBuffer(string: "data: {\"error\":{\"message\":\"\(message)\",\"type\":\"server_error\"}}\n\n"))
                }
                continuation.yield(ByteBuffer(string: "data: [DONE]\n\n"))
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                        body: ResponseBody(asyncSequence: bytes))
    }

    func usage(_ info: GenerationInfo) -> Usage {
        Usage(prompt_tokens: info.promptTokens, completion_tokens: info.generatedTokens, total_tokens: info.promptTokens + info.generatedTokens)
    }
}

private let startTime = now()

private func now() -> Int { Int(Date().timeIntervalSince1970) }

private func json(_ value: some Encodable) throws -> Response {
    let data = try JSONEncoder().encode(value)
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// A one-line description of a decoding error that names the offending field.
private func describe(_ error: DecodingError) -> String {
    func path(_ c: DecodingError.Context) -> String {
        let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? c.debugDescription : "\(p): \(c.debugDescription)"
    }
    switch error {
    case let .keyNotFound(key, _): return "missing field '\(key.stringValue)'"
    case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c): return path(c)
    @unknown default: return "\(error)"
    }
}
