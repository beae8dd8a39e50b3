// GGUF: metadata, tensor infos, dequantisation and the llama.cpp → official mapping, then detection.
import FuzzSupport
@testable import RWKV

@_cdecl("FuzzGGUF_main")
public func FuzzGGUFMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzGGUF)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    let storage = ByteStorage(copying: input)
    guard let checkpoint = try? GGUF.read(from: storage).inOfficialLayout() else { return 0 }
    _ = try? ModelConfig.detect(from: checkpoint.tensors)
    return 0
}
