// A conversation with a model. The recurrent state carries everything said so far, so a turn feeds
// only its own new text, however long the chat is: no history is re-read.

import Foundation

/// A multi-turn chat over one model, in a named template (G1 by default).
///
/// ```swift
/// let model = try RWKVModel(contentsOf: URL(fileURLWithPath: "rwkv7-g1d-0.1b.pth"))
/// let chat = try ChatSession(model: model)
/// print(try await chat.respond(to: "What is RWKV?"))
/// for try await piece in chat.streamResponse(to: "Say more.") { print(piece, terminator: "") }
/// ```
///
/// Turns run one at a time (a lock serialises them); `fork()` gives an independent session.
public final class ChatSession: @unchecked Sendable {
    public let model: RWKVModel
    public let tokenizer: any Tokenizer
    public let template: ChatTemplate
    /// Length limit and sampling of each reply. The defaults are the library's one default set
    /// (`SamplingParameters()`, pip's PIPELINE_ARGS) with replies of up to 500 tokens.
    public var parameters: GenerateParameters {
        get { locked { _parameters } }
        set { locked { _parameters = newValue } }
    }
    /// How G1 models reason before they answer, for the following turns.
    public var thinking: ThinkingMode {
        get { locked { _thinking } }
        set { locked { _thinking = newValue } }
    }
    /// The conversation so far, as text (the state is what the model remembers).
    public var messages: [ChatMessage] { locked { _messages } }
    /// The system prompt that starts every conversation of this session (kept by `reset()`).
    public var systemPrompt: String? { locked { _systemPrompt } }
    /// Why the last reply ended: `.stopString` at the template's turn end, `.length` at the limit, …
    public var lastStopReason: StopReason? { locked { _lastStopReason } }

    private let lock = NSLock()
    private var _parameters: GenerateParameters
    private var _thinking: ThinkingMode = .off
    private var _messages: [ChatMessage] = []
    private var _systemPrompt: String?
    private var _lastStopReason: StopReason?
    /// The state after everything fed so far, and text still to feed before the next user turn
    /// (the system prompt, or the end of a reply that did not stop at the template's stop).
    private var state: ModelState
    private var pending: String
    /// What `regenerate()` needs: the conversation just before the last reply.
    private var beforeLastReply: (state: ModelState, pending: String, messages: [ChatMessage], user: String)?
    private var replies: UInt64 = 0

    /// The default parameters of a chat reply.
    public static var defaultParameters: GenerateParameters { GenerateParameters(maxNewTokens: 500) }

    /// A new conversation. `tokenizer` and `template` default to the model's.
    public init(model: RWKVModel, tokenizer: (any Tokenizer)? = nil, template: ChatTemplate? = nil, systemPrompt: String? = nil,
                parameters: GenerateParameters = ChatSession.defaultParameters) throws {
        self.model = model
        self.tokenizer = try tokenizer ?? model.tokenizer
        self.template = template ?? .default(for: model.config)
        _parameters = parameters
        _systemPrompt = systemPrompt
        state = model.makeState()
        pending = ""
        pending = systemText()
    }

    private init(copying other: ChatSession) {
        model = other.model
        tokenizer = other.tokenizer
        template = other.template
        (_parameters, _thinking, _messages, _systemPrompt) = (other._parameters, other._thinking, other._messages, other._systemPrompt)
        (state, pending, beforeLastReply, replies) = (other.state, other.pending, other.beforeLastReply, other.replies)
    }

    /// A new session that continues from a copy of this one's state; the two then diverge freely.
    public func fork() -> ChatSession { locked { ChatSession(copying: self) } }

    /// Forgets the conversation; the system prompt stays.
    public func reset() {
        locked {
            state = model.makeState()
            pending = systemText()
            _messages = []
            beforeLastReply = nil
        }
    }

    /// Replaces the system prompt (nil removes it) and starts a new conversation with it.
    public func setSystemPrompt(_ text: String?) {
        locked { _systemPrompt = text }
        reset()
    }

    /// The reply to `message`, generated synchronously; `onText` receives each printable piece and
    /// returns false to stop the reply early (what was generated until then stays in the conversation).
    @discardableResult
    public func respond(to message: String, onText: (String) -> Bool = { _ in true }) throws -> String {
        try locked {
            beforeLastReply = (state, pending, _messages, message)
            return try reply(to: message, onText: onText)
        }
    }

    /// The reply to `message`.
    public func respond(to message: String) async throws -> String {
        var text = ""
        for try await piece in streamResponse(to: message) { text += piece }
        return text
    }

    /// The reply to `message` as it is generated. Ending the iteration early stops the reply.
    public func streamResponse(to message: String) -> AsyncThrowingStream<String, Error> {
        AsyncThrowingStream { continuation in
            let cancelled = CancellationFlag()
            continuation.onTermination = { _ in cancelled.set() }
            // Generation is long synchronous CPU work: keep it off the cooperative thread pool.
            DispatchQueue.global(qos: .userInitiated).async {
                do {
                    try self.respond(to: message) { piece in
                        continuation.yield(piece)
                        return !cancelled.isSet
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }

    /// Replaces the last reply with a new one (sampling continues with the next seed).
    @discardableResult
    public func regenerate(onText: (String) -> Bool = { _ in true }) throws -> String {
        try locked {
            guard let before = beforeLastReply else { throw ChatSessionError.nothingToRegenerate }
            (state, pending, _messages) = (before.state, before.pending, before.messages)
            return try reply(to: before.user, onText: onText)
        }
    }

    /// Saves the conversation's state (a state file, docs/state-format.md); the text history is not saved.
    public func save(to path: String) throws {
        try locked {
            try settle()
            try state.save(to: path, config: model.config)
        }
    }

    /// Continues from a saved state (of the same model); the text history starts empty.
    public func load(from path: String) throws {
        let loaded = try model.loadState(path: path)
        locked {
            (state, pending, _messages, beforeLastReply) = (loaded, "", [], nil)
        }
    }

    // MARK: - Turns

    private func reply(to message: String, onText: (String) -> Bool) throws -> String {
        let user = ChatMessage(role: .user, content: message)
        let opening = template.replyPrefix(thinking: _thinking)
        let prompt = pending + template.render(user) + opening
        var p = _parameters
        if !p.sampling.stopStrings.contains(template.replyStop) { p.sampling.stopStrings.append(template.replyStop) }
        p.sampling.seed = p.sampling.seed.map { $0 &+ replies }
        replies &+= 1
        var generator = try TextGenerator(model: model, tokenizer: tokenizer, prompt: prompt, state: state, parameters: p)
        var text = ""
        while let piece = try generator.next() {
            text += piece
            if !piece.isEmpty, !onText(piece) { break }
        }
        state = generator.state
        _lastStopReason = generator.tokens.stopReason ?? .length
        pending = template.turnClosing(stoppedAtReplyStop: generator.tokens.stopReason == .stopString)
        // The reply as the model sees it: what opened it in the prompt (e.g. "<think") and what it wrote.
        let shown = String(opening.dropFirst(template.replyPrefix(thinking: .off).count)) + text
        _messages += [user, ChatMessage(role: .assistant, content: shown.trimmingCharacters(in: .whitespaces))]
        return text
    }

    /// Feeds pending text, so the state alone holds the conversation.
    private func settle() throws {
        guard !pending.isEmpty else { return }
        _ = try model.prefill(tokenizer.encode(pending), state: &state)
        pending = ""
    }

    private func systemText() -> String {
        _systemPrompt.map { template.render(ChatMessage(role: .system, content: $0)) } ?? ""
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

/// A chat command that cannot be carried out.
public enum ChatSessionError: Error, CustomStringConvertible, Sendable {
    case nothingToRegenerate

    public var description: String {
        switch self {
        case .nothingToRegenerate: "there is no reply to regenerate yet"
        }
    }
}
