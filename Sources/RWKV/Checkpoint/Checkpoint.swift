// Checkpoint: named tensors plus string metadata, whatever file format they came from.

/// A set of named tensors read from (or to be written to) a checkpoint file.
public struct Checkpoint: Sendable {
    /// Tensors by their name in the file.
    public var tensors: [String: Tensor]
    /// Free-form string metadata (safetensors `__metadata__`; empty for `.pth`).
    public var metadata: [String: String]

    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }
}
