// safetensors: the JSON header and tensor ranges; a successful read is also run through model detection.
import FuzzSupport
@testable import RWKV

@_cdecl("FuzzSafetensors_main")
public func FuzzSafetensorsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzSafetensors)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    let storage = ByteStorage(copying: input)
    guard let checkpoint = try? Checkpoint.readSafetensors(from: storage) else { return 0 }
    for tensor in checkpoint.tensors.values where tensor.count <= 1 << 16 { _ = tensor.floats() }
    _ = try? ModelConfig.detect(from: checkpoint.tensors)
    return 0
}
