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
    let prompt = ChatTemplate.prompt(for: messages, thinking: size % 2 == 0)
    precondition(prompt.hasSuffix("Assistant:") || prompt.hasSuffix("Assistant: <think"), "prompt does not end with the assistant label")
    for m in messages {
        let cleaned = ChatTemplate.clean(m.content)
        // A cleaned turn never contains the separator, so a reply cannot fake a turn boundary.
        precondition(!cleaned.contains(ChatTemplate.turnSeparator), "cleaned content still holds a blank line")
    }
    return 0
}
