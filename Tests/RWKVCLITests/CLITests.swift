// The `rwkv` command as users and scripts see it: help text, exit codes, JSON shapes, real runs on
// the bundled model (found without -m), and a chat driven through piped stdin.

import Foundation
import Testing

@Suite struct HelpTextTests {
    static let commands = ["", "generate", "chat", "serve", "pull", "train", "init", "quantize", "quality", "bench",
                           "tokenize", "inspect", "logits", "convert", "eval", "inspect-state"]

    /// Each subcommand's help equals its committed snapshot (Snapshots/help-NAME.txt); with
    /// RWKV_UPDATE_SNAPSHOTS=1 the snapshots are rewritten instead (review the diff).
    @Test(arguments: commands)
    func helpMatchesSnapshot(command: String) throws {
        let result = try CLI.run(command.isEmpty ? ["--help"] : [command, "--help"])
        #expect(result.status == 0)
        let file = CLI.snapshots.appendingPathComponent("help-\(command.isEmpty ? "rwkv" : command).txt")
        if ProcessInfo.processInfo.environment["RWKV_UPDATE_SNAPSHOTS"] == "1" {
            try result.stdout.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(result.stdout == expected, "help of '\(command)' changed; RWKV_UPDATE_SNAPSHOTS=1 rewrites the snapshot")
    }

    @Test func versionIsPrinted() throws {
        let result = try CLI.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("swift-rwkv "))
    }
}

@Suite struct ExitCodeTests {
    @Test func usageErrorsExit64() throws {
        for arguments in [["no-such-command"], ["generate", "--max-tokens", "-1", "x"], ["chat", "--template", "chatml"],
                          ["generate", "--temperature", "abc", "x"]] {
            let result = try CLI.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(!result.stderr.isEmpty)
        }
    }

    @Test func badFilesExit1NamingTheFile() throws {
        let dir = try CLI.temporaryDirectory()
        let junk = dir.appendingPathComponent("junk.pth")
        try Data("not a checkpoint".utf8).write(to: junk)
        for path in [junk.path, dir.appendingPathComponent("missing.pth").path] {
            let result = try CLI.run(["generate", "-m", path, "x", "-n", "1"])
            #expect(result.status == 1, "\(path): \(result.stderr)")
            #expect(result.stderr.contains(URL(fileURLWithPath: path).lastPathComponent), "\(result.stderr)")
        }
    }
}

@Suite struct BundledModelRunTests {
    /// With neither -m nor $RWKV_MODEL the bundled model is used, and -v says so.
    @Test func generateUsesTheBundledModelAndPrintsJSON() throws {
        let result = try CLI.run(["generate", "ROMEO:", "-n", "3", "--greedy", "--json", "-v"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("rwkv7-shakespeare-L6-D256.pth (bundled model"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((object["text"] as? String)?.utf8.count == 3)
        let info = try #require(object["info"] as? [String: Any])
        #expect(info["generatedTokens"] as? Int == 3 && info["promptTokens"] as? Int == 6)
        #expect(info["stopReason"] as? String == "length")
    }

    @Test func tokenizeAndInspectPrintJSON() throws {
        let tokens = try CLI.run(["tokenize", "--vocab", "byte", "--json", "hi"])
        #expect(tokens.status == 0, "\(tokens.stderr)")
        #expect(tokens.stdout.contains("104") && tokens.stdout.contains("105"))
        let inspect = try CLI.run(["inspect", CLI.bundledModel, "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        let config = try #require(object["config"] as? [String: Any])
        #expect(config["layerCount"] as? Int == 6 && config["embeddingSize"] as? Int == 256 && config["version"] as? String == "7")
        #expect(object["parameters"] as? Int == 5_371_392)
    }

    @Test func convertRoundTripsAndTheResultLoads() throws {
        let dir = try CLI.temporaryDirectory()
        let model = try CLI.tinyModel(in: dir)
        let out = dir.appendingPathComponent("model.safetensors").path
        let convert = try CLI.run(["convert", model, out])
        #expect(convert.status == 0, "\(convert.stderr)")
        let a = try CLI.run(["logits", "-m", model, "--tokens", "82,79,77", "--json"])
        let b = try CLI.run(["logits", "-m", out, "--tokens", "82,79,77", "--json"])
        #expect(a.status == 0 && b.status == 0)
        #expect(!a.stdout.isEmpty && a.stdout == b.stdout)
    }

    /// `-m OWNER/NAME/FILE` and `-m OWNER/NAME` read the huggingface_hub cache under $HF_HOME.
    @Test func hubNamesResolveFromTheCache() throws {
        let dir = try CLI.temporaryDirectory()
        let model = try CLI.tinyModel(in: dir)
        let commit = String(repeating: "c", count: 40)
        let repo = dir.appendingPathComponent("hf/hub/models--someone--tiny")
        let snapshot = repo.appendingPathComponent("snapshots/\(commit)")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("refs"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: model, toPath: snapshot.appendingPathComponent("tiny.pth").path)
        try commit.write(to: repo.appendingPathComponent("refs/main"), atomically: true, encoding: .utf8)
        let env = ["HF_HOME": dir.appendingPathComponent("hf").path]
        for name in ["someone/tiny/tiny.pth", "someone/tiny"] {
            let result = try CLI.run(["generate", "-m", name, "hi", "-n", "2", "-v"], environment: env)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("from the hub cache"), "\(result.stderr)")
        }
        let missing = try CLI.run(["generate", "-m", "someone/other", "hi", "-n", "2"], environment: env)
        #expect(missing.status == 64 && missing.stderr.contains("rwkv pull someone/other"), "\(missing.stderr)")
    }

    /// `rwkv train` end to end on a tiny model: steps, loss log, resume checkpoint, a model that loads; `--resume` continues.
    @Test func trainWritesAModelThatLoadsAndResumes() throws {
        let dir = try CLI.temporaryDirectory()
        let data = dir.appendingPathComponent("data.txt")
        try String(repeating: "To be, or not to be, that is the question. ", count: 40).write(to: data, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let common = ["train", "--data", data.path, "--layers", "1", "--dim", "32", "--head-size", "16", "--ctx", "16",
                      "--batch", "1", "--val-every", "2", "--save-every", "2", "--val-batches", "1", "--out", out]
        let first = try CLI.run(common + ["--steps", "3"])
        #expect(first.status == 0, "\(first.stderr)")
        let csv = try String(contentsOfFile: out + "/loss.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 4, "\(csv)")   // header + 3 steps
        for file in ["rwkv-final.pth", "resume.bin", "loss.svg"] { #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)") }
        let generate = try CLI.run(["generate", "-m", out + "/rwkv-final.pth", "To", "-n", "4", "--greedy"])
        #expect(generate.status == 0, "\(generate.stderr)")
        let resumed = try CLI.run(common + ["--steps", "5", "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try String(contentsOfFile: out + "/loss.csv", encoding: .utf8).split(separator: "\n").count == 6)
    }

    /// A whole chat through a pipe: replies, a failing command that does not end the chat, /save, /think.
    @Test func chatDrivenThroughPipedStdin() throws {
        let dir = try CLI.temporaryDirectory()
        let model = try CLI.tinyModel(in: dir)
        let input = "Hello there\n/bogus\n/save saved.rwkvstate\n/think maybe\n/think fake\nand\\\nmore\n/regenerate\n/quit\n"
        let result = try CLI.run(["chat", "-m", model, "-n", "12", "--seed", "1", "--system", "You are a poet."], stdin: input, directory: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("unknown command /bogus"))
        #expect(result.stderr.contains("usage: /think on|off|fake"))
        #expect(result.stderr.contains("(state saved to saved.rwkvstate)"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("saved.rwkvstate").path))
        // Three replies: the first, the one after /think fake (it opens with the empty think block), the regenerated one.
        #expect(result.stdout.components(separatedBy: "Assistant:").count - 1 == 3, "\(result.stdout)")
        #expect(result.stdout.contains("Assistant: <think></think"))
    }
}
