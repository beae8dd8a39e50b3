// Checked: overflow-safe arithmetic for sizes that come from outside (file headers, requests, options).
//
// Every reader funnels its counts, dimensions, offsets and strides through these helpers, so a hostile
// value becomes `nil` (and then a typed error that names the field) instead of a trap or a wrapped size.

/// Overflow- and sign-checked size arithmetic. Each function returns nil when an operand is negative
/// or the exact result does not fit in an `Int`.
public enum Checked {
    /// a · b.
    public static func multiply(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }

    /// a + b.
    public static func add(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }

    /// The product of all values (1 for none).
    public static func product<S: Sequence>(_ values: S) -> Int? where S.Element == Int {
        var n = 1
        for v in values {
            guard let m = multiply(n, v) else { return nil }
            n = m
        }
        return n
    }

    /// The sum of all values (0 for none).
    public static func sum<S: Sequence>(_ values: S) -> Int? where S.Element == Int {
        var n = 0
        for v in values {
            guard let m = add(n, v) else { return nil }
            n = m
        }
        return n
    }

    /// Bytes of `shape` with `elementSize`-byte elements.
    public static func byteCount(_ shape: [Int], elementSize: Int) -> Int? {
        product(shape).flatMap { multiply($0, elementSize) }
    }

    /// Whether `[offset, offset + length)` lies inside `0..<limit`.
    public static func fits(offset: Int, length: Int, in limit: Int) -> Bool {
        guard let end = add(offset, length) else { return false }
        return end <= limit
    }

    /// Whether no dimension exceeds `fileSize`: a non-empty tensor's dimensions are each at most its
    /// element count, which its bytes in the file bound; only an empty tensor (another dimension 0)
    /// could claim more, and loops over such a dimension would run for hours (found by FuzzGGUF).
    public static func dimensionsFit(_ shape: [Int], fileSize: Int) -> Bool {
        shape.allSatisfy { $0 >= 0 && $0 <= max(fileSize, 1) }
    }

    /// A `UInt64` read from a file as an `Int`, if it is at most `limit`.
    public static func int(_ v: UInt64, limit: Int = .max) -> Int? {
        guard limit >= 0, v <= UInt64(limit) else { return nil }
        return Int(v)
    }

    /// `a + b` for messages: saturates instead of trapping (only for text, never for sizes).
    public static func saturatingAdd(_ a: Int, _ b: Int) -> Int {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? (b > 0 ? .max : .min) : r
    }
}
