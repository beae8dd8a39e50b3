// The World tokenizer: encode arbitrary bytes, decode arbitrary ids incrementally, and round-trip.
import FuzzSupport
@testable import RWKV

let bundled = try? WorldTokenizer.bundled()   // the bundled vocabulary, not fuzz input

/// Loads the vocabulary before fuzzing starts: under ASan it takes ~11 s, which libFuzzer would
/// otherwise charge to the first input as a timeout.
@_cdecl("LLVMFuzzerInitialize")
public func initializeWorldTokenizer(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    _ = bundled
    return 0
}

@_cdecl("FuzzWorldTokenizer_main")
public func FuzzWorldTokenizerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzWorldTokenizer)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWorldTokenizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    guard let tokenizer = bundled else { fatalError("the bundled World vocabulary did not load") }
    let ids = tokenizer.encode(bytes: input)
    // Encoding is lossless on bytes: decoding must give the input back.
    precondition((try? tokenizer.bytes(for: ids)) == Array(input), "encode/decode round trip lost bytes")
    // Ids from the input (two bytes each, some out of range) fed one at a time.
    var decoder = StreamingDecoder(tokenizer: tokenizer)
    var i = 0
    while i + 1 < input.count {
        _ = try? decoder.append(Int(input[i]) | Int(input[i + 1]) << 8)
        i += 2
    }
    _ = decoder.flush()
    return 0
}
