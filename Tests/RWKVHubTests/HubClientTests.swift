// `rwkv pull` against a local server on 127.0.0.1 that answers as the Hugging Face hub does: HEAD on
// `resolve` redirects LFS files to a CDN path with X-Repo-Commit / X-Linked-Etag / X-Linked-Size; the
// CDN honours Range; one file drops its connection half-way once, one lies about its checksum, one
// needs a token, anything else is 404.

import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import RWKVHub

final class FakeHub: @unchecked Sendable {
    let commit = String(repeating: "ab", count: 20)
    let content: [String: [UInt8]]
    private let lock = NSLock()
    private var dropsLeft: [String: Int] = ["flaky.pth": 1]
    private(set) var rangeRequests: [String] = []

    init() {
        var files: [String: [UInt8]] = [:]
        for (name, n) in [("model.pth", 300_000), ("flaky.pth", 200_000), ("bad.pth", 1_000), ("gated.pth", 500)] {
            var g = UInt64(n)
            files[name] = (0..<n).map { _ in g = g &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: g >> 33) }
        }
        files["config.json"] = Array(#"{"model_type": "rwkv7"}"#.utf8)
        content = files
    }

    func sha(_ bytes: [UInt8]) -> String { var h = SHA256(); h.update(bytes); return h.finalizeHex() }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.head("/:owner/:name/resolve/:rev/:file") { request, context in try self.resolve(request, context) }
        router.get("/cdn/:file") { request, context in try self.cdn(request, context) }
        router.get("/api/models/:owner/:name/revision/:rev") { _, context -> Response in
            let name = context.parameters.get("name") ?? ""
            let files = name == "hf-format" ? ["config.json", "model.pth"] : name == "many" ? ["a.pth", "b.pth"] : ["model.pth"]
            let json = #"{"siblings": ["# + files.map { #"{"rfilename": "\#($0)"}"# }.joined(separator: ",") + "]}"
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
        }
        return router
    }

    private func resolve(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let file = context.parameters.get("file") ?? ""
        guard let bytes = content[file] else { return Response(status: .notFound) }
        if file == "gated.pth", request.headers[.authorization] != "Bearer secret" { return Response(status: .unauthorized) }
        var headers: HTTPFields = [.location: "/cdn/\(file)"]
        headers[.init("X-Repo-Commit")!] = commit
        let claimed = file == "bad.pth" ? sha(bytes + [1]) : sha(bytes)
        headers[.init("X-Linked-Etag")!] = "\"\(claimed)\""
        headers[.init("X-Linked-Size")!] = "\(bytes.count)"
        return Response(status: .found, headers: headers)
    }

    private func cdn(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        let file = context.parameters.get("file") ?? ""
        guard let bytes = content[file] else { return Response(status: .notFound) }
        var start = 0
        if let range = request.headers[.range], range.hasPrefix("bytes="), let from = Int(range.dropFirst(6).dropLast()) {
            start = from
            lock.withLock { rangeRequests.append("\(file):\(range)") }
        }
        let body = Array(bytes[start...])
        let drop = lock.withLock { () -> Bool in
            guard let n = dropsLeft[file], n > 0 else { return false }
            dropsLeft[file] = n - 1
            return true
        }
        var headers: HTTPFields = [.contentLength: "\(body.count)"]
        if start > 0 { headers[.contentRange] = "bytes \(start)-\(bytes.count - 1)/\(bytes.count)" }
        let status: HTTPResponse.Status = start > 0 ? .partialContent : .ok
        return Response(status: status, headers: headers, body: ResponseBody { writer in
            if drop {
                try await writer.write(ByteBuffer(bytes: body.prefix(body.count / 2)))
                throw CancellationError()   // the connection closes mid-file
            }
            try await writer.write(ByteBuffer(bytes: body))
            try await writer.finish(nil)
        })
    }
}

@Suite struct HubClientTests {
    func withHub(token: String? = nil, _ body: @escaping @Sendable (HubClient, FakeHub, HubCache) async throws -> Void) async throws {
        let hub = FakeHub()
        let app = Application(router: hub.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let cacheRoot = FileManager.default.temporaryDirectory.appendingPathComponent("rwkv-hub-\(UUID().uuidString)")
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let cache = HubCache(root: cacheRoot)
            let hubClient = HubClient(configuration: HubConfiguration(endpoint: "http://127.0.0.1:\(port)", token: token, cache: cache))
            do { try await body(hubClient, hub, cache) } catch { try await hubClient.shutdown(); throw error }
            try await hubClient.shutdown()
        }
    }

    @Test func sha256MatchesKnownVectors() {
        var a = SHA256(); a.update(Array("abc".utf8))
        #expect(a.finalizeHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var b = SHA256(); b.update([UInt8]())
        #expect(b.finalizeHex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var c = SHA256()   // fed in uneven pieces across block boundaries
        let text = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        c.update(text[..<7]); c.update(text[7..<40]); c.update(text[40...])
        #expect(c.finalizeHex() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func pullPlacesTheFileInTheHuggingFaceCacheLayout() async throws {
        try await withHub { client, hub, cache in
            let path = try await client.pull(HubReference("BlinkDL/rwkv7-g1/model.pth")!)
            #expect(try Data(contentsOf: path) == Data(hub.content["model.pth"]!))
            let folder = cache.repositoryFolder("BlinkDL/rwkv7-g1")
            #expect(path.path == folder.appendingPathComponent("snapshots/\(hub.commit)/model.pth").path)
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: path.path)
            #expect(target == "../../blobs/" + hub.sha(hub.content["model.pth"]!))
            #expect(try String(contentsOf: folder.appendingPathComponent("refs/main"), encoding: .utf8) == hub.commit)
            #expect(cache.cachedFile("BlinkDL/rwkv7-g1", file: "model.pth")?.path == path.path)
            // A second pull finds the blob and downloads nothing.
            _ = try await client.pull(HubReference("BlinkDL/rwkv7-g1/model.pth")!)
            #expect(hub.rangeRequests.isEmpty)
            // No partial files are left.
            let blobs = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("blobs").path)
            #expect(blobs.allSatisfy { !$0.hasSuffix(".incomplete") })
        }
    }

    @Test func droppedConnectionResumesWithRange() async throws {
        try await withHub { client, hub, _ in
            let path = try await client.pull(HubReference("o/n/flaky.pth")!)
            #expect(try Data(contentsOf: path) == Data(hub.content["flaky.pth"]!))
            #expect(hub.rangeRequests.count == 1 && hub.rangeRequests[0].hasPrefix("flaky.pth:bytes="))
            #expect(hub.rangeRequests[0] != "flaky.pth:bytes=0-")
        }
    }

    @Test func wrongChecksumIsRefusedAndNothingIsPlaced() async throws {
        try await withHub { client, _, cache in
            await #expect(throws: HubError.self) { try await client.pull(HubReference("o/n/bad.pth")!) }
            #expect(cache.cachedFile("o/n", file: "bad.pth") == nil)
            let blobs = cache.repositoryFolder("o/n").appendingPathComponent("blobs")
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: blobs.path)) ?? []).isEmpty)
        }
    }

    @Test func unauthorizedAndNotFoundAreNamed() async throws {
        try await withHub { client, _, _ in
            do { _ = try await client.pull(HubReference("o/n/gated.pth")!); Issue.record("expected 401") } catch let e as HubError {
                #expect("\(e)".contains("HF_TOKEN"))
            }
            do { _ = try await client.pull(HubReference("o/n/missing.pth")!); Issue.record("expected 404") } catch let e as HubError {
                #expect("\(e)".contains("404"))
            }
        }
        try await withHub(token: "secret") { client, hub, _ in
            let path = try await client.pull(HubReference("o/n/gated.pth")!)
            #expect(try Data(contentsOf: path) == Data(hub.content["gated.pth"]!))
        }
    }

    @Test func repositoryWithoutAFileIsResolvedFromItsListing() async throws {
        try await withHub { client, hub, _ in
            let single = try await client.pull(HubReference("o/single")!)
            #expect(single.lastPathComponent == "model.pth")
            await #expect(throws: HubError.self) { try await client.pull(HubReference("o/many")!) }
            #expect(hub.content["a.pth"] == nil)
        }
    }

    @Test func referencesAndEnvironment() {
        #expect(HubReference("BlinkDL/rwkv7-g1/sub/x.pth") == HubReference(repository: "BlinkDL/rwkv7-g1", file: "sub/x.pth"))
        #expect(HubReference("a/b") == HubReference(repository: "a/b", file: nil))
        for bad in ["a", "a/../x", "../a/b", "a/b/../../etc/passwd", "a/b//c", "/a/b", "a b/c"] { #expect(HubReference(bad) == nil, "\(bad)") }
        let config = HubConfiguration.fromEnvironment(["HF_HOME": "/tmp/hh", "HF_ENDPOINT": "http://mirror/", "HF_TOKEN": "t"])
        #expect(config.cache.root.path == "/tmp/hh/hub" && config.endpoint == "http://mirror" && config.token == "t")
        #expect(HubCache.fromEnvironment(["HF_HUB_CACHE": "/c"]).root.path == "/c")
        #expect(!isSafeRelativePath("../x") && !isSafeRelativePath("/x") && isSafeRelativePath("a/b.pth"))
    }
}
