// Downloads model files from the Hugging Face hub (or anything speaking its `resolve` scheme) into the
// huggingface_hub cache: metadata from a HEAD without redirects (X-Repo-Commit, X-Linked-Etag = sha256,
// X-Linked-Size), the body streamed into `blobs/<etag>.incomplete` and resumed with HTTP Range after a
// dropped connection, size and sha256 checked, then renamed into place and linked from `snapshots/`.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Where and as whom to download.
public struct HubConfiguration: Sendable {
    /// `$HF_ENDPOINT`, default `https://huggingface.co`.
    public var endpoint: String
    /// `$HF_TOKEN`: sent as `Authorization: Bearer` to the endpoint's host (gated and private repositories).
    public var token: String?
    public var cache: HubCache
    /// Attempts per file after a dropped connection (each resumes where the last stopped).
    public var attempts = 4

    public init(endpoint: String = "https://huggingface.co", token: String? = nil, cache: HubCache) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.token = token
        self.cache = cache
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> HubConfiguration {
        HubConfiguration(endpoint: env["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co",
                         token: env["HF_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }, cache: .fromEnvironment(env))
    }
}

/// How far a download is.
public struct PullProgress: Sendable {
    public var file: String
    public var received: Int64
    public var total: Int64?
    public var bytesPerSecond: Double
}

public enum HubError: Error, CustomStringConvertible, Sendable {
    case unauthorized(url: String, status: Int)
    case notFound(url: String)
    case http(url: String, status: Int)
    case missingMetadata(url: String, header: String)
    case sizeMismatch(file: String, expected: Int64, found: Int64)
    case checksumMismatch(file: String, expected: String, found: String)
    case chooseAFile(repository: String, candidates: [String])
    case badListing(url: String)
    case unsafeName(url: String, name: String)

    public var description: String {
        switch self {
        case let .unauthorized(url, status):
            "\(url): HTTP \(status) — the repository is gated or private; accept its terms on the hub and set HF_TOKEN"
        case let .notFound(url): "\(url): not found (HTTP 404) — check the repository, file and revision names"
        case let .http(url, status): "\(url): HTTP \(status)"
        case let .missingMetadata(url, header): "\(url): the response has no \(header) header; is HF_ENDPOINT a Hugging Face hub?"
        case let .sizeMismatch(file, expected, found): "\(file): expected \(expected) bytes, received \(found); run the pull again to resume"
        case let .checksumMismatch(file, expected, found):
            "\(file): sha256 \(found) does not match the hub's \(expected); the download was discarded, run the pull again"
        case let .chooseAFile(repository, candidates):
            "\(repository) holds several model files; name one as \(repository)/FILE: " + candidates.joined(separator: ", ")
        case let .badListing(url): "\(url): the file listing is not the hub's JSON"
        case let .unsafeName(url, name): "\(url): refusing the name '\(name)' (it must be a plain relative path)"
        }
    }
}

/// One file's identity on the hub.
struct HubFileMetadata: Sendable {
    var commit: String
    var etag: String
    var size: Int64?
    /// Known for LFS files (their etag is the sha256 of the content).
    var sha256: String?
    /// Where the content is (the resolve URL itself, or the CDN it redirects to).
    var location: String
}

public final class HubClient: Sendable {
    public let configuration: HubConfiguration
    private let http: HTTPClient

    public init(configuration: HubConfiguration = .fromEnvironment()) {
        self.configuration = configuration
        var config = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                              timeout: .init(connect: .seconds(30), read: .seconds(60)))
        config.decompression = .disabled
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    /// Must be called before the client goes away.
    public func shutdown() async throws { try await http.shutdown() }

    /// Pulls `reference` at `revision` into the cache and returns the local path: the file, or for a
    /// repository named without a file, its single model file or (Hugging Face format) the snapshot folder.
    public func pull(_ reference: HubReference, revision: String = "main",
                     progress: @escaping @Sendable (PullProgress) -> Void = { _ in }) async throws -> URL {
        if let file = reference.file {
            return try await download(reference.repository, file: file, revision: revision, progress: progress)
        }
        let files = try await listFiles(reference.repository, revision: revision)
        let weights = files.filter { $0.hasSuffix(".safetensors") || $0.hasSuffix(".pth") || $0.hasSuffix(".gguf") }
        if files.contains("config.json"), weights.allSatisfy({ $0.hasSuffix(".safetensors") }), !weights.isEmpty {
            // Hugging Face format: config, shards, index and tokenizer files together.
            var folder = configuration.cache.repositoryFolder(reference.repository)
            for file in files where !file.hasPrefix(".") && (file.hasSuffix(".json") || file.hasSuffix(".safetensors") || file.hasSuffix(".txt")) {
                let link = try await download(reference.repository, file: file, revision: revision, progress: progress)
                folder = file.split(separator: "/").reduce(link) { url, _ in url.deletingLastPathComponent() }
            }
            return folder
        }
        guard weights.count == 1 else { throw HubError.chooseAFile(repository: reference.repository, candidates: weights) }
        return try await download(reference.repository, file: weights[0], revision: revision, progress: progress)
    }

    /// The files of a repository at `revision` (the hub's model API).
    public func listFiles(_ repository: String, revision: String = "main") async throws -> [String] {
        let url = "\(configuration.endpoint)/api/models/\(repository)/revision/\(revision)"
        let response = try await send(url, method: .GET)
        try check(response.status, url)
        let body = try await response.body.collect(upTo: 16 << 20)
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
              let siblings = object["siblings"] as? [[String: Any]] else { throw HubError.badListing(url: url) }
        let names = siblings.compactMap { $0["rfilename"] as? String }
        for name in names where !isSafeRelativePath(name) { throw HubError.unsafeName(url: url, name: name) }
        return names
    }

    // MARK: - One file

    func download(_ repository: String, file: String, revision: String,
                  progress: @escaping @Sendable (PullProgress) -> Void) async throws -> URL {
        let meta = try await metadata(repository, file: file, revision: revision)
        let cache = configuration.cache
        let blob = cache.blob(repository, etag: meta.etag)
        let fm = FileManager.default
        try fm.createDirectory(at: blob.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !(fm.fileExists(atPath: blob.path) && (meta.size == nil || fileSize(blob) == meta.size)) {
            let partial = URL(fileURLWithPath: blob.path + ".incomplete")
            var attempt = 0
            while true {
                do {
                    try await fetch(meta.location, into: partial, total: meta.size, file: file, progress: progress)
                    break
                } catch let error as HubError {
                    throw error
                } catch {
                    attempt += 1
                    if attempt >= configuration.attempts { throw error }
                }
            }
            try verify(partial, meta, file: file)
            _ = try? fm.removeItem(at: blob)
            try fm.moveItem(at: partial, to: blob)
        }
        let link = cache.snapshot(repository, commit: meta.commit).appendingPathComponent(file)
        try placeLink(link, to: blob, depth: file.split(separator: "/").count)
        if revision != meta.commit { try writeAtomically(meta.commit, to: cache.ref(repository, revision: revision)) }
        return link
    }

    func metadata(_ repository: String, file: String, revision: String) async throws -> HubFileMetadata {
        var url = "\(configuration.endpoint)/\(repository)/resolve/\(revision)/\(file)"
        for _ in 0..<5 {
            let response = try await send(url, method: .HEAD)
            let h = response.headers
            let status = Int(response.status.code)
            // The hub answers LFS files with a redirect to the CDN that already carries the metadata.
            if (300..<400).contains(status), let location = h.first(name: "Location") {
                let target = resolve(location, against: url)
                if h.first(name: "X-Linked-Etag") == nil { url = target; continue }
                return try parse(h, url: url, location: target)
            }
            try check(response.status, url)
            return try parse(h, url: url, location: url)
        }
        throw HubError.http(url: url, status: 310)
    }

    private func parse(_ h: HTTPHeaders, url: String, location: String) throws -> HubFileMetadata {
        guard let commit = h.first(name: "X-Repo-Commit") else { throw HubError.missingMetadata(url: url, header: "X-Repo-Commit") }
        let linked = h.first(name: "X-Linked-Etag").map(unquote)
        guard let etag = linked ?? h.first(name: "ETag").map(unquote) else { throw HubError.missingMetadata(url: url, header: "ETag") }
        let size = (h.first(name: "X-Linked-Size") ?? h.first(name: "Content-Length")).flatMap { Int64($0) }
        // Both name paths in the cache: a hostile server must not reach outside it.
        for name in [commit, etag] where !HubReference.isPlainName(name) { throw HubError.unsafeName(url: url, name: name) }
        let sha = linked.flatMap { $0.count == 64 && $0.allSatisfy(\.isHexDigit) ? $0.lowercased() : nil }
        return HubFileMetadata(commit: commit, etag: etag, size: size, sha256: sha, location: location)
    }

    /// Streams `url` into `partial`, resuming after what it already holds.
    private func fetch(_ url: String, into partial: URL, total: Int64?, file: String,
                       progress: @escaping @Sendable (PullProgress) -> Void) async throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: partial.path) { fm.createFile(atPath: partial.path, contents: nil) }
        var have = fileSize(partial) ?? 0
        if let total, have == total { return }
        if let total, have > total { try Data().write(to: partial); have = 0 }
        var target = url
        var response = try await send(target, method: .GET, from: have)
        for _ in 0..<5 where (300..<400).contains(Int(response.status.code)) {
            guard let location = response.headers.first(name: "Location") else { break }
            target = resolve(location, against: target)
            response = try await send(target, method: .GET, from: have)
        }
        let handle = try FileHandle(forWritingTo: partial)
        defer { try? handle.close() }
        switch response.status.code {
        case 206: try handle.seekToEnd()
        case 200: try handle.truncate(atOffset: 0); have = 0
        case 416 where total == have: return
        default: try check(response.status, target)
        }
        let start = Date()
        var received = have, reported = Date.distantPast
        for try await buffer in response.body {
            try handle.write(contentsOf: Data(buffer.readableBytesView))
            received += Int64(buffer.readableBytes)
            if Date().timeIntervalSince(reported) > 0.2 {
                reported = Date()
                progress(PullProgress(file: file, received: received, total: total,
                                      bytesPerSecond: Double(received - have) / max(1e-3, Date().timeIntervalSince(start))))
            }
        }
        progress(PullProgress(file: file, received: received, total: total,
                              bytesPerSecond: Double(received - have) / max(1e-3, Date().timeIntervalSince(start))))
        // A body that ended early without an error is also an interruption: resume it.
        if let total, received < total { throw PullInterrupted() }
    }

    private struct PullInterrupted: Error {}

    private func verify(_ partial: URL, _ meta: HubFileMetadata, file: String) throws {
        let size = fileSize(partial) ?? 0
        if let expected = meta.size, size != expected {
            throw HubError.sizeMismatch(file: file, expected: expected, found: size)
        }
        guard let expected = meta.sha256 else { return }
        let found = try sha256(of: partial)
        if found != expected {
            try? FileManager.default.removeItem(at: partial)
            throw HubError.checksumMismatch(file: file, expected: expected, found: found)
        }
    }

    // MARK: - Plumbing

    private func send(_ url: String, method: HTTPMethod, from offset: Int64 = 0) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: "swift-rwkv")
        request.headers.add(name: "Accept-Encoding", value: "identity")
        if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
        if let token = configuration.token, URL(string: url)?.host == URL(string: configuration.endpoint)?.host {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        return try await http.execute(request, timeout: .hours(48))
    }

    private func check(_ status: HTTPResponseStatus, _ url: String) throws {
        switch status.code {
        case 200..<300: return
        case 401, 403: throw HubError.unauthorized(url: url, status: Int(status.code))
        case 404: throw HubError.notFound(url: url)
        default: throw HubError.http(url: url, status: Int(status.code))
        }
    }

    private func resolve(_ location: String, against base: String) -> String {
        URL(string: location, relativeTo: URL(string: base))?.absoluteString ?? location
    }

    private func unquote(_ s: String) -> String {
        var t = s.hasPrefix("W/") ? String(s.dropFirst(2)) : s
        if t.hasPrefix("\""), t.hasSuffix("\""), t.count >= 2 { t = String(t.dropFirst().dropLast()) }
        return t
    }
}

/// A path inside a repository: relative, without `.`/`..` or empty components.
func isSafeRelativePath(_ path: String) -> Bool {
    !path.hasPrefix("/") && path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
}

func fileSize(_ url: URL) -> Int64? {
    (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value
}

func sha256(of url: URL) throws -> String {
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    var hash = SHA256()
    while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { hash.update(chunk) }
    return hash.finalizeHex()
}

/// Links `link` to `blob` relatively (`../../blobs/<etag>`, deeper for nested files), replacing it atomically.
func placeLink(_ link: URL, to blob: URL, depth: Int) throws {
    let fm = FileManager.default
    try fm.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
    let relative = String(repeating: "../", count: depth + 1) + "blobs/" + blob.lastPathComponent
    let temporary = link.deletingLastPathComponent().appendingPathComponent(".\(link.lastPathComponent).\(UUID().uuidString).tmp")
    try fm.createSymbolicLink(atPath: temporary.path, withDestinationPath: relative)
    guard rename(temporary.path, link.path) == 0 else {
        try? fm.removeItem(at: temporary)
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: link.path])
    }
}

func writeAtomically(_ text: String, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url, options: .atomic)
}
