import ArgumentParser
import RWKV

@main
struct RWKVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rwkv",
        abstract: "Run, serve, train, benchmark, inspect and convert RWKV language models.",
        version: "swift-rwkv \(SwiftRWKV.version)",
        subcommands: [Generate.self, Chat.self, Serve.self, Pull.self, Train.self, Init.self, Quantize.self, Quality.self, Bench.self,
                      Tokenize.self, Inspect.self, Logits.self, Convert.self, Eval.self, InspectState.self]
    )
}
