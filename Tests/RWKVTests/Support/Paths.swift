// Where tests find their inputs: committed fixtures and the shared read-only data folder.

import Foundation
import Testing

enum TestPaths {
    /// `<repo>/Tests`.
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `<repo>`.
    static let repo = tests.deletingLastPathComponent()
    /// `<repo>/Tests/Fixtures`.
    static let fixtures = tests.appendingPathComponent("Fixtures")
    /// `<repo>/../shared/data`: corpora and the trained tiny models (never copied into the repo).
    /// `RWKV_SHARED_DATA` points elsewhere (e.g. at a missing folder, to see the skips of a fresh clone).
    static let sharedData: URL = {
        if let path = ProcessInfo.processInfo.environment["RWKV_SHARED_DATA"] { return URL(fileURLWithPath: path) }
        return repo.deletingLastPathComponent().appendingPathComponent("shared/data")
    }()
    /// Whether the shared data folder is beside the checkout; tests needing it skip visibly without it.
    static let sharedDataAvailable = FileManager.default.fileExists(atPath: sharedData.appendingPathComponent("rwkv-cpp-tiny").path)

    /// The model the README runs, committed in `models/`: usable by tests on a fresh clone.
    static let bundledModel = repo.appendingPathComponent("models/rwkv7-shakespeare-L6-D256.pth").path

    static func fixture(_ relative: String) -> String { fixtures.appendingPathComponent(relative).path }
    static func shared(_ relative: String) -> String { sharedData.appendingPathComponent(relative).path }

    /// A fresh temporary directory for one test.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rwkv-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension Trait where Self == ConditionTrait {
    /// For tests that read `../shared/data`: a fresh clone without it shows them as skipped, with why.
    static var needsSharedData: Self {
        .enabled(if: TestPaths.sharedDataAvailable, "needs ../shared/data beside the checkout")
    }
}
