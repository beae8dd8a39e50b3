// `rwkv chat`: an interactive conversation over a `ChatSession`. The recurrent state carries the
// conversation, so each turn feeds only its own text — nothing is re-read, however long the chat gets.

import ArgumentParser
import Foundation
import RWKV
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with a model in the terminal (G1 or G1h turns; /help lists the commands).",
        discussion: """
            Sampling defaults are the library's (pip's PIPELINE_ARGS): temperature 1.0, top-p 0.85, presence and \
            frequency penalty 0.2, decay 0.996. A line ending in a backslash continues on the next line. \
            Ctrl-C stops a reply; at the prompt it quits. In a terminal, lines can be edited and recalled \
            (readline or libedit, found at run time); piped stdin works too.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Prompt format: g1 or g1h (default: the model's).") var template: String?
    @Option(help: "Reasoning of G1 models: on, off or fake (an empty <think></think>).") var think: ThinkingMode = .off
    @Option(name: [.customShort("n"), .customLong("max-tokens")], help: "Longest reply, in tokens.") var maxTokens = 500
    @Option(help: "A system prompt placed before the first turn (kept by /reset).") var system: String?
    @Option(help: "Start from this state file (e.g. a state-tuned initial state).") var state: String?

    func validate() throws {
        if let template, ChatTemplate.named(template) == nil {
            throw ValidationError("unknown template '\(template)'; expected one of \(ChatTemplate.all.map(\.name).joined(separator: ", "))")
        }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
    }

    func run() throws {
        let rwkv = try model.load()
        var parameters = ChatSession.defaultParameters
        parameters.maxNewTokens = maxTokens
        parameters.sampling = try sampling.parameters()
        let session = try ChatSession(model: rwkv, template: template.flatMap(ChatTemplate.named), systemPrompt: system, parameters: parameters)
        session.thinking = think
        if let state { try session.load(from: state) }
        var chat = ChatLoop(session: session)
        printError("chatting with \(rwkv.config.signature) in the \(session.template.name) format; /help lists the commands")
        chat.run()
    }
}

extension ThinkingMode: ExpressibleByArgument {}

/// Set by the SIGINT handler while a reply is streaming; a Ctrl-C at the prompt quits.
nonisolated(unsafe) private var replyInterrupted = false
nonisolated(unsafe) private var replying = false

/// The read–reply loop and its slash commands. Errors of a command are reported; the chat goes on.
struct ChatLoop {
    var session: ChatSession
    /// Sessions kept by `/fork NAME`, reachable with `/switch NAME`.
    var branches: [String: ChatSession] = [:]
    var current = "main"
    let input = LineEditor()

    static let help = """
        /reset            forget the conversation (the system prompt stays)
        /system TEXT      set the system prompt and start over
        /think on|off|fake  reasoning mode of G1 models
        /regenerate       replace the last reply
        /save FILE        save the conversation's state;  /load FILE  continue from one
        /fork NAME        keep a copy of this conversation as NAME;  /switch NAME  go to it
        /quit             leave
        """

    init(session: ChatSession) { self.session = session }

    mutating func run() {
        signal(SIGINT) { _ in
            if replying { replyInterrupted = true } else { _exit(130) }
        }
        while let line = readMessage() {
            if line.hasPrefix("/") {
                if line == "/quit" || line == "/exit" { break }
                do { try command(line) } catch { printError("error: \(error)") }
                continue
            }
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            reply { try session.respond(to: line, onText: $0) }
        }
    }

    /// One message from stdin: lines ending in "\" continue on the next. Nil at end of input.
    func readMessage() -> String? {
        var lines: [String] = []
        var prompt = "\n" + (session.template.name == "g1h" ? "User✿" : "User: ")
        while let line = input.line(prompt: prompt) {
            prompt = "… "
            if line.hasSuffix("\\") { lines.append(String(line.dropLast())); continue }
            lines.append(line)
            return lines.joined(separator: "\n")
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }

    /// Streams a reply to stdout; Ctrl-C ends it early.
    func reply(_ generate: ((String) -> Bool) throws -> String) {
        writeOut(session.template.replyPrefix(thinking: session.thinking))
        replyInterrupted = false
        replying = true
        defer { replying = false }
        do {
            _ = try generate { piece in
                writeOut(piece)
                return !replyInterrupted
            }
        } catch {
            printError("\nerror: \(error)")
        }
        writeOut("\n")
        if replyInterrupted { printError("(reply stopped)") }
    }

    mutating func command(_ line: String) throws {
        let (name, argument) = line.firstIndex(of: " ").map { (String(line[..<$0]), String(line[$0...].dropFirst())) } ?? (line, "")
        switch name {
        case "/help": printError(Self.help)
        case "/reset": session.reset(); printError("(conversation reset)")
        case "/system":
            session.setSystemPrompt(argument.isEmpty ? nil : argument)
            printError(argument.isEmpty ? "(system prompt removed; conversation reset)" : "(system prompt set; conversation reset)")
        case "/think":
            guard let mode = ThinkingMode(rawValue: argument) else { throw ChatCommandError("usage: /think on|off|fake") }
            session.thinking = mode
            printError("(thinking \(mode.rawValue))")
        case "/regenerate": reply { try session.regenerate(onText: $0) }
        case "/save":
            guard !argument.isEmpty else { throw ChatCommandError("usage: /save FILE") }
            try session.save(to: argument)
            printError("(state saved to \(argument))")
        case "/load":
            guard !argument.isEmpty else { throw ChatCommandError("usage: /load FILE") }
            try session.load(from: argument)
            printError("(state loaded from \(argument))")
        case "/fork":
            guard !argument.isEmpty else { throw ChatCommandError("usage: /fork NAME") }
            branches[argument] = session.fork()
            printError("(forked as \(argument); /switch \(argument) goes there)")
        case "/switch":
            guard let target = branches[argument] else {
                throw ChatCommandError("no branch '\(argument)'; known: \(([current] + branches.keys.sorted()).joined(separator: ", "))")
            }
            branches[current] = session
            branches[argument] = nil
            (session, current) = (target, argument)
            printError("(now in \(argument))")
        default: throw ChatCommandError("unknown command \(name); /help lists the commands")
        }
    }
}

struct ChatCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
