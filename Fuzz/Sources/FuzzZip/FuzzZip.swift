// The zip container of .pth files: central directory, local headers, zip64 records, entry data.
import FuzzSupport
@testable import RWKV

@_cdecl("FuzzZip_main")
public func FuzzZipMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzZip)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZip(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    let storage = ByteStorage(copying: input)
    guard let archive = try? ZipArchive(storage: storage) else { return 0 }
    for entry in archive.entries { _ = try? archive.data(of: entry) }
    // The whole .pth path too: pickle, storages and tensor views on top of the archive.
    _ = try? Checkpoint.readPTH(from: storage)
    return 0
}
