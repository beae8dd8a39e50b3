// Chat prompt formats of RWKV World/G1 models (spec §7.3–7.4).
//   g1:  "System: …\n\nUser: …\n\nAssistant: …\n\nUser: …\n\nAssistant:"   (a reply ends at "\n\n")
//   g1h: "System✿…✿\nUser✿…✿\nBot✿"                                         (a reply ends at "✿", token 10060)
// Message text is cleaned as the reference does (CRLF → LF, runs of newlines → one, trimmed), so a
// message cannot contain a g1 turn separator and forge a turn.

/// One message of a conversation.
public struct ChatMessage: Sendable, Codable, Equatable {
    public enum Role: String, Sendable, Codable { case system, user, assistant }
    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// How a G1 model is asked to reason before it answers.
public enum ThinkingMode: String, Sendable, Codable, CaseIterable {
    /// The reply starts at once.
    case off
    /// The reply opens with `<think`: the model writes its reasoning, then `</think>` and the answer.
    case on
    /// An empty reasoning block (`<think></think`): G1's fast answer.
    case fake
}

/// G1's length hints for reasoning, appended to the last user message (they imply thinking on).
public enum ThinkingEffort: String, Sendable, Codable, CaseIterable {
    case normal = "(think)"
    case aBit = "(think a bit)"
    case aLot = "(think a lot)"
}

/// A named prompt format: how each role's message is written and where a reply ends.
public struct ChatTemplate: Sendable, Hashable {
    public let name: String
    let systemPrefix: String, userPrefix: String, assistantPrefix: String
    /// Written after every message, the assistant's included.
    public let messageEnd: String
    /// What opens the assistant's reply in the prompt (the model continues after it).
    let replyOpening: String
    /// The text at which a generated reply is complete (never part of the reply).
    public let replyStop: String

    /// RWKV World / G1: `User: …\n\nAssistant:`.
    public static let g1 = ChatTemplate(name: "g1", systemPrefix: "System: ", userPrefix: "User: ", assistantPrefix: "Assistant: ",
                                        messageEnd: "\n\n", replyOpening: "Assistant:", replyStop: "\n\n")
    /// G1h-era tooling: `User✿…✿\nBot✿`; ✿ (World token 10060) ends a turn.
    public static let g1h = ChatTemplate(name: "g1h", systemPrefix: "System✿", userPrefix: "User✿", assistantPrefix: "Bot✿",
                                         messageEnd: "✿\n", replyOpening: "Bot✿", replyStop: "✿")

    public static let all: [ChatTemplate] = [.g1, .g1h]

    /// The template called `name` (`g1`, `g1h`), or nil.
    public static func named(_ name: String) -> ChatTemplate? { all.first { $0.name == name.lowercased() } }

    /// The default for a model: every World/G1 model (and the byte-level ones) uses g1.
    public static func `default`(for config: ModelConfig) -> ChatTemplate { .g1 }

    /// One message as it appears in a prompt, ended.
    public func render(_ message: ChatMessage) -> String {
        let prefix = switch message.role { case .system: systemPrefix; case .user: userPrefix; case .assistant: assistantPrefix }
        return prefix + Self.clean(message.content) + messageEnd
    }

    /// The opening of the assistant's reply for a thinking mode.
    public func replyPrefix(thinking: ThinkingMode) -> String {
        // g1 writes "Assistant: <think" with a space, "Assistant:" without.
        let open = replyOpening + (replyOpening.hasSuffix(":") ? " " : "")
        return switch thinking {
        case .off: replyOpening
        case .on: open + "<think"
        case .fake: open + "<think></think"
        }
    }

    /// The prompt for `messages`, ending with the opening of the next assistant reply. An `effort`
    /// hint is appended to the last user message and turns thinking on.
    public func prompt(for messages: [ChatMessage], thinking: ThinkingMode = .off, effort: ThinkingEffort? = nil) -> String {
        var messages = messages
        if let effort, let last = messages.lastIndex(where: { $0.role == .user }) {
            messages[last].content = Self.clean(messages[last].content) + " " + effort.rawValue
        }
        return messages.map(render).joined() + replyPrefix(thinking: effort == nil ? thinking : .on)
    }

    /// What must still be fed after a reply so the state ends its turn: the rest of `messageEnd`
    /// when generation stopped at `replyStop` (which the state has already seen), else all of it.
    public func turnClosing(stoppedAtReplyStop: Bool) -> String {
        stoppedAtReplyStop ? String(messageEnd.dropFirst(replyStop.count)) : messageEnd
    }

    /// CR, LF and CRLF → LF, runs of them → one LF, surrounding whitespace trimmed.
    public static func clean(_ text: String) -> String {
        // On scalars, not Characters: a "\r" and a "\n" appended one after the other merge into the one
        // Character "\r\n", which a Character comparison misses, leaving "\r\n\n" (found by FuzzChatTemplate).
        var out = String.UnicodeScalarView()
        var lastWasNewline = false
        for scalar in text.unicodeScalars {
            let isBreak = scalar == "\n" || scalar == "\r"
            if !isBreak { out.append(scalar) } else if !lastWasNewline { out.append("\n") }
            lastWasNewline = isBreak
        }
        return String(out).trimmingWhitespace()
    }
}

private extension String {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
