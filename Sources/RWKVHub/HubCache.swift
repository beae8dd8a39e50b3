// The huggingface_hub cache layout, so files pulled by Python tools are reused and ours are theirs:
//   $HF_HUB_CACHE (default $HF_HOME/hub, $HF_HOME default ~/.cache/huggingface)
//     models--OWNER--NAME/blobs/<etag>                 file contents (LFS etag = sha256)
//     models--OWNER--NAME/snapshots/<commit>/<file>    symlink → ../../blobs/<etag>
//     models--OWNER--NAME/refs/<revision>              the commit a branch or tag pointed at

import Foundation

/// A repository and optionally one file in it: `OWNER/NAME[/PATH/IN/REPO]`.
public struct HubReference: Sendable, Equatable, CustomStringConvertible {
    public var repository: String
    public var file: String?

    /// Parses `OWNER/NAME[/FILE]`; nil unless both owner and name are plain names.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, parts[0...1].allSatisfy(HubReference.isPlainName) else { return nil }
        let rest = parts.dropFirst(2)
        guard rest.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { return nil }
        repository = parts[0] + "/" + parts[1]
        file = rest.isEmpty ? nil : rest.joined(separator: "/")
    }

    public init(repository: String, file: String?) {
        self.repository = repository
        self.file = file
    }

    public var description: String { file.map { repository + "/" + $0 } ?? repository }

    static func isPlainName(_ s: String) -> Bool {
        !s.isEmpty && s != "." && s != ".." && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
    }
}

/// Paths of the hub cache.
public struct HubCache: Sendable {
    public var root: URL

    /// `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> HubCache {
        if let hub = env["HF_HUB_CACHE"], !hub.isEmpty { return HubCache(root: URL(fileURLWithPath: hub)) }
        let home = env["HF_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/huggingface")
        return HubCache(root: home.appendingPathComponent("hub"))
    }

    public init(root: URL) { self.root = root }

    public func repositoryFolder(_ repository: String) -> URL {
        root.appendingPathComponent("models--" + repository.replacingOccurrences(of: "/", with: "--"))
    }

    func blob(_ repository: String, etag: String) -> URL { repositoryFolder(repository).appendingPathComponent("blobs/" + etag) }
    func snapshot(_ repository: String, commit: String) -> URL { repositoryFolder(repository).appendingPathComponent("snapshots/" + commit) }
    func ref(_ repository: String, revision: String) -> URL { repositoryFolder(repository).appendingPathComponent("refs/" + revision) }

    /// The commit `revision` names: itself if it is a commit hash, else what `refs/` recorded.
    public func commit(for repository: String, revision: String) -> String? {
        if revision.count == 40, revision.allSatisfy(\.isHexDigit) { return revision }
        let text = try? String(contentsOf: ref(repository, revision: revision), encoding: .utf8)
        return text?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A cached file of `revision`, if present (no network).
    public func cachedFile(_ repository: String, file: String, revision: String = "main") -> URL? {
        guard let commit = commit(for: repository, revision: revision) else { return nil }
        let url = snapshot(repository, commit: commit).appendingPathComponent(file)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// The cached snapshot folder of `revision`, if present.
    public func cachedSnapshot(_ repository: String, revision: String = "main") -> URL? {
        guard let commit = commit(for: repository, revision: revision) else { return nil }
        let url = snapshot(repository, commit: commit)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
}
