// LongestMatchTrie: greedy longest-prefix tokenisation over bytes (spec §6.1), laid out flat.
//
// At each position the encoder takes the longest vocabulary entry that is a prefix of the rest of
// the input. The trie lives in a handful of flat arrays: the first two bytes of a match are one
// table lookup (`pairNode`), deeper bytes walk sorted edge lists. No dictionaries, no Strings and
// no allocation happen in the loop, which runs on raw buffer pointers.
// It is not a BPE merge engine: RWKV World encoding is defined as this greedy match.

/// A byte trie whose nodes are marked with the token that ends there.
struct LongestMatchTrie: Sendable {
    /// Token ending at each node, or -1.
    private let tokenAtNode: [Int32]
    /// Edges of node `n` are `edgeByte[firstEdge[n]..<firstEdge[n + 1]]`, sorted by byte.
    private let firstEdge: [Int32]
    private let edgeByte: [UInt8]
    private let edgeTarget: [Int32]
    /// Node reached from the root by one byte (every byte has one: all single bytes are tokens).
    private let byteNode: [Int32]
    /// Node reached from the root by two bytes `b0 << 8 | b1`, or -1.
    private let pairNode: [Int32]

    /// Number of trie nodes, root included.
    var nodeCount: Int { tokenAtNode.count }

    /// Builds the trie. Byte strings must be non-empty and distinct, and all 256 single bytes must
    /// be present so that encoding can never get stuck; this is checked.
    init(entries: [VocabularyEntry]) throws(TokenizerError) {
        let sorted = entries.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        var tokenAtNode: [Int32] = [-1]
        var firstEdge: [Int32] = []
        var edgeByte: [UInt8] = []
        var edgeTarget: [Int32] = []
        // Breadth-first over ranges of `sorted` that share a prefix of length `depth`; nodes are
        // numbered in the order they are visited, so each node's edges are contiguous.
        var queue: [(lo: Int, hi: Int, depth: Int)] = [(0, sorted.count, 0)]
        var head = 0
        while head < queue.count {
            var (lo, hi, depth) = queue[head]
            let node = head
            head += 1
            firstEdge.append(Int32(edgeByte.count))
            if lo < hi && sorted[lo].bytes.count == depth {
                tokenAtNode[node] = Int32(sorted[lo].id)
                lo += 1
                if lo < hi && sorted[lo].bytes.count == depth {
                    throw TokenizerError(code: .malformedVocabulary, message: "tokens \(sorted[lo - 1].id) and \(sorted[lo].id) have the same bytes")
                }
            }
            while lo < hi {
                let byte = sorted[lo].bytes[depth]
                var end = lo + 1
                while end < hi && sorted[end].bytes[depth] == byte { end += 1 }
                edgeByte.append(byte)
                edgeTarget.append(Int32(tokenAtNode.count))
                tokenAtNode.append(-1)
                queue.append((lo, end, depth + 1))
                lo = end
            }
        }
        firstEdge.append(Int32(edgeByte.count))

        var byteNode = [Int32](repeating: -1, count: 256)
        for e in Int(firstEdge[0])..<Int(firstEdge[1]) { byteNode[Int(edgeByte[e])] = edgeTarget[e] }
        if let missing = (0..<256).first(where: { byteNode[$0] < 0 || tokenAtNode[Int(byteNode[$0])] < 0 }) {
            throw TokenizerError(
                code: .malformedVocabulary,
                message: "no token for the single byte 0x\(hexByte(UInt8(missing))); every byte needs one so any input can be encoded")
        }
        var pairNode = [Int32](repeating: -1, count: 65_536)
        for b0 in 0..<256 {
            let n = Int(byteNode[b0])
            for e in Int(firstEdge[n])..<Int(firstEdge[n + 1]) { pairNode[b0 << 8 | Int(edgeByte[e])] = edgeTarget[e] }
        }
        self.tokenAtNode = tokenAtNode
        self.firstEdge = firstEdge
        self.edgeByte = edgeByte
        self.edgeTarget = edgeTarget
        self.byteNode = byteNode
        self.pairNode = pairNode
    }

    /// Greedy longest-match encoding of `input`.
    func encode(_ input: UnsafeBufferPointer<UInt8>) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(input.count / 3 + 16)
        tokenAtNode.withUnsafeBufferPointer { tokenAt in
        firstEdge.withUnsafeBufferPointer { firstEdge in
        edgeByte.withUnsafeBufferPointer { edgeByte in
        edgeTarget.withUnsafeBufferPointer { edgeTarget in
        byteNode.withUnsafeBufferPointer { byteNode in
        pairNode.withUnsafeBufferPointer { pairNode in
            let n = input.count
            var p = 0
            while p < n {
                let b0 = Int(input[p])
                var best = tokenAt[Int(byteNode[b0])]
                var bestLength = 1
                if p + 1 < n {
                    var node = Int(pairNode[b0 << 8 | Int(input[p + 1])])
                    var length = 2
                    while node >= 0 {
                        let token = tokenAt[node]
                        if token >= 0 { best = token; bestLength = length }
                        guard p + length < n else { break }
                        node = Self.child(of: node, byte: input[p + length], firstEdge, edgeByte, edgeTarget)
                        length += 1
                    }
                }
                out.append(Int(best))
                p += bestLength
            }
        }}}}}}
        return out
    }

    /// The child of `node` along `byte`, or -1. Linear scan for short edge lists (the common case
    /// below depth two), binary search for long ones.
    @inline(__always)
    private static func child(
        of node: Int, byte: UInt8,
        _ firstEdge: UnsafeBufferPointer<Int32>, _ edgeByte: UnsafeBufferPointer<UInt8>, _ edgeTarget: UnsafeBufferPointer<Int32>
    ) -> Int {
        var lo = Int(firstEdge[node])
        var hi = Int(firstEdge[node + 1])
        while hi - lo > 8 {
            let mid = (lo + hi) / 2
            let b = edgeByte[mid]
            if b == byte { return Int(edgeTarget[mid]) }
            if b < byte { lo = mid + 1 } else { hi = mid }
        }
        while lo < hi {
            let b = edgeByte[lo]
            if b == byte { return Int(edgeTarget[lo]) }
            if b > byte { return -1 }
            lo += 1
        }
        return -1
    }
}
