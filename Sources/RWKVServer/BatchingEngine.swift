// Concurrent sessions, decoded together: every step advances all active requests with one batched
// forward pass (`RWKVModel.step(batch:states:)`), so each weight matrix is read once per step for all
// users instead of once per user — decode is memory-bound, so B users cost little more than one.
//
// One scheduler thread owns the model: it admits new requests (prefilling each prompt), picks each
// session's next token, runs the batched step, and streams text back. New requests join between steps.

import Foundation
import RWKV

/// A `TextEngine` that batches the decode steps of concurrent requests.
public final class BatchingEngine: TextEngine, @unchecked Sendable {
    public let modelID: String
    public let model: RWKVModel
    public let tokenizer: any Tokenizer
    /// Most sessions decoded in one step; further requests wait for a free slot.
    public let maxBatch: Int

    private struct Request {
        var prompt: [Int]
        var parameters: GenerateParameters
        var continuation: AsyncThrowingStream<Generation, Error>.Continuation
        var cancelled: CancellationFlag
    }

    private struct Session {
        var generator: TextGenerator
        var continuation: AsyncThrowingStream<Generation, Error>.Continuation
        var cancelled: CancellationFlag
        var started: Date
        var prefillSeconds: Double
    }

    private let condition = NSCondition()
    private var waiting: [Request] = []
    /// Other work that needs the model (scoring), run by the scheduler between steps.
    private var jobs: [@Sendable () -> Void] = []

    public init(modelID: String, model: RWKVModel, tokenizer: any Tokenizer, maxBatch: Int = 8) {
        self.modelID = modelID
        self.model = model
        self.tokenizer = tokenizer
        self.maxBatch = max(1, maxBatch)
        let thread = Thread { [unowned self] in self.schedule() }
        thread.name = "rwkv.batching"
        thread.start()
    }

    public func generate(promptTokens: [Int], parameters: GenerateParameters) -> AsyncThrowingStream<Generation, Error> {
        AsyncThrowingStream { continuation in
            let cancelled = CancellationFlag()
            continuation.onTermination = { _ in cancelled.set() }
            condition.lock()
            waiting.append(Request(prompt: promptTokens, parameters: parameters, continuation: continuation, cancelled: cancelled))
            condition.signal()
            condition.unlock()
        }
    }

    public func score(_ tokens: [Int], top: Int) async throws -> [TokenScore?] {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            jobs.append { [model] in continuation.resume(with: Result { try model.score(tokens, top: top) }) }
            condition.signal()
            condition.unlock()
        }
    }

    /// The scheduler loop (runs forever on its own thread).
    private func schedule() {
        var sessions: [Session] = []
        while true {
            condition.lock()
            while sessions.isEmpty && waiting.isEmpty && jobs.isEmpty { condition.wait() }
            let admitted = Array(waiting.prefix(maxBatch - sessions.count))
            waiting.removeFirst(admitted.count)
            let work = jobs
            jobs = []
            condition.unlock()

            for job in work { job() }

            for request in admitted { if let s = start(request) { sessions.append(s) } }
            sessions = step(sessions)
        }
    }

    /// Prefills a request's prompt; a failure ends that request only.
    private func start(_ r: Request) -> Session? {
        let started = Date()
        do {
            let generator = try TextGenerator(model: model, tokenizer: tokenizer, promptTokens: r.prompt, parameters: r.parameters)
            return Session(generator: generator, continuation: r.continuation, cancelled: r.cancelled, started: started,
                           prefillSeconds: Date().timeIntervalSince(started))
        } catch {
            r.continuation.finish(throwing: error)
            return nil
        }
    }

    /// One decode step for every session; returns the sessions still running.
    private func step(_ sessions: [Session]) -> [Session] {
        var sessions = sessions
        var active: [(index: Int, token: Int)] = []
        var finished = Set<Int>()
        for i in sessions.indices {
            if sessions[i].cancelled.isSet { finished.insert(i); sessions[i].continuation.finish(); continue }
            do {
                if let token = try sessions[i].generator.tokens.choose() {
                    active.append((i, token))
                } else {
                    end(&sessions[i])
                    finished.insert(i)
                }
            } catch {
                sessions[i].continuation.finish(throwing: error)
                finished.insert(i)
            }
        }
        if !active.isEmpty {
            var states = active.map { sessions[$0.index].generator.tokens.takeState() }
            do {
                let logits = try model.step(batch: active.map(\.token), states: &states)
                for (row, item) in active.enumerated() {
                    let rowLogits = Array(logits.data[(row * logits.cols)..<((row + 1) * logits.cols)])
                    sessions[item.index].generator.tokens.resume(state: states[row], logits: rowLogits)
                    let text = try sessions[item.index].generator.text(after: item.token)
                    if !text.isEmpty { sessions[item.index].continuation.yield(.chunk(text)) }
                }
            } catch {
                for item in active {
                    sessions[item.index].continuation.finish(throwing: error)
                    finished.insert(item.index)
                }
            }
        }
        return sessions.indices.filter { !finished.contains($0) }.map { sessions[$0] }
    }

    /// Flushes held-back text and reports counts and timings.
    private func end(_ s: inout Session) {
        if let tail = s.generator.finish() { s.continuation.yield(.chunk(tail)) }
        let tokens = s.generator.tokens
        let info = GenerationInfo(promptTokens: tokens.promptTokenCount, generatedTokens: tokens.generated.count,
                                  prefillSeconds: s.prefillSeconds,
                                  decodeSeconds: Date().timeIntervalSince(s.started) - s.prefillSeconds,
                                  stopReason: tokens.stopReason ?? .length, tokenIDs: tokens.generated)
        s.continuation.yield(.info(info))
        s.continuation.finish()
    }
}
