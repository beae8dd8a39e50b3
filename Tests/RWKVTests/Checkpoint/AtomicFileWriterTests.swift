// Atomic saves and what is at the destination: regular files keep their permissions, symlinks are
// followed (the link survives and its target is replaced), special files and directories are refused.

import Foundation
import Testing
@testable import RWKV

@Suite("Atomic file writer")
struct AtomicFileWriterTests {
    func save(_ text: String, to path: String) throws {
        let writer = try AtomicFileWriter(path: path)
        try writer.write(Array(text.utf8))
        try writer.commit()
    }

    func contents(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    func leftovers(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
    }

    @Test("A new file is 0644; replacing a file keeps its mode")
    func keepsPermissions() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("out.bin").path
        try save("one", to: path)
        #expect(try mode(path) == 0o644)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        try save("two", to: path)
        #expect(try contents(path) == "two")
        #expect(try mode(path) == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        try save("three", to: path)
        #expect(try mode(path) == 0o640)
        #expect(try leftovers(dir).isEmpty)
    }

    @Test("A symlink is followed: the link stays, its target gets the new bytes")
    func followsSymlinks() throws {
        let dir = try TestPaths.temporaryDirectory()
        let target = dir.appendingPathComponent("real.bin").path, link = dir.appendingPathComponent("link.bin").path
        try save("old", to: target)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real.bin")
        try save("new", to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "real.bin")
        #expect(try contents(target) == "new")
        #expect(try leftovers(dir).isEmpty)
    }

    @Test("A dangling symlink, a directory and a device node are refused and left alone")
    func refusesSpecialDestinations() throws {
        let dir = try TestPaths.temporaryDirectory()
        let dangling = dir.appendingPathComponent("dangling.bin").path
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: "nowhere.bin")
        let subdirectory = dir.appendingPathComponent("sub").path
        try FileManager.default.createDirectory(atPath: subdirectory, withIntermediateDirectories: false)
        let linkToNull = dir.appendingPathComponent("null.bin").path
        try FileManager.default.createSymbolicLink(atPath: linkToNull, withDestinationPath: "/dev/null")
        for path in [dangling, subdirectory, "/dev/null", linkToNull] {
            #expect(throws: CheckpointError.self, "\(path)") { try save("x", to: path) }
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dangling) == "nowhere.bin")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: "/dev/null", isDirectory: &isDirectory))
        #expect((try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType) == .typeCharacterSpecial)
        #expect(try leftovers(dir).isEmpty)
    }

    @Test("Checkpoint and state saves go through the same checks")
    func publicSavesRefuseDirectories() throws {
        let dir = try TestPaths.temporaryDirectory()
        let checkpoint = try HostileInput.tinyV7()
        let sub = dir.appendingPathComponent("model.safetensors").path
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
        #expect(throws: CheckpointError.self) { try checkpoint.write(to: sub) }
        let model = try RWKVModel(checkpoint: checkpoint)
        #expect(throws: CheckpointError.self) { try model.makeState().save(to: "/dev/null", config: model.config) }
    }
}
