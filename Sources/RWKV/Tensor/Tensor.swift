// Tensor: a typed, shaped, contiguous view of bytes that some storage owns.
//
// Checkpoint readers hand out tensors that point straight into a memory-mapped file when the file's
// layout allows it, so loading a model does not copy its weights. Everything numeric downstream reads
// tensors through `floats()` (a converting copy) or through raw pointers in Kernels/.
// A tensor is always row-major and contiguous: readers copy strided data once at load time.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Element types found in RWKV checkpoints. Raw values are the safetensors dtype names.
public enum DType: String, Sendable, Codable, CaseIterable {
    case float32 = "F32"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case int32 = "I32"
    case int64 = "I64"
    case uint8 = "U8"
    case int8 = "I8"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float16, .bfloat16: return 2
        case .int64: return 8
        case .uint8, .int8: return 1
        }
    }

    /// Whether the type holds floating-point values.
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16: return true
        default: return false
        }
    }
}

/// Bytes that back tensors: a read-only memory-mapped file region, or a buffer this object owns.
///
/// A class because many tensors share one storage (all tensors of a mapped checkpoint share its
/// mapping), and the mapping must live exactly as long as the last tensor that reads it.
public final class ByteStorage: @unchecked Sendable {
    /// First byte. Never written through for mapped storage.
    public let base: UnsafeRawPointer
    /// Number of bytes.
    public let count: Int
    private let release: () -> Void

    private init(base: UnsafeRawPointer, count: Int, release: @escaping () -> Void) {
        self.base = base
        self.count = count
        self.release = release
    }

    deinit { release() }

    /// Copies `bytes` into a new owned buffer.
    public convenience init<C: Collection>(copying bytes: C) where C.Element == UInt8 {
        let n = bytes.count
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1), alignment: 64)
        let dst = p.bindMemory(to: UInt8.self, capacity: max(n, 1))
        var i = 0
        for b in bytes { dst[i] = b; i += 1 }
        self.init(base: UnsafeRawPointer(p), count: n, release: { p.deallocate() })
    }

    /// Allocates `count` bytes (64-byte aligned), lets `fill` write them, and owns the result.
    public static func allocate(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows -> ByteStorage {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        do {
            try fill(UnsafeMutableRawBufferPointer(start: p, count: count))
        } catch {
            p.deallocate()
            throw error
        }
        return ByteStorage(base: UnsafeRawPointer(p), count: count, release: { p.deallocate() })
    }

    /// Maps a whole file read-only. Empty files map to an empty storage.
    public static func map(path: String) throws -> ByteStorage {
        var st = stat()
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw TensorError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fstat(fd, &st) == 0 else { throw TensorError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw TensorError.cannotOpen(path: path, reason: "it is a directory, not a file") }
        let size = Int(st.st_size)
        if size == 0 { return allocate(count: 0) { _ in } }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw TensorError.cannotOpen(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        return ByteStorage(base: UnsafeRawPointer(p), count: size, release: { munmap(p, size) })
    }

    /// The bytes as a buffer.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

/// Errors about tensor construction and file mapping.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case outOfBounds(offset: Int, byteCount: Int, storageBytes: Int)
    case countMismatch(shape: [Int], expected: Int, found: Int)
    case badShape([Int])

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open \(path): \(reason)"
        case let .outOfBounds(offset, n, total):
            return "tensor data [\(offset), \(Checked.saturatingAdd(offset, n))) runs past the end of its storage (\(total) bytes)"
        case let .countMismatch(shape, expected, found):
            return "shape \(shape) needs \(expected) elements, found \(found)"
        case let .badShape(shape): return "invalid shape \(shape)"
        }
    }
}

/// A contiguous, row-major tensor viewing part of a `ByteStorage`.
public struct Tensor: Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let storage: ByteStorage
    /// Offset of the first element inside `storage`, in bytes.
    public let byteOffset: Int

    /// Creates a view; fails if the view would run past the storage or the shape is negative.
    public init(dtype: DType, shape: [Int], storage: ByteStorage, byteOffset: Int = 0) throws {
        guard shape.allSatisfy({ $0 >= 0 }), byteOffset >= 0 else { throw TensorError.badShape(shape) }
        let n = Checked.byteCount(shape, elementSize: dtype.byteSize)
        guard let n, Checked.fits(offset: byteOffset, length: n, in: storage.count) else {
            throw TensorError.outOfBounds(offset: byteOffset, byteCount: n ?? Int.max, storageBytes: storage.count)
        }
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
        self.byteOffset = byteOffset
    }

    /// An fp32 tensor that owns a copy of `values`.
    public init(_ values: [Float], shape: [Int]) throws {
        let n = Tensor.elementCount(shape)
        guard n == values.count else { throw TensorError.countMismatch(shape: shape, expected: n, found: values.count) }
        let storage = ByteStorage.allocate(count: n * 4) { dst in
            values.withUnsafeBytes { dst.copyMemory(from: $0) }
        }
        try self.init(dtype: .float32, shape: shape, storage: storage)
    }

    /// Element count of a shape (1 for a scalar), saturating instead of trapping on overflow.
    public static func elementCount(_ shape: [Int]) -> Int {
        Checked.product(shape) ?? Int.max
    }

    public var count: Int { Tensor.elementCount(shape) }
    public var byteCount: Int { count * dtype.byteSize }
    /// The tensor's bytes, little-endian as stored.
    public var rawBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.base + byteOffset, count: byteCount)
    }

    /// The same bytes seen with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard Tensor.elementCount(newShape) == count else {
            throw TensorError.countMismatch(shape: newShape, expected: Tensor.elementCount(newShape), found: count)
        }
        return try Tensor(dtype: dtype, shape: newShape, storage: storage, byteOffset: byteOffset)
    }

    /// All elements converted to Float (integers are converted by value).
    public func floats() -> [Float] {
        let n = count
        return [Float](unsafeUninitializedCapacity: n) { buf, initialized in
            convertToFloat(rawBytes, dtype: dtype, into: UnsafeMutableBufferPointer(rebasing: buf[0..<n]))
            initialized = n
        }
    }

    /// All elements converted to Int (floats are truncated).
    public func ints() -> [Int] {
        let raw = rawBytes
        switch dtype {
        case .int32: return (0..<count).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
        case .int64: return (0..<count).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        case .uint8: return raw.map { Int($0) }
        case .int8: return raw.map { Int(Int8(bitPattern: $0)) }
        default: return floats().map { Int($0) }
        }
    }
}

/// Converts `count` elements of `dtype` from `src` to Float.
public func convertToFloat(_ src: UnsafeRawBufferPointer, dtype: DType, into dst: UnsafeMutableBufferPointer<Float>) {
    let n = dst.count
    switch dtype {
    case .float32:
        for i in 0..<n { dst[i] = src.loadUnaligned(fromByteOffset: i * 4, as: Float.self) }
    case .float16:
        for i in 0..<n { dst[i] = halfBitsToFloat(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
    case .bfloat16:
        for i in 0..<n { dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) << 16) }
    case .int32:
        for i in 0..<n { dst[i] = Float(src.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
    case .int64:
        for i in 0..<n { dst[i] = Float(src.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)) }
    case .uint8:
        for i in 0..<n { dst[i] = Float(src[i]) }
    case .int8:
        for i in 0..<n { dst[i] = Float(Int8(bitPattern: src[i])) }
    }
}

/// IEEE half → Float by bit manipulation (portable: `Float16` is missing on macOS x86_64).
@inline(__always)
public func halfBitsToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = UInt32(h >> 10) & 0x1F
    let mant = UInt32(h & 0x3FF)
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        // Subnormal half: value = mant · 2^-24.
        let v = Float(mant) * (1.0 / 16_777_216.0)
        return sign != 0 ? -v : v
    }
    if exp == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
}

/// Float → IEEE half bits, round to nearest even.
public func floatToHalfBits(_ f: Float) -> UInt16 {
    let x = f.bitPattern
    let sign = UInt16((x >> 16) & 0x8000)
    let exp = Int((x >> 23) & 0xFF)
    var mant = x & 0x7F_FFFF
    if exp == 0xFF { return sign | 0x7C00 | (mant != 0 ? 0x200 : 0) }
    var e = exp - 127 + 15
    if e >= 0x1F { return sign | 0x7C00 }
    if e <= 0 {
        if e < -10 { return sign }
        mant |= 0x80_0000
        let shift = UInt32(14 - e)
        var h = mant >> shift
        let rem = mant & ((1 << shift) - 1)
        let half = UInt32(1) << (shift - 1)
        if rem > half || (rem == half && (h & 1) == 1) { h += 1 }
        return sign | UInt16(h)
    }
    var h = UInt32(mant >> 13)
    let rem = mant & 0x1FFF
    if rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1) {
        h += 1
        if h == 0x400 { h = 0; e += 1; if e >= 0x1F { return sign | 0x7C00 } }
    }
    return sign | UInt16(e << 10) | UInt16(h)
}

/// Float → bfloat16 bits, round to nearest even (what `torch.Tensor.bfloat16()` does).
public func floatToBFloat16Bits(_ f: Float) -> UInt16 {
    let x = f.bitPattern
    if f.isNaN { return UInt16(x >> 16) | 0x40 }
    let rounding = ((x >> 16) & 1) + 0x7FFF
    return UInt16((x &+ rounding) >> 16)
}
