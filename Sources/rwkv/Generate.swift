// `rwkv generate`: stream a continuation of a prompt to stdout.

import ArgumentParser
import Foundation
import RWKV

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a prompt, streaming text to stdout.",
        discussion: "Sampling defaults are those of the reference pipeline (pip rwkv PIPELINE_ARGS).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Argument(help: "The prompt. Use --prompt-file to read it from a file, or '-' for stdin.")
    var prompt: String?

    @Option(help: "Read the prompt from this file.")
    var promptFile: String?

    @Option(name: [.customShort("n"), .customLong("max-tokens")], help: "Maximum number of tokens to generate.")
    var maxTokens: Int = 200

    @Option(help: "Start from this state: a state file (rwkv generate --save-state) or a state-tuning checkpoint with blocks.N.att.time_state.")
    var state: String?

    @Option(help: "Save the final state to this file.")
    var saveState: String?

    @Flag(help: "Print the prompt before the continuation.")
    var echo = false

    @Flag(help: "Print one JSON object with the text and timings instead of streaming.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print timings to stderr.")
    var verbose = false

    struct Output: Encodable {
        var text: String
        var info: GenerationInfo
    }

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0") }
        if prompt != nil && promptFile != nil { throw ValidationError("give the prompt as an argument or with --prompt-file, not both") }
    }

    func run() throws {
        let text = try resolvedPrompt()
        let rwkv = try model.load(verbose: verbose)
        let tokenizer = try defaultTokenizer(vocabularySize: rwkv.config.vocabularySize)
        var parameters = GenerateParameters(maxNewTokens: maxTokens, sampling: try sampling.parameters())
        parameters.stopAtEndOfText = true
        let initial = try state.map { try rwkv.loadState(path: $0) }
        if echo && !json { writeOut(text) }
        var output = ""
        var generator = try TextGenerator(model: rwkv, tokenizer: tokenizer, prompt: text, state: initial, parameters: parameters)
        let start = Date()
        while let piece = try generator.next() {
            if json { output += piece } else { writeOut(piece) }
        }
        let info = GenerationInfo(promptTokens: generator.tokens.promptTokenCount, generatedTokens: generator.tokens.generated.count,
                                  prefillSeconds: 0, decodeSeconds: Date().timeIntervalSince(start),
                                  stopReason: generator.tokens.stopReason ?? .length)
        if json { try printJSON(Output(text: output, info: info)) } else { writeOut("\n") }
        if let saveState { try generator.state.save(to: saveState, config: rwkv.config) }
        if verbose {
            printError(String(format: "%d prompt tokens, %d generated in %.2f s (%.1f tok/s), stop: %@",
                              info.promptTokens, info.generatedTokens, info.decodeSeconds, info.decodeTokensPerSecond, info.stopReason.rawValue))
        }
    }

    private func resolvedPrompt() throws -> String {
        if let promptFile { return try String(contentsOfFile: promptFile, encoding: .utf8) }
        if prompt == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let s = String(data: data, encoding: .utf8) else { throw ValidationError("stdin is not valid UTF-8") }
            return s
        }
        return prompt ?? ""
    }
}

/// Sampling flags shared by generate and chat.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Temperature (0 = greedy).") var temperature: Double = 1.0
    @Option(help: "Nucleus mass (>= 1 disables).") var topP: Double = 0.85
    @Option(help: "Keep only the K most likely tokens (0 disables).") var topK: Int = 0
    @Option(help: "Presence penalty.") var presencePenalty: Double = 0.2
    @Option(help: "Frequency penalty.") var frequencyPenalty: Double = 0.2
    @Option(help: "Penalty decay per generated token.") var penaltyDecay: Double = 0.996
    @Option(name: .customLong("stop"), help: "Stop before this string (repeatable).") var stopStrings: [String] = []
    @Option(help: "Comma-separated token ids that end generation.") var stopTokens: String?
    @Option(help: "Comma-separated token ids that are never generated.") var ban: String?
    @Option(help: "Random seed, for reproducible sampling.") var seed: UInt64?
    @Flag(help: "Greedy decoding without penalties (same as --temperature 0 --presence-penalty 0 --frequency-penalty 0).") var greedy = false

    func parameters() throws -> SamplingParameters {
        var p = SamplingParameters(temperature: temperature, topP: topP, topK: topK, presencePenalty: presencePenalty,
                                   frequencyPenalty: frequencyPenalty, penaltyDecay: penaltyDecay,
                                   bannedTokens: try ban.map(parseTokenList) ?? [], stopTokens: try stopTokens.map(parseTokenList) ?? [],
                                   stopStrings: stopStrings, seed: seed)
        if greedy { p.temperature = 0; p.presencePenalty = 0; p.frequencyPenalty = 0 }
        do { try p.validate() } catch { throw ValidationError("\(error)") }
        return p
    }
}

/// Writes text to stdout immediately (no line buffering), so tokens appear as they are generated.
func writeOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
