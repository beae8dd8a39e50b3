// Runs libFuzzer with `callback` as the target; every Fuzz* executable's main is one call to this.
@_exported import CFuzzerDriver

public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ callback: FuzzCallback) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}

/// The input as a buffer (libFuzzer may pass a null pointer for the empty input).
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: size > 0 ? data : nil, count: data == nil ? 0 : size)
}
