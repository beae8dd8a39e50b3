// `rwkv train`: train an RWKV-7 from scratch (official init) or fine-tune, on CPU, byte-level.
//
// Writes into --out: loss.csv and loss.svg (updated at every validation), resume.bin (weights + Adam
// state, atomically, every --save-every steps) and rwkv-final.pth (bf16, official layout) at the end;
// with --state-tuning, rwkv-state.safetensors instead of the weights.

import ArgumentParser
import Foundation
import RWKV

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an RWKV-7 model on text, JSONL or binidx data (byte or World tokens), with RWKV-LM's recipe.")

    @Option(help: "Training text (.txt), JSONL ({\"text\": ...} per line) or RWKV-LM binidx (.bin/.idx). The last 5 % is held out.") var data: String
    @Option(help: "Tokenizer: byte (vocabulary 256) or world (RWKV World, 65536 rows).") var vocab: VocabularyKind = .byte
    @Option(help: "Layers of a new model.") var layers: Int = 6
    @Option(help: "Embedding size of a new model (a multiple of --head-size).") var dim: Int = 256
    @Option(help: "Head size of a new model.") var headSize: Int = 64
    @Option(name: .customLong("init"), help: "Start from this official RWKV-7 checkpoint (fine-tuning) instead of a fresh init.")
    var initPath: String?
    @Option(help: "Tokens per training window (RWKV-LM wants a multiple of 16).") var ctx: Int = 512
    @Option(help: "Windows per step.") var batch: Int = 8
    @Option(help: "Optimiser steps (default: --tokens / (batch·ctx), else 1000).") var steps: Int?
    @Option(help: "Training tokens (alternative to --steps).") var tokens: Int?
    @Option(help: "Initial learning rate.") var lrInit: Double = 6e-4
    @Option(help: "Final learning rate (cosine decay).") var lrFinal: Double = 6e-5
    @Option(help: "Warm-up steps.") var warmup: Int = 10
    @Option(help: "Decoupled weight decay for the matrices.") var weightDecay: Double = 0.001
    @Option(help: "Global gradient-norm clip (0 = off).") var gradClip: Double = 1.0
    @Option(help: "Output directory.") var out: String = "train-out"
    @Option(help: "Seed for init and batch sampling.") var seed: UInt64 = 42
    @Option(help: "Validate every N steps.") var valEvery: Int = 50
    @Option(help: "Validation batches per measurement.") var valBatches: Int = 4
    @Option(help: "Write the resume checkpoint every N steps.") var saveEvery: Int = 100
    @Flag(help: "Continue from <out>/resume.bin with the same options.") var resume = false
    @Flag(help: "Freeze the weights and train only each layer's initial WKV state.") var stateTuning = false
    @Option(name: .customLong("threads"), help: "Threads for the kernels.") var threadCount = ThreadCount.allCores
    var threads: Int { threadCount.value }

    func validate() throws {
        for (name, value) in [("--layers", layers), ("--dim", dim), ("--head-size", headSize), ("--ctx", ctx), ("--batch", batch),
                              ("--val-every", valEvery), ("--save-every", saveEvery), ("--threads", threads)] where value <= 0 {
            throw ValidationError("\(name) must be positive, found \(value)")
        }
        try requireModelSize(layers: layers, dim: dim, headSize: headSize, vocab: nil)
        try requireOption("--ctx", ctx, in: 1...(1 << 20))
        try requireOption("--batch", batch, in: 1...(1 << 16))
        try requireOption("--threads", threads, in: 1...maxThreadsOption)
        try requireOption("--val-batches", valBatches, in: 1...(1 << 16))
        try requireOption("--warmup", warmup, in: 0...(1 << 40))
        if let steps { try requireOption("--steps", steps, in: 1...(1 << 40)) }
        if let tokens { try requireOption("--tokens", tokens, in: 1...(1 << 50)) }
        // The optimiser schedule multiplies these; refuse products that do not fit.
        guard let perStep = Checked.multiply(batch, ctx), Checked.multiply(steps ?? 1000, perStep) != nil else {
            throw ValidationError("--batch × --ctx × --steps overflows; use smaller values")
        }
        if dim % headSize != 0 { throw ValidationError("--dim \(dim) is not a multiple of --head-size \(headSize)") }
        if steps != nil && tokens != nil { throw ValidationError("give --steps or --tokens, not both") }
        if stateTuning && initPath == nil && !resume { throw ValidationError("--state-tuning needs a trained model: pass --init FILE") }
    }

    func run() throws {
        KernelThreads.count = threads
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let tokenizer: TrainingTokenizer = vocab == .world ? try WorldTokenizer.bundled() : ByteTrainingTokenizer()
        let corpus = try TrainingData.load(path: data, tokenizer: tokenizer)
        let settings = TrainingRunSettings(batch: batch, context: ctx, seed: seed, stateTuning: stateTuning, validationBatches: valBatches)
        let perStep = batch * ctx
        let totalSteps = steps ?? tokens.map { max(1, $0 / perStep) } ?? 1000
        let resumePath = out + "/resume.bin"
        let session: TrainingSession
        var log = LossLog()
        if resume {
            session = try TrainingSession.resume(path: resumePath, settings: settings, data: corpus)
            log = LossLog.read(path: out + "/loss.csv", upTo: session.step)
        } else {
            var optimizer = OptimizerSettings()
            optimizer.lrInit = lrInit; optimizer.lrFinal = lrFinal; optimizer.warmupSteps = warmup
            optimizer.weightDecay = weightDecay; optimizer.gradientClip = gradClip
            optimizer.tokensPerStep = perStep; optimizer.exitTokens = totalSteps * perStep
            let initial = try initPath.map { try Checkpoint.load(path: $0).inOfficialLayout() }
            let dims = try initial.map { try RWKV7Dimensions(checkpoint: $0) }
                ?? RWKV7Dimensions.official(layers: layers, embedding: dim, vocabulary: vocab.modelRows, headSize: headSize)
            try requireMemory(for: dims, arrays: 4)   // weights, gradients, two Adam moments
            session = try TrainingSession(dimensions: dims, settings: settings, optimizer: optimizer, data: corpus, initial: initial)
        }
        let d = session.model.dimensions
        printError("training L\(d.layers) D\(d.embedding) (\(session.model.layout.count) parameters) on \(corpus.trainCount) tokens "
                   + "(\(corpus.validationCount) held out), \(totalSteps) steps of \(batch)×\(ctx), \(threads) threads")
        let loop = TrainingLoopSettings(totalSteps: totalSteps, validationEvery: valEvery, saveEvery: saveEvery,
                                        directory: out, resumePath: resumePath)
        try session.run(loop, tokensPerStep: perStep, log: &log) { p in
            let line = String(format: "step %d/%d  loss %.4f", p.step, p.totalSteps, p.loss)
                + (p.validationLoss.map { String(format: "  val %.4f", $0) } ?? "")
                + String(format: "  |g| %.3f  lr %.2e  %.0f tok/s  ETA ", p.gradientNorm, p.learningRate, p.tokensPerSecond)
                + formatDuration(p.etaSeconds)
            FileHandle.standardError.write(Data(("\r" + line + (p.validationLoss != nil ? "\n" : "")).utf8))
        }
        if stateTuning {
            try session.exportState(path: out + "/rwkv-state.safetensors")
            printError("\nwrote \(out)/rwkv-state.safetensors, loss.csv, loss.svg")
        } else {
            try session.exportPTH(path: out + "/rwkv-final.pth")
            printError("\nwrote \(out)/rwkv-final.pth (bf16), resume.bin, loss.csv, loss.svg")
        }
    }
}

/// Which tokenizer a training run uses, and how many embedding rows a new model gets for it.
enum VocabularyKind: String, ExpressibleByArgument {
    case byte, world
    var modelRows: Int { self == .byte ? 256 : 65536 }
}

/// "1h02m", "5m12s", "42s".
func formatDuration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}
