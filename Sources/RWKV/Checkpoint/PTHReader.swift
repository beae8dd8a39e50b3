// PTHReader: turns a PyTorch zip checkpoint (`torch.save` of a state dict, ≥ 1.6 format) into tensors.
//
// Layout (spec §1 "Checkpoint container"): `<prefix>/data.pkl` holds the pickled `name → tensor` dict,
// each tensor pointing at a raw little-endian storage `<prefix>/data/<key>` by element offset, size and
// stride. Contiguous tensors become zero-copy views into the mapped file; strided ones are copied once
// into owned contiguous memory. Not supported: the legacy pre-1.6 tar/pickle format, nested dicts
// (`{"state_dict": {...}}`), big-endian archives, tensors of dtypes outside `DType`.

extension Checkpoint {
    /// Reads a `.pth` zip checkpoint held in `storage` (usually `ByteStorage.map(path:)`).
    ///
    /// Tensors whose bytes are laid out contiguously in the file share `storage` (no copy).
    /// ```swift
    /// let checkpoint = try Checkpoint.readPTH(from: ByteStorage.map(path: "model.pth"))
    /// ```
    public static func readPTH(from storage: ByteStorage) throws -> Checkpoint {
        let archive = try ZipArchive(storage: storage)
        guard let pickleEntry = archive.entries.first(where: { isTopLevelPickle($0.name) }) else {
            throw CheckpointError.missingEntry(name: "<folder>/data.pkl")
        }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        if let order = archive.entry(named: prefix + "byteorder") {
            let text = String(decoding: try archive.data(of: order), as: UTF8.self)
            guard text == "little" else {
                throw CheckpointError.unsupportedZipEntry(entry: order.name, reason: "byte order is '\(text)', only 'little' is supported")
            }
        }
        let root = try PickleReader.read(try archive.data(of: pickleEntry))
        guard case let .dict(dict) = root else { throw CheckpointError.notATensorDictionary(found: root.kindName) }

        var tensors: [String: Tensor] = [:]
        // Strided views are copied; zero strides (torch `expand`) make a copy larger than its storage, so
        // all copies together may not exceed the file's size plus a small allowance.
        var copyBudget = Checked.add(storage.count, pthCopyAllowance) ?? Int.max
        for (key, value) in dict.items {
            guard case let .string(name) = key else {
                throw CheckpointError.notATensorDictionary(found: "a dict with a key that is \(key.kindName)")
            }
            guard case let .tensor(reference) = value else {
                throw CheckpointError.notATensorDictionary(found: "'\(name)' mapped to \(value.kindName)")
            }
            tensors[name] = try makeTensor(name: name, reference, archive: archive, prefix: prefix, copyBudget: &copyBudget)
        }
        return Checkpoint(tensors: tensors)
    }

    /// `data.pkl` at the archive root or one folder down (torch uses the file stem as folder name).
    private static func isTopLevelPickle(_ name: String) -> Bool {
        guard name.hasSuffix("data.pkl") else { return false }
        let prefix = name.dropLast("data.pkl".count)
        return prefix.isEmpty || (prefix.hasSuffix("/") && prefix.dropLast().firstIndex(of: "/") == nil)
    }

    /// Builds one tensor: validates its layout against its storage entry, then views or copies it.
    private static func makeTensor(name: String, _ ref: TensorReference, archive: ZipArchive, prefix: String,
                                   copyBudget: inout Int) throws -> Tensor {
        guard let dtype = ref.storage.dtype else { throw CheckpointError.unsupportedDType(name: name, type: "torch.\(ref.storage.typeName)") }
        let layout = try StridedLayout(name: name, shape: ref.shape, strides: ref.strides, offset: ref.storageOffset)
        guard Checked.dimensionsFit(ref.shape, fileSize: archive.storage.count) else {
            throw CheckpointError.invalidTensor(name: name, reason: "size \(ref.shape) has a dimension larger than the \(archive.storage.count)-byte file")
        }
        let entryName = prefix + "data/" + ref.storage.key
        guard let entry = archive.entry(named: entryName) else { throw CheckpointError.missingEntry(name: entryName) }
        let range = try archive.dataRange(of: entry)
        let size = dtype.byteSize
        guard let declaredBytes = Checked.multiply(ref.storage.elementCount, size), declaredBytes <= range.count else {
            throw CheckpointError.tensorOutOfRange(name: name, begin: 0, end: Checked.multiply(ref.storage.elementCount, size) ?? Int.max,
                                                   available: range.count)
        }
        do {
            // Elements the view touches: [offset, offset + span) within the storage.
            guard let span = layout.elementSpan else {
                return try Tensor(dtype: dtype, shape: ref.shape, storage: archive.storage, byteOffset: range.lowerBound)
            }
            let end = layout.offset.addingReportingOverflow(span)
            guard !end.overflow, end.partialValue <= ref.storage.elementCount else {
                throw CheckpointError.tensorOutOfRange(name: name, begin: layout.offset.multipliedReportingOverflow(by: size).partialValue,
                                                       end: end.overflow ? Int.max : end.partialValue.multipliedReportingOverflow(by: size).partialValue,
                                                       available: declaredBytes)
            }
            let base = range.lowerBound + layout.offset * size
            if layout.isContiguous {
                return try Tensor(dtype: dtype, shape: ref.shape, storage: archive.storage, byteOffset: base)
            }
            // Zero or overlapping strides could otherwise turn a tiny file into gigabytes of copies.
            guard let copyBytes = Checked.byteCount(ref.shape, elementSize: size), copyBytes <= copyBudget else {
                throw CheckpointError.invalidTensor(name: name, reason: "strided view of size \(ref.shape) with strides \(ref.strides) "
                    + "would expand its \(declaredBytes)-byte storage beyond the size of the file; save it with .contiguous()")
            }
            copyBudget -= copyBytes
            return try layout.gather(from: archive.storage.bytes, baseByteOffset: base, dtype: dtype)
        } catch let error as TensorError {
            throw CheckpointError.invalidTensor(name: name, reason: error.description)
        }
    }
}

/// Bytes that strided copies may add beyond the file's own size (small broadcast views stay readable).
let pthCopyAllowance = 1 << 20

/// Shape, strides and offset of a torch tensor view, validated.
struct StridedLayout {
    let shape: [Int]
    let strides: [Int]
    let offset: Int

    init(name: String, shape: [Int], strides: [Int], offset: Int) throws {
        guard shape.count == strides.count else {
            throw CheckpointError.invalidTensor(name: name, reason: "size \(shape) and stride \(strides) have different lengths")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw CheckpointError.invalidTensor(name: name, reason: "negative size in \(shape)") }
        guard strides.allSatisfy({ $0 >= 0 }) else { throw CheckpointError.invalidTensor(name: name, reason: "negative stride in \(strides)") }
        guard offset >= 0 else { throw CheckpointError.invalidTensor(name: name, reason: "negative storage offset \(offset)") }
        guard Checked.product(shape) != nil else { throw CheckpointError.invalidTensor(name: name, reason: "size \(shape) overflows") }
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// 1 + the largest element index reached relative to `offset`; nil for an empty tensor.
    /// Saturates at `Int.max` (then the range check fails).
    var elementSpan: Int? {
        if shape.contains(0) { return nil }
        var last = 0
        for (n, s) in zip(shape, strides) {
            let (step, o1) = (n - 1).multipliedReportingOverflow(by: s)
            let (sum, o2) = last.addingReportingOverflow(step)
            if o1 || o2 { return Int.max }
            last = sum
        }
        return last == Int.max ? Int.max : last + 1
    }

    /// Row-major contiguity, ignoring strides of size-1 dimensions (as torch does).
    var isContiguous: Bool {
        var expected = 1
        for (n, s) in zip(shape, strides).reversed() where n != 1 {
            if s != expected { return false }
            guard let next = Checked.multiply(expected, n) else { return false }
            expected = next
        }
        return true
    }

    /// Copies the strided elements into a new contiguous tensor. Bounds were checked by the caller.
    func gather(from source: UnsafeRawBufferPointer, baseByteOffset: Int, dtype: DType) throws -> Tensor {
        let size = dtype.byteSize
        let count = Tensor.elementCount(shape)
        let storage = ByteStorage.allocate(count: count * size) { dst in
            guard count > 0, let dstBase = dst.baseAddress, let srcBase = source.baseAddress else { return }
            var index = [Int](repeating: 0, count: shape.count)
            var sourceElement = 0
            for i in 0..<count {
                (dstBase + i * size).copyMemory(from: srcBase + baseByteOffset + sourceElement * size, byteCount: size)
                // Odometer increment over the multi-index, tracking the source element offset.
                var d = shape.count - 1
                while d >= 0 {
                    index[d] += 1
                    sourceElement += strides[d]
                    if index[d] < shape[d] { break }
                    sourceElement -= strides[d] * shape[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }
        return try Tensor(dtype: dtype, shape: shape, storage: storage)
    }
}
