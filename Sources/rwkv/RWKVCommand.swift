import ArgumentParser
import RWKV

@main
struct RWKVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rwkv",
        abstract: "Run, inspect and convert RWKV language models.",
        subcommands: [Bench.self]
    )
}
