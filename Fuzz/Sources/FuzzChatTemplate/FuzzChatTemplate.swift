// Chat-template rendering: arbitrary text as message contents (any roles, CR/LF runs, invalid UTF-8
// replaced), checking the invariants the server relies on.
import FuzzSupport
@testable import RWKV

@_cdecl("FuzzChatTemplate_main")
public func FuzzChatTemplateMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzChatTemplate)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatTemplate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    // Byte 0x00 separates messages; each message's first byte picks its role.
    let roles: [ChatMessage.Role] = [.system, .user, .assistant]
    let messages = input.split(separator: 0, omittingEmptySubsequences: false).map { part in
        ChatMessage(role: roles[Int(part.first ?? 0) % 3], content: String(decoding: part.dropFirst(), as: UTF8.self))
    }
    // Both templates; the thinking mode from the size.
    let template = size % 4 < 2 ? ChatTemplate.g1 : ChatTemplate.g1h
    let thinking = ThinkingMode.allCases[size % 3]
    let prompt = template.prompt(for: messages, thinking: thinking)
    precondition(prompt.hasSuffix(template.replyPrefix(thinking: thinking)), "prompt does not end with the reply opening")
    for m in messages {
        let cleaned = ChatTemplate.clean(m.content)
        // A cleaned turn never contains the g1 separator, so a reply cannot fake a turn boundary.
        precondition(!cleaned.contains(ChatTemplate.g1.replyStop), "cleaned content still holds a blank line")
    }
    return 0
}
