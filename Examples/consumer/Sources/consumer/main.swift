// A package that uses swift-rwkv the way any dependent does (no compiler flags): it loads a model
// and times prefill and decode, to show the library is as fast here as in its own `rwkv bench`.
//
//   swift build -c release
//   .build/release/consumer --preset 0.1b --weights f16 -p 512 -n 64 -t 2 -r 3
//   .build/release/consumer -m MODEL.pth

import Foundation
import RWKV

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let key = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fatalError("missing value after \(key)") }
    options[key] = value
}
let promptLength = Int(options["-p"] ?? "512") ?? 512
let decodeLength = Int(options["-n"] ?? "64") ?? 64
let repetitions = Int(options["-r"] ?? "3") ?? 3
KernelThreads.count = Int(options["-t"] ?? "2") ?? 2
let format = options["--weights"].flatMap(WeightFormat.init(rawValue:))

let model: RWKVModel
if let path = options["-m"] {
    model = try RWKVModel.load(path: path, options: LoadOptions(weightFormat: format))
} else {
    guard let spec = RandomModelSpec.preset(options["--preset"] ?? "0.1b") else { fatalError("unknown preset") }
    let dtype: DType = format == .bf16 ? .bfloat16 : format == .f32 ? .float32 : .float16
    let options = LoadOptions(weightFormat: format?.isQuantized == true ? format : nil)
    model = try RWKVModel(checkpoint: spec.checkpoint(dtype: dtype), options: options)
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

var random = SystemRandomNumberGenerator()
let prompt = (0..<promptLength).map { _ in Int.random(in: 0..<model.config.vocabularySize, using: &random) }
var warm = model.makeState()
for t in prompt.prefix(4) { _ = try model.step(t, state: &warm) }

var prefill: [Double] = [], decode: [Double] = []
for _ in 0..<repetitions {
    var state = model.makeState()
    var logits: [Float] = []
    prefill.append(Double(promptLength) / (try seconds { logits = try model.forward(prompt, state: &state).data }))
    decode.append(Double(decodeLength) / (try seconds {
        for _ in 0..<decodeLength {
            let next = logits.indices.max { logits[$0] < logits[$1] } ?? 0
            logits = try model.step(next, state: &state)
        }
    }))
}
print("kernels \(KernelPath.automatic), \(KernelThreads.count) threads, weights \(format?.rawValue ?? "default")")
print(String(format: "prefill pp%d: %.1f tok/s (min %.1f, max %.1f)", promptLength, median(prefill), prefill.min()!, prefill.max()!))
print(String(format: "decode tg%d: %.1f tok/s (min %.1f, max %.1f)", decodeLength, median(decode), decode.min()!, decode.max()!))
