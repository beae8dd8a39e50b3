// ChatSession: a turn feeds only its new text, so after any turns the state equals one prefill of the
// whole transcript (exact with the byte tokenizer, where pieces and the whole encode alike).

import Foundation
import Testing
@testable import RWKV

@Suite struct ChatSessionTests {
    static let model: RWKVModel = {
        var spec = RandomModelSpec(layers: 2, embedding: 64, vocabulary: 256)
        (spec.decayRank, spec.iclrRank, spec.valueRank, spec.gateRank) = (8, 8, 8, 8)
        return try! RWKVModel(checkpoint: spec.checkpoint(dtype: .float32, seed: 5))
    }()

    func session(_ template: ChatTemplate = .g1, system: String? = "Be brief.", greedy: Bool = false,
                 maxTokens: Int = 12) throws -> ChatSession {
        var p = GenerateParameters(maxNewTokens: maxTokens, sampling: greedy ? .greedy : SamplingParameters())
        p.sampling.seed = 11
        // ASCII only: a random model's other bytes are not valid UTF-8, and the text would not re-encode to them.
        p.sampling.bannedTokens = Array(128..<256)
        return try ChatSession(model: Self.model, template: template, systemPrompt: system, parameters: p)
    }

    func state(after text: String) throws -> ModelState {
        var s = Self.model.makeState()
        _ = try Self.model.prefill(ByteTokenizer().encode(text), state: &s)
        return s
    }

    /// What the model read of one reply: the text, then the turn end (its stop was fed if reached).
    func fed(_ reply: String, _ chat: ChatSession, _ template: ChatTemplate) -> String {
        let stopped = chat.lastStopReason == .stopString
        return reply + (stopped ? template.replyStop : "") + template.turnClosing(stoppedAtReplyStop: stopped)
    }

    @Test(arguments: [ChatTemplate.g1, .g1h])
    func stateEqualsOnePrefillOfTheTranscript(template: ChatTemplate) throws {
        let chat = try session(template)
        let first = try chat.respond(to: "hi")
        var transcript = template.render(ChatMessage(role: .system, content: "Be brief."))
            + template.render(ChatMessage(role: .user, content: "hi")) + template.replyPrefix(thinking: .off) + fed(first, chat, template)
        chat.thinking = .fake
        let second = try chat.respond(to: "two\n\n\nlines")
        transcript += template.render(ChatMessage(role: .user, content: "two\nlines")) + template.replyPrefix(thinking: .fake)
            + fed(second, chat, template)
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("chat.rwkvstate").path
        try chat.save(to: path)
        let saved = try Self.model.loadState(path: path)
        #expect(saved.maxDifference(to: try state(after: transcript)) < 1e-5)
        #expect(chat.messages.map(\.role) == [.user, .assistant, .user, .assistant])
        #expect(chat.messages[3].content.hasPrefix("<think></think"))
    }

    @Test func aReplyStopsAtTheTurnEnd() throws {
        // An extra stop string ends the reply before it; the reason is reported.
        let chat = try session(maxTokens: 40)
        chat.parameters.sampling.stopStrings = ["e"]
        let reply = try chat.respond(to: "hi")
        if chat.lastStopReason == .stopString { #expect(!reply.contains("e")) } else { #expect(chat.lastStopReason == .length) }
    }

    @Test func forksContinueFromTheSameStateIndependently() throws {
        let chat = try session()
        _ = try chat.respond(to: "hi")
        let fork = chat.fork()
        let a = try chat.respond(to: "left")
        let b = try fork.respond(to: "left")
        #expect(a == b, "a fork continues from the same state with the same sampling")
        _ = try fork.respond(to: "more")
        #expect(chat.messages.count == 4 && fork.messages.count == 6)
    }

    @Test func regenerateReplacesTheLastReply() throws {
        let chat = try session()
        _ = try chat.respond(to: "hi")
        let before = chat.messages
        let again = try chat.regenerate()
        #expect(chat.messages.count == before.count)
        #expect(Array(chat.messages.dropLast()) == Array(before.dropLast()))
        #expect(chat.messages.last?.content == again.trimmingCharacters(in: .whitespaces))
        #expect(throws: ChatSessionError.self) { try self.session().regenerate() }
    }

    @Test func resetKeepsTheSystemPrompt() throws {
        let chat = try session(greedy: true)
        let first = try chat.respond(to: "hi")
        _ = try chat.respond(to: "and then?")
        chat.reset()
        #expect(chat.messages.isEmpty && chat.systemPrompt == "Be brief.")
        #expect(try chat.respond(to: "hi") == first, "after a reset the system prompt is read again")
        chat.setSystemPrompt(nil)
        #expect(chat.systemPrompt == nil && chat.messages.isEmpty)
        #expect(try chat.respond(to: "hi") == (try session(system: nil, greedy: true).respond(to: "hi")))
    }

    @Test func streamingGivesTheSameTextAsRespond() async throws {
        let a = try session(), b = try session()
        var streamed = ""
        for try await piece in a.streamResponse(to: "hi") { streamed += piece }
        let whole = try await b.respond(to: "hi")
        #expect(streamed == whole)
        #expect(a.messages == b.messages)
    }

    @Test func loadContinuesFromASavedState() throws {
        let chat = try session(greedy: true)
        _ = try chat.respond(to: "hi")
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("s.rwkvstate").path
        try chat.save(to: path)
        let other = try session(system: nil, greedy: true)
        try other.load(from: path)
        #expect(try other.respond(to: "next") == (try chat.respond(to: "next")))
    }
}
