// The restricted unpickler (data.pkl of .pth files).
import FuzzSupport
@testable import RWKV

@_cdecl("FuzzPickle_main")
public func FuzzPickleMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzPickle)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    _ = try? PickleReader.read(UnsafeRawBufferPointer(input))
    return 0
}
