// Which implementation the hot kernels run: the C kernels of Sources/CRWKVKernels (AVX2/FMA/F16C
// intrinsics, compiled per function, so the package needs no compiler flags) when this CPU has the
// features, or the portable Swift twins everywhere else (arm64, older x86_64, or on request).
//
// `RWKV_PORTABLE_KERNELS=1` in the environment forces the Swift path for a whole process (to compare
// the two or to rule out the C code); kernels also take a `path:` argument so tests can run both.

import CRWKVKernels
import Foundation

/// The implementation of the product, GEMM and WKV kernels.
public enum KernelPath: String, Sendable, CaseIterable {
    /// C with AVX2/FMA/F16C intrinsics, chosen at run time on x86_64 CPUs that have them.
    case native
    /// Swift SIMD code: runs on every platform.
    case portable

    /// The path kernels take by default in this process.
    public static let automatic = choose(environment: ProcessInfo.processInfo.environment, nativeSupported: nativeSupported)

    /// Whether this CPU and OS can run the native kernels.
    public static let nativeSupported = rwkv_native_kernels() != 0

    /// Native when supported, unless `RWKV_PORTABLE_KERNELS` is set to anything but "0".
    static func choose(environment: [String: String], nativeSupported: Bool) -> KernelPath {
        if let value = environment["RWKV_PORTABLE_KERNELS"], value != "0" { return .portable }
        return nativeSupported ? .native : .portable
    }

    /// The paths this machine can run (tests compare every one with the scalar twins).
    static var runnable: [KernelPath] { nativeSupported ? [.native, .portable] : [.portable] }
}

extension WeightFormat {
    /// The format's code in CRWKVKernels.h.
    var nativeCode: Int32 {
        switch self {
        case .f32: Int32(RWKV_FORMAT_F32)
        case .f16: Int32(RWKV_FORMAT_F16)
        case .bf16: Int32(RWKV_FORMAT_BF16)
        case .q8_0: Int32(RWKV_FORMAT_Q8_0)
        case .q4_0: Int32(RWKV_FORMAT_Q4_0)
        }
    }
}
