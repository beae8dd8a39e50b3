// `rwkv convert`: rewrites a checkpoint in another container format and, optionally, float type.
//
// The output format comes from OUT's extension (.pth or .safetensors); tensor names, shapes and
// (unless --dtype is given) dtypes are kept. Metadata survives only into safetensors.

import ArgumentParser
import RWKV

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a checkpoint between .pth and .safetensors.",
        discussion: "The output format is chosen by OUT's extension. The output is written atomically."
    )

    /// Float types accepted by `--dtype`.
    enum FloatType: String, ExpressibleByArgument, CaseIterable {
        case bf16, f16, f32
        var dtype: DType {
            switch self {
            case .bf16: return .bfloat16
            case .f16: return .float16
            case .f32: return .float32
            }
        }
    }

    @Argument(help: "Input checkpoint: .pth, .safetensors, .gguf, or a Hugging Face model directory / shard index (format detected from content).")
    var input: String

    @Argument(help: "Output path ending in .pth or .safetensors.")
    var output: String

    @Option(help: "Convert floating-point tensors to this type (bf16, f16, f32). Default: keep.")
    var dtype: FloatType?

    @Flag(help: "Keep Hugging Face / fla tensor names instead of writing the official RWKV layout.")
    var keepLayout = false

    func validate() throws {
        guard let format = CheckpointFormat(pathExtensionOf: output), format != .gguf else {
            throw ValidationError("cannot tell the output format from '\(output)'; use a .pth or .safetensors extension")
        }
    }

    func run() throws {
        do {
            var checkpoint = try Checkpoint.load(path: input)
            if !keepLayout { checkpoint = try checkpoint.inOfficialLayout() }
            if let dtype { checkpoint = try checkpoint.convertingFloats(to: dtype.dtype) }
            try checkpoint.write(to: output)
            print(summary(checkpoint))
        } catch {
            printToStandardError("error: \(error)\n")
            throw ExitCode.failure
        }
    }

    private func summary(_ checkpoint: Checkpoint) -> String {
        let parameters = checkpoint.tensors.values.reduce(0) { $0 + $1.count }
        let dtypes = Set(checkpoint.tensors.values.map(\.dtype.rawValue)).sorted().joined(separator: "/")
        return "converted \(checkpoint.tensors.count) tensors (\(parameters) parameters, \(dtypes.isEmpty ? "no data" : dtypes)) from \(input) to \(output)"
    }
}

/// Writes a message to standard error (fd 2) without Foundation.
private func printToStandardError(_ text: String) {
    var text = text
    text.withUTF8 { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
}
