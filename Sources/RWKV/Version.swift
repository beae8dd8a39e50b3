// The package's version, printed by `rwkv --version` and reported by the server.

public enum SwiftRWKV {
    /// Semantic version of this release of the package.
    public static let version = "0.2.0"
}
