// Where tests find their inputs: committed fixtures and the shared read-only data folder.

import Foundation

enum TestPaths {
    /// `<repo>/Tests`.
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `<repo>`.
    static let repo = tests.deletingLastPathComponent()
    /// `<repo>/Tests/Fixtures`.
    static let fixtures = tests.appendingPathComponent("Fixtures")
    /// `<repo>/../shared/data`: corpora and the trained tiny models (never copied into the repo).
    static let sharedData = repo.deletingLastPathComponent().appendingPathComponent("shared/data")

    /// Whether `../shared/data` is beside the checkout (tests that read it are skipped otherwise).
    static let sharedDataAvailable = FileManager.default.fileExists(atPath: sharedData.appendingPathComponent("README.md").path)

    static func fixture(_ relative: String) -> String { fixtures.appendingPathComponent(relative).path }
    static func shared(_ relative: String) -> String { sharedData.appendingPathComponent(relative).path }

    /// A fresh temporary directory for one test.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rwkv-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
