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

    /// The tokenizer routes, served at the root (as llama.cpp does) and under /v1.
    func addTokenizerRoutes(to group: RouterGroup<ServerRequestContext>) {
        group.post("tokenize") { request, context in try await tokenize(request, context: context) }
        group.post("detokenize") { request, context in try await detokenize(request, context: context) }
        group.get("tokenizer_info") { _, _ in try tokenizerInfo() }
    }

    func models() -> ModelList {
        ModelList(object: "list", data: [.init(id: engine.modelID, object: "model", created: startTime, owned_by: "swift-rwkv")])
    }

    // MARK: /v1/completions

    func complete(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let body = try await decode(CompletionRequest.self, request, context)
        let parameters = try generateParameters(body.fields, chat: false)
        let prompts = try promptTokens(body.prompt)
        let n = body.n ?? 1
        guard (1...16).contains(n) else { throw APIError.badRequest("n must be between 1 and 16, found \(n)", param: "n") }
        if let k = body.logprobs, !(0...20).contains(k) {
            throw APIError.badRequest("logprobs must be between 0 and 20, found \(k)", param: "logprobs")
        }
        let echo = body.echo ?? false
        let id = "cmpl-" + UUID().uuidString.lowercased()
        if body.fields.stream == true {
            guard prompts.count == 1, n == 1, body.logprobs == nil, !echo, parameters.maxNewTokens > 0 else {
                throw APIError.badRequest("stream supports one prompt with n = 1, no echo and no logprobs", param: "stream")
            }
            let stream = engine.generate(promptTokens: prompts[0], parameters: parameters)
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
        // Every (prompt, sample) pair runs at once, so the engine decodes them in shared batched steps.
        let runs = prompts.indices.flatMap { p in (0..<n).map { (prompt: p, sample: $0) } }
        let results = try await withThrowingTaskGroup(of: (Int, String, GenerationInfo?).self) { group in
            for (i, run) in runs.enumerated() {
                var p = parameters
                p.sampling.seed = p.sampling.seed.map { $0 &+ UInt64(run.sample) }
                let tokens = prompts[run.prompt]
                group.addTask {
                    guard p.maxNewTokens > 0 else { return (i, "", nil) }
                    let (text, info) = try await collect(engine.generate(promptTokens: tokens, parameters: p))
                    return (i, text, info)
                }
            }
            var out = [(String, GenerationInfo?)](repeating: ("", nil), count: runs.count)
            for try await (i, text, info) in group { out[i] = (text, info) }
            return out
        }
        var choices: [CompletionResponse.Choice] = []
        for (i, run) in runs.enumerated() {
            let prompt = prompts[run.prompt]
            let (text, info) = results[i]
            var choice = CompletionResponse.Choice(text: (echo ? decodeLossy(prompt) : "") + text, index: i,
                                                   finish_reason: (info?.stopReason ?? .length).openAIName)
            if let k = body.logprobs {
                choice.logprobs = try await logprobs(prompt: prompt, generated: info?.tokenIDs ?? [], echo: echo, top: k)
            }
            choices.append(choice)
        }
        let promptCount = prompts.reduce(0) { $0 + $1.count }
        let completionCount = results.reduce(0) { $0 + ($1.1?.generatedTokens ?? 0) }
        return try json(CompletionResponse(id: id, object: "text_completion", created: now(), model: engine.modelID, choices: choices,
                                           usage: Usage(prompt_tokens: promptCount, completion_tokens: completionCount,
                                                        total_tokens: promptCount + completionCount)))
    }

    /// The prompts of a request as token ids, each checked against the vocabulary.
    func promptTokens(_ input: PromptInput) throws -> [[Int]] {
        let lists: [[Int]]
        switch input {
        case let .texts(texts): lists = texts.map { TextGenerator.promptTokens($0, engine.tokenizer) }
        case let .tokens(ids): lists = ids
        }
        guard !lists.isEmpty, lists.count <= 64 else { throw APIError.badRequest("prompt must hold 1 to 64 prompts", param: "prompt") }
        let vocabulary = engine.tokenizer.vocabularySize
        for (i, list) in lists.enumerated() {
            guard !list.isEmpty else { throw APIError.badRequest("prompt \(i) has no tokens", param: "prompt") }
            if let bad = list.first(where: { !(0..<vocabulary).contains($0) }) {
                throw APIError.badRequest("prompt \(i) has token id \(bad), outside 0..<\(vocabulary)", param: "prompt")
            }
        }
        return lists
    }

    /// The `logprobs` object: every echoed prompt token (the first has no prediction) and every generated token.
    func logprobs(prompt: [Int], generated: [Int], echo: Bool, top: Int) async throws -> CompletionLogprobs {
        let scores = try await engine.score(prompt + generated, top: top)
        let shown = echo ? Array(scores.indices) : Array(prompt.count..<scores.count)
        var out = CompletionLogprobs(tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [])
        var offset = 0
        let all = prompt + generated
        for position in shown {
            let piece = decodeLossy([all[position]])
            out.tokens.append(piece)
            out.text_offset.append(offset)
            offset += piece.count
            guard let score = scores[position] else {
                out.token_logprobs.append(nil)
                out.top_logprobs.append(nil)
                continue
            }
            out.token_logprobs.append(score.logprob)
            var alternatives: [String: Double] = [:]
            // Bytes that are not whole UTF-8 characters share the text U+FFFD: keep the likeliest.
            for a in score.top {
                let text = decodeLossy([a.token])
                alternatives[text] = max(alternatives[text] ?? -.infinity, a.logprob)
            }
            out.top_logprobs.append(alternatives)
        }
        return out
    }

    /// Text of token ids, with U+FFFD for bytes that are not whole UTF-8 characters.
    func decodeLossy(_ ids: [Int]) -> String {
        String(decoding: ids.flatMap { engine.tokenizer.tokenBytes($0) ?? [] }, as: UTF8.self)
    }

    // MARK: Tokenizer endpoints (lm-evaluation-harness's remote tokenizer, llama.cpp's names)

    func tokenize(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let body = try await decode(TokenizeRequest.self, request, context)
        guard let text = body.prompt ?? body.content else { throw APIError.badRequest("missing field 'prompt'", param: "prompt") }
        return try json(["tokens": engine.tokenizer.encode(text)])
    }

    func detokenize(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let body = try await decode(DetokenizeRequest.self, request, context)
        let vocabulary = engine.tokenizer.vocabularySize
        if let bad = body.tokens.first(where: { !(0..<vocabulary).contains($0) }) {
            throw APIError.badRequest("token id \(bad) is outside 0..<\(vocabulary)", param: "tokens")
        }
        let text = decodeLossy(body.tokens)
        return try json(["prompt": text, "content": text])
    }

    func tokenizerInfo() throws -> Response {
        // World's end-of-text id 0 has no text; the G1 chat format as a Jinja template.
        let template = "{% for message in messages %}{{ message['role'] | capitalize }}: {{ message['content'] }}\n\n{% endfor %}"
            + "{% if add_generation_prompt %}Assistant:{% endif %}"
        return try json(TokenizerInfo(eos_token: "", bos_token: "", pad_token: "", eos_token_id: engine.tokenizer.endOfTextToken,
                             vocab_size: engine.tokenizer.vocabularySize, chat_template: template))
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
