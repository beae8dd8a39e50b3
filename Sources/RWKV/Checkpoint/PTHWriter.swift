// PTHWriter: writes tensors as a PyTorch zip checkpoint that `torch.load` reads (also with
// `weights_only=True`) and that the official RWKV loaders accept.
//
// Archive layout, as torch ≥ 2 writes it: `<stem>/data.pkl` (protocol-2 pickle of an OrderedDict
// `name → _rebuild_tensor_v2(persistent_id, offset, size, stride, False, OrderedDict())`),
// `<stem>/.format_version`, `<stem>/.storage_alignment`, `<stem>/byteorder`, one raw storage per tensor
// in `<stem>/data/<key>` (64-byte aligned), `<stem>/version`. Written atomically, zip64 when needed.
// Not written: torch's random `.data/serialization_id` (torch.load does not need it).

/// One tensor to write: a flat storage plus the view geometry (in elements) that `torch.load` rebuilds.
struct PTHTensorRecord {
    let name: String
    /// The whole storage as a 1-D tensor; its dtype picks the torch storage class.
    let storage: Tensor
    let storageOffset: Int
    let shape: [Int]
    let strides: [Int]

    /// A plain contiguous tensor with its own storage.
    init(name: String, tensor: Tensor) throws {
        self.name = name
        self.storage = try tensor.reshaped([tensor.count])
        self.storageOffset = 0
        self.shape = tensor.shape
        var strides = [Int](repeating: 1, count: tensor.shape.count)
        for d in stride(from: tensor.shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * tensor.shape[d + 1] }
        self.strides = strides
    }

    /// An arbitrary view of `storage` (tests use this to produce strided tensors).
    init(name: String, storage: Tensor, storageOffset: Int, shape: [Int], strides: [Int]) {
        self.name = name
        self.storage = storage
        self.storageOffset = storageOffset
        self.shape = shape
        self.strides = strides
    }
}

extension Checkpoint {
    /// Writes the checkpoint as a PyTorch `.pth` zip, atomically (temporary file, fsync, rename).
    /// Metadata is not stored (the format has no place for it). Tensors are written in name order.
    public func writePTH(to path: String) throws {
        let records = try tensors.sorted { $0.key < $1.key }.map { try PTHTensorRecord(name: $0.key, tensor: $0.value) }
        try Checkpoint.writePTH(records: records, to: path)
    }

    /// Writes explicit storage records; `forceZip64` makes every structure zip64 (for tests).
    static func writePTH(records: [PTHTensorRecord], to path: String, forceZip64: Bool = false) throws {
        let out = try AtomicFileWriter(path: path)
        var zip = ZipWriter(sink: out, alignment: 64, forceZip64: forceZip64)
        let folder = archiveFolderName(for: path)
        var pickle = PickleBuilder()
        pickle.stateDict(records)
        try zip.addEntry(name: folder + "/data.pkl", bytes: pickle.bytes)
        try zip.addEntry(name: folder + "/.format_version", bytes: Array("1".utf8))
        try zip.addEntry(name: folder + "/.storage_alignment", bytes: Array("64".utf8))
        try zip.addEntry(name: folder + "/byteorder", bytes: Array("little".utf8))
        for (key, record) in records.enumerated() {
            try zip.addEntry(name: folder + "/data/\(key)", data: record.storage.rawBytes)
        }
        try zip.addEntry(name: folder + "/version", bytes: Array("3\n".utf8))
        try zip.finish()
        try out.commit()
    }

    /// torch names the archive folder after the file stem; keep it to safe characters.
    static func archiveFolderName(for path: String) -> String {
        var name = path.split(separator: "/").last.map(String.init) ?? ""
        if let dot = name.lastIndex(of: "."), dot != name.startIndex { name = String(name[..<dot]) }
        let safe = String(name.unicodeScalars.map { s -> Character in
            let ok = (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || s == "_" || s == "-" || s == "."
            return ok ? Character(s) : "_"
        })
        return safe.isEmpty ? "archive" : safe
    }
}

/// Emits the protocol-2 pickle opcodes for a torch state dict.
struct PickleBuilder {
    private(set) var bytes: [UInt8] = [0x80, 2]

    /// `OrderedDict(name → _rebuild_tensor_v2(...))`; storage keys are the record indices.
    mutating func stateDict(_ records: [PTHTensorRecord]) {
        global("collections", "OrderedDict")
        op("q"); bytes.append(0)                     // BINPUT 0: reused for each tensor's hooks
        op(")"); op("R")                             // OrderedDict()
        op("(")
        for (key, r) in records.enumerated() {
            string(r.name)
            global("torch._utils", "_rebuild_tensor_v2")
            op("(")
            op("("); string("storage"); global("torch", Self.storageClass(r.storage.dtype))
            string(String(key)); string("cpu"); int(r.storage.count); op("t")
            op("Q")                                  // BINPERSID
            int(r.storageOffset)
            intTuple(r.shape)
            intTuple(r.strides)
            bytes.append(0x89)                       // requires_grad = False
            op("h"); bytes.append(0); op(")"); op("R") // backward hooks: OrderedDict()
            op("t")
            op("R")
        }
        op("u")
        op(".")
    }

    static func storageClass(_ dtype: DType) -> String {
        switch dtype {
        case .float32: return "FloatStorage"
        case .float16: return "HalfStorage"
        case .bfloat16: return "BFloat16Storage"
        case .int32: return "IntStorage"
        case .int64: return "LongStorage"
        case .uint8: return "ByteStorage"
        case .int8: return "CharStorage"
        }
    }

    private mutating func op(_ c: Unicode.Scalar) { bytes.append(UInt8(ascii: c)) }

    private mutating func global(_ module: String, _ name: String) {
        op("c")
        bytes.append(contentsOf: Array("\(module)\n\(name)\n".utf8))
    }

    /// BINUNICODE.
    private mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        op("X")
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: utf8.count >> (8 * i))) }
        bytes.append(contentsOf: utf8)
    }

    /// The shortest integer opcode that holds `v`.
    mutating func int(_ v: Int) {
        switch v {
        case 0...0xFF: op("K"); bytes.append(UInt8(v))
        case 0x100...0xFFFF: op("M"); bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8(v >> 8))
        case Int(Int32.min)...Int(Int32.max):
            op("J")
            for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
        default:
            // LONG1: minimal two's-complement little-endian bytes.
            var raw: [UInt8] = []
            var x = v
            repeat {
                raw.append(UInt8(truncatingIfNeeded: x))
                x >>= 8
            } while !((x == 0 && raw.last! & 0x80 == 0) || (x == -1 && raw.last! & 0x80 != 0))
            bytes.append(0x8A); bytes.append(UInt8(raw.count)); bytes.append(contentsOf: raw)
        }
    }

    private mutating func intTuple(_ values: [Int]) {
        if values.isEmpty { op(")"); return }
        op("(")
        for v in values { int(v) }
        op("t")
    }
}
