// The chat prompt format RWKV World/G1 models are trained on (spec §7.3–7.4):
//   "System: …\n\nUser: …\n\nAssistant: …\n\nUser: …\n\nAssistant:"
// Turns are separated by a blank line, so a reply ends at "\n\n"; message text is cleaned so that it
// cannot contain a blank line itself.

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

public enum ChatTemplate {
    /// Where an assistant reply ends.
    public static let turnSeparator = "\n\n"

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

    /// The prompt for `messages`, ending with "Assistant:" so the model writes the next reply.
    /// `thinking` ends it with "Assistant: <think" instead (G1 reasoning models).
    public static func prompt(for messages: [ChatMessage], thinking: Bool = false) -> String {
        var out = ""
        for m in messages {
            let label = switch m.role { case .system: "System"; case .user: "User"; case .assistant: "Assistant" }
            out += "\(label): \(clean(m.content))\(turnSeparator)"
        }
        return out + (thinking ? "Assistant: <think" : "Assistant:")
    }
}

private extension String {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
