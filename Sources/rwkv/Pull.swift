// `rwkv pull OWNER/NAME[/FILE]`: downloads a model from the Hugging Face hub into the huggingface_hub
// cache (shared with Python tools) and prints its local path.

import ArgumentParser
import Foundation
import RWKVHub

struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a model from the Hugging Face hub into its cache and print the local path.",
        discussion: """
            HF_ENDPOINT points at another hub, HF_TOKEN authorises gated repositories, HF_HOME (or HF_HUB_CACHE) \
            moves the cache. Interrupted downloads resume; sizes and sha256 are checked against the hub.
            """)

    @Argument(help: "OWNER/NAME or OWNER/NAME/FILE, e.g. BlinkDL/rwkv7-g1/rwkv7-g1d-0.1b-20260129-ctx8192.pth.")
    var reference: String?

    @Option(help: "Branch, tag or commit.") var revision = "main"
    @Flag(help: "List the official RWKV repositories (and, for a given OWNER/NAME, its files).") var list = false
    @Flag(help: "No progress bar.") var quiet = false

    func validate() throws {
        if let reference, HubReference(reference) == nil {
            throw ValidationError("'\(reference)' is not OWNER/NAME or OWNER/NAME/FILE")
        }
        if reference == nil && !list { throw ValidationError("give OWNER/NAME[/FILE] to pull, or --list") }
    }

    func run() async throws {
        let client = HubClient()
        do {
            try await body(client)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func body(_ client: HubClient) async throws {
        if list {
            guard let reference, let ref = HubReference(reference) else {
                for repo in OfficialRepositories.all { print("\(repo.name.padding(toLength: 32, withPad: " ", startingAt: 0))  \(repo.about)") }
                printError("`rwkv pull --list OWNER/NAME` lists a repository's files (asks the hub)")
                return
            }
            for file in try await client.listFiles(ref.repository, revision: revision) { print(file) }
            return
        }
        let ref = HubReference(reference ?? "")!
        let bar = PullProgressLine(quiet: quiet)
        let path = try await client.pull(ref, revision: revision) { bar.show($0) }
        bar.finish()
        print(path.path)
    }
}

/// The official RWKV repositories on the hub (files are listed live with `--list OWNER/NAME`).
enum OfficialRepositories {
    struct Repository { let name: String, about: String }
    static let all: [Repository] = [
        Repository(name: "BlinkDL/rwkv7-g1", about: "RWKV-7 G1 reasoning/chat series, .pth: 0.1B, 0.4B, 1.5B, 2.9B, 7.2B, 13.3B"),
        Repository(name: "BlinkDL/rwkv-7-world", about: "RWKV-7 World base models, .pth"),
        Repository(name: "BlinkDL/rwkv-6-world", about: "RWKV-6 Finch World models, .pth"),
        Repository(name: "BlinkDL/rwkv-5-world", about: "RWKV-5.2 Eagle World models, .pth"),
        Repository(name: "RWKV/RWKV7-1.5B-20260805", about: "official Hugging Face format (config.json + sharded safetensors); larger sizes alike"),
        Repository(name: "fla-hub/rwkv7-1.5B-g1", about: "flash-linear-attention layout of RWKV-7 (safetensors)"),
    ]
}

/// Download progress on stderr, one bar per file (the eval commands' `ProgressBar`), fed from the
/// client's callbacks.
final class PullProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let quiet: Bool
    private var current: (file: String, bar: ProgressBar)?

    init(quiet: Bool) { self.quiet = quiet }

    func show(_ p: PullProgress) {
        lock.withLock {
            if current?.file != p.file {
                current?.bar.finish()
                current = (p.file, ProgressBar(p.file, unit: "bytes", quiet: quiet))
            }
            current?.bar.update(Int(p.received), Int(p.total ?? p.received))
        }
    }

    func finish() { lock.withLock { current?.bar.finish(); current = nil } }
}
