// `rwkv chat`: an interactive conversation. The recurrent state carries the conversation, so each turn
// feeds only its own text — nothing is re-read, however long the chat gets.

import ArgumentParser
import Foundation
import RWKV

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with a model in the terminal (User:/Assistant: turns; /reset, /save FILE, /quit).",
        discussion: "Sampling defaults follow ChatRWKV's chat demo: temperature 1.0, top-p 0.3, presence and frequency penalty 0.5.")

    @OptionGroup var model: ModelOptions

    @Option(help: "Temperature (0 = greedy).") var temperature: Double = 1.0
    @Option(help: "Nucleus mass.") var topP: Double = 0.3
    @Option(help: "Presence penalty.") var presencePenalty: Double = 0.5
    @Option(help: "Frequency penalty.") var frequencyPenalty: Double = 0.5
    @Option(help: "Random seed.") var seed: UInt64?
    @Option(help: "Longest reply, in tokens.") var maxTokens = 500
    @Option(help: "A system prompt placed before the first turn.") var system: String?
    @Flag(help: "Let G1 models think first (the reply starts with <think).") var thinking = false

    func run() throws {
        let rwkv = try model.load()
        let tokenizer = try defaultTokenizer(vocabularySize: rwkv.config.vocabularySize)
        var sampling = SamplingParameters(temperature: temperature, topP: topP, topK: 0, presencePenalty: presencePenalty,
                                          frequencyPenalty: frequencyPenalty, penaltyDecay: 0.996,
                                          stopStrings: [ChatTemplate.turnSeparator], seed: seed)
        do { try sampling.validate() } catch { throw ValidationError("\(error)") }
        var state = rwkv.makeState()
        var pending = system.map { "System: \(ChatTemplate.clean($0))\(ChatTemplate.turnSeparator)" } ?? ""
        printError("chatting with \(rwkv.config.signature); /reset, /save FILE, /quit")
        while true {
            FileHandle.standardError.write(Data("\nUser: ".utf8))
            guard let line = readLine() else { break }
            if line == "/quit" { break }
            if line == "/reset" { state = rwkv.makeState(); pending = ""; printError("(state reset)"); continue }
            if line.hasPrefix("/save ") {
                try state.save(to: String(line.dropFirst(6)), config: rwkv.config)
                printError("(state saved)")
                continue
            }
            let prompt = pending + ChatTemplate.prompt(for: [ChatMessage(role: .user, content: line)], thinking: thinking)
            pending = ""
            writeOut("Assistant:" + (thinking ? " <think" : ""))
            var generator = try TextGenerator(model: rwkv, tokenizer: tokenizer, prompt: prompt, state: state,
                                              parameters: GenerateParameters(maxNewTokens: maxTokens, sampling: sampling))
            while let piece = try generator.next() { writeOut(piece) }
            writeOut("\n")
            state = generator.state
            // A reply that ended for another reason than its blank line still needs the turn separator.
            if generator.tokens.stopReason != .stopString { pending = ChatTemplate.turnSeparator }
            sampling.seed = sampling.seed.map { $0 &+ 1 }
        }
    }
}
