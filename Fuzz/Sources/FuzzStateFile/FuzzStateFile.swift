// State files (RWKVSTAT) for a small fixed model shape, and the JSON form of ModelState.
import Foundation
import FuzzSupport
@testable import RWKV

let config = ModelConfig(version: .v7, layerCount: 2, embeddingSize: 16, headCount: 2, headSize: 8, vocabularySize: 256, ffnSize: 64)

@_cdecl("FuzzStateFile_main")
public func FuzzStateFileMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzStateFile)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStateFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    let bytes = Data(input)
    _ = try? ModelState.decode(bytes, path: "fuzz", config: config)
    if let state = try? JSONDecoder().decode(ModelState.self, from: bytes) {
        // A decoded state must be exactly as large as its signature says.
        precondition(state.layers.allSatisfy { $0.wkv.count == state.shape.wkvCount }, "decoded state of the wrong size")
    }
    return 0
}
