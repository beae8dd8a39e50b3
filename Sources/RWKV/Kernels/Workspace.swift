// Scratch memory for one forward call: named fp32 buffers carved out on demand, freed together.
//
// Model code reads like the equations (`let r = ws.buffer(T * C)`) instead of nesting a closure per
// array; nothing escapes the call, so the buffers die with the workspace.

final class Workspace {
    private var blocks: [UnsafeMutableBufferPointer<Float>] = []

    /// A zero-filled buffer of `count` floats that lives as long as this workspace.
    func buffer(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(count, 1))
        b.initialize(repeating: 0)
        blocks.append(b)
        return UnsafeMutableBufferPointer(rebasing: b[0..<count])
    }

    /// A buffer holding a copy of `values`.
    func buffer(copying values: [Float]) -> UnsafeMutableBufferPointer<Float> {
        let b = buffer(values.count)
        _ = b.initialize(from: values)
        return b
    }

    deinit {
        for b in blocks { b.deallocate() }
    }
}

extension UnsafeMutableBufferPointer where Element == Float {
    /// Read-only view, for kernel inputs.
    var readOnly: UnsafeBufferPointer<Float> { UnsafeBufferPointer(self) }
}
