// Line input for `rwkv chat`: with a terminal, GNU readline or libedit (found at run time, nothing to
// link) gives line editing and history; without one, or with piped stdin, plain `readLine()`.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct LineEditor {
    private typealias ReadLine = @convention(c) (UnsafePointer<CChar>?) -> UnsafeMutablePointer<CChar>?
    private typealias AddHistory = @convention(c) (UnsafePointer<CChar>?) -> Void
    private let readline: ReadLine?
    private let addHistory: AddHistory?

    init() {
        var found: (ReadLine, AddHistory?)?
        if isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1 {
            for name in ["libreadline.so.8", "libedit.so.2", "libedit.3.dylib", "libedit.dylib"] {
                guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL), let symbol = dlsym(handle, "readline") else { continue }
                found = (unsafeBitCast(symbol, to: ReadLine.self), dlsym(handle, "add_history").map { unsafeBitCast($0, to: AddHistory.self) })
                break
            }
        }
        readline = found?.0
        addHistory = found?.1
    }

    /// One line without its newline, or nil at end of input. `prompt` goes to the terminal (stderr when piped).
    func line(prompt: String) -> String? {
        guard let readline else {
            FileHandle.standardError.write(Data(prompt.utf8))
            return readLine()
        }
        guard let raw = readline(prompt) else { return nil }
        defer { free(raw) }
        let text = String(cString: raw)
        if !text.isEmpty { addHistory?(raw) }
        return text
    }
}
