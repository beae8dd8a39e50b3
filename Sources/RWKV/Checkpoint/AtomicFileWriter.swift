// AtomicFileWriter: writes a file so that readers only ever see the old file or the complete new one.
//
// Data goes to a temporary file in the destination's directory (same file system, so `rename` is
// atomic), is flushed with `fsync`, then renamed over the destination. If anything fails, or the
// writer is dropped without `commit()`, the temporary file is removed and the destination is untouched.
//
// What is at the destination decides what happens:
// - nothing: a new file with mode 0644;
// - a regular file: replaced, keeping its permission bits (the new file gets the old mode);
// - a symlink: followed. The file it points to is replaced (so the link keeps working and the
//   temporary file lives next to the real file, on its file system); a dangling link, a link loop or a
//   link to something other than a regular file is refused;
// - anything else (directory, device node, FIFO, socket): refused, since a rename would replace it with a
//   regular file (`/dev/null` as an output path would otherwise be deleted).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// A buffered, append-only output file that becomes visible at its path only on `commit()`.
/// Symlinks at the destination are followed (their target is replaced), a replaced file keeps its
/// permission bits, and directories or special files are refused (see the file comment).
final class AtomicFileWriter {
    let path: String
    private let temporaryPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var finished = false
    /// Bytes written so far (including buffered ones): the offset of the next byte.
    private(set) var position = 0

    private static let bufferLimit = 1 << 20

    init(path requested: String) throws {
        let (path, mode) = try Self.destination(requested)
        self.path = path
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty else { throw CheckpointError.writeFailed(path: path, reason: "the path names a directory") }
        var template = Array((directory + "." + name + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw CheckpointError.writeFailed(path: path, reason: "cannot create a temporary file next to it: " + String(cString: strerror(errno)))
        }
        // mkstemp creates 0600 files; a checkpoint is an ordinary readable file, or keeps the old file's mode.
        fchmod(fd, mode)
        self.fd = fd
        self.temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        buffer.reserveCapacity(Self.bufferLimit)
    }

    deinit { if !finished { discard() } }

    /// The path to write (symlinks resolved) and the mode the new file gets; throws for destinations
    /// that must not be replaced (see the file comment).
    static func destination(_ path: String) throws -> (path: String, mode: mode_t) {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return (path, 0o644) }
            throw CheckpointError.writeFailed(path: path, reason: "cannot inspect the destination: " + String(cString: strerror(errno)))
        }
        var target = path
        if (st.st_mode & S_IFMT) == S_IFLNK {
            guard let resolved = realpath(path, nil) else {
                throw CheckpointError.writeFailed(path: path, reason: "it is a symbolic link that cannot be resolved (dangling or a loop): "
                                                  + String(cString: strerror(errno)))
            }
            target = String(cString: resolved)
            free(resolved)
            guard stat(target, &st) == 0 else {
                throw CheckpointError.writeFailed(path: path, reason: "its link target \(target) cannot be inspected")
            }
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError.writeFailed(path: path, reason: "\(target == path ? "it" : "its link target " + target) is a directory, "
                                              + "device or other special file, not a regular file; choose a file path")
        }
        return (target, st.st_mode & 0o7777)
    }

    /// Appends bytes.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        position += bytes.count
        if buffer.count + bytes.count <= Self.bufferLimit {
            buffer.append(contentsOf: bytes)
            return
        }
        try flush()
        if bytes.count >= Self.bufferLimit { try writeAll(bytes) } else { buffer.append(contentsOf: bytes) }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Appends `count` copies of `byte` (alignment padding).
    func writePadding(_ count: Int, byte: UInt8 = 0) throws {
        try write([UInt8](repeating: byte, count: count))
    }

    /// Flushes, syncs and renames the temporary file over `path`.
    func commit() throws {
        do {
            try flush()
            guard fsync(fd) == 0 else { throw failure("fsync failed") }
            guard close(fd) == 0 else { fd = -1; throw failure("close failed") }
            fd = -1
            guard rename(temporaryPath, path) == 0 else { throw failure("rename failed") }
            finished = true
        } catch {
            discard()
            throw error
        }
    }

    /// Closes and removes the temporary file; the destination is left as it was.
    func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporaryPath)
        finished = true
    }

    private func flush() throws {
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write failed")
            }
            done += n
        }
    }

    private func failure(_ what: String) -> CheckpointError {
        CheckpointError.writeFailed(path: path, reason: what + ": " + String(cString: strerror(errno)))
    }
}

/// `write(2)`, named so it does not collide with `AtomicFileWriter.write`.
@inline(__always)
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #elseif canImport(Darwin)
    return Darwin.write(fd, p, n)
    #else
    return Musl.write(fd, p, n)
    #endif
}
