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

    /// CRLF → LF, runs of newlines → one newline, surrounding whitespace trimmed.
    public static func clean(_ text: String) -> String {
        var out = ""
        var lastWasNewline = false
        for ch in text.replacingCRLF() {
            if ch == "\n" {
                if !lastWasNewline { out.append(ch) }
                lastWasNewline = true
            } else {
                out.append(ch)
                lastWasNewline = false
            }
        }
        return out.trimmingWhitespace()
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
    func replacingCRLF() -> String {
        var out = ""
        var pendingCR = false
        for ch in self {
            // Swift treats "\r\n" as one Character.
            if ch == "\r\n" { out.append("\n"); continue }
            if pendingCR { out.append("\r"); pendingCR = false }
            if ch == "\r" { pendingCR = true } else { out.append(ch) }
        }
        if pendingCR { out.append("\r") }
        return out
    }

    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
