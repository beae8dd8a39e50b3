import ArgumentParser
import RWKV

@main
struct RWKVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rwkv",
        abstract: "Run, inspect and convert RWKV language models.",
        subcommands: [Generate.self, Tokenize.self, Inspect.self, Logits.self, Convert.self]
    )
}
