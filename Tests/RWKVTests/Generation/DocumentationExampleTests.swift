// The code of RWKV.docc/GeneratingText.md, verbatim but for the model path, so the article cannot rot.

import Foundation
import Testing
import RWKV

@Suite struct DocumentationExampleTests {
    @Test func generatingTextInTenLines() async throws {
        var printed = ""
        func print(_ items: Any..., terminator: String = "\n") { printed += items.map { "\($0)" }.joined() + terminator }
        let path = TestPaths.bundledModel

        let model = try RWKVModel(contentsOf: URL(fileURLWithPath: path))
        var parameters = GenerateParameters(maxNewTokens: 24)
        parameters.sampling.seed = 42                      // reproducible on every platform
        for try await event in generate(model: model, tokenizer: try model.tokenizer, prompt: "ROMEO:", parameters: parameters) {
            if let text = event.chunk { print(text, terminator: "") }
        }
        let chat = try ChatSession(model: model)           // the G1 template: "User: …\n\nAssistant:"
        chat.parameters.maxNewTokens = 24
        print(try await chat.respond(to: "Who art thou?"))

        #expect(!printed.isEmpty)
        #expect(chat.messages.count == 2)
    }

    /// The article still shows the code this test runs.
    @Test func articleShowsTheTestedCode() throws {
        let article = try String(contentsOf: TestPaths.repo.appendingPathComponent("Sources/RWKV/RWKV.docc/GeneratingText.md"), encoding: .utf8)
        for line in [
            #"let model = try RWKVModel(contentsOf: URL(fileURLWithPath: "models/rwkv7-shakespeare-L6-D256.pth"))"#,
            "var parameters = GenerateParameters(maxNewTokens: 24)",
            #"for try await event in generate(model: model, tokenizer: try model.tokenizer, prompt: "ROMEO:", parameters: parameters) {"#,
            "let chat = try ChatSession(model: model)",
            "chat.parameters.maxNewTokens = 24",
            #"print(try await chat.respond(to: "Who art thou?"))"#,
        ] {
            #expect(article.contains(line), "GeneratingText.md no longer shows: \(line)")
        }
    }
}
