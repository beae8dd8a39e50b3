// PickleReader: a restricted unpickler for the `data.pkl` that `torch.save` writes for a state dict.
//
// It interprets pickle opcodes (protocol 2, plus the framing/memo opcodes of protocols 3-5) into a
// small value tree and never imports or calls anything: GLOBAL/STACK_GLOBAL may only name
// `collections.OrderedDict`, the torch tensor/parameter rebuild functions and torch's typed storage
// classes; REDUCE only "applies" those, by building a `TensorReference` or an empty dictionary.
// Everything else (e.g. `os.system`, `builtins.eval`) is refused with the offending name.
// Limits guard against hostile files: nesting depth, memo size, integer width, container mutation
// after nesting (which `torch.save` never emits and which could hide deep recursion).

/// A typed torch storage named in a persistent id: `('storage', torch.XStorage, key, location, numel)`.
struct StorageReference: Equatable {
    /// Class name, e.g. `BFloat16Storage`.
    let typeName: String
    /// The element type, or nil for torch types we recognise but do not load (double, bool...).
    let dtype: DType?
    /// Name of the zip entry under `<prefix>/data/`.
    let key: String
    let location: String
    /// Number of elements in the storage.
    let elementCount: Int
}

/// A tensor as described by `_rebuild_tensor_v2(storage, offset, size, stride, ...)`.
struct TensorReference: Equatable {
    let storage: StorageReference
    /// In elements, not bytes.
    let storageOffset: Int
    let shape: [Int]
    /// In elements.
    let strides: [Int]
}

/// The few Python callables and classes a checkpoint pickle may name.
enum PickleCallable: Equatable {
    case orderedDict
    case rebuildTensorV2
    case rebuildTensor
    case rebuildParameter
    case storageType(name: String, dtype: DType?)

    /// Torch storage classes: the ones we load map to a dtype, the others are recognised so the
    /// error can say "unsupported dtype" rather than "forbidden global".
    static let storageTypes: [String: DType?] = [
        "FloatStorage": .float32, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "IntStorage": .int32, "LongStorage": .int64, "ByteStorage": .uint8, "CharStorage": .int8,
        "DoubleStorage": nil, "ShortStorage": nil, "BoolStorage": nil,
    ]

    /// The allow-list. Returns nil for anything not on it.
    static func lookup(module: String, name: String) -> PickleCallable? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor"): return .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch", _):
            guard let dtype = storageTypes[name] else { return nil }
            return .storageType(name: name, dtype: dtype)
        default: return nil
        }
    }
}

/// A list under construction; a class because pickle mutates lists after memoising them.
final class PickleList {
    var items: [PickleValue] = []
    var depth = 1
    /// Set once the list is nested in another value; later mutation is refused.
    var sealed = false
}

/// A dict under construction (keys kept in insertion order, any value type).
final class PickleDict {
    var items: [(key: PickleValue, value: PickleValue)] = []
    var depth = 1
    var sealed = false
}

/// A node of the unpickled value tree.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue], depth: Int)
    case list(PickleList)
    case dict(PickleDict)
    case callable(PickleCallable)
    case storage(StorageReference)
    case tensor(TensorReference)

    /// Nesting depth (scalars are 0).
    var depth: Int {
        switch self {
        case let .tuple(_, d): return d
        case let .list(l): return l.depth
        case let .dict(d): return d.depth
        default: return 0
        }
    }

    /// A short description for error messages.
    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "a bool"
        case .int: return "an int"
        case .float: return "a float"
        case .string: return "a string"
        case .bytes: return "bytes"
        case let .tuple(items, _): return "a \(items.count)-tuple"
        case .list: return "a list"
        case .dict: return "a dict"
        case .callable: return "a class or function"
        case .storage: return "a storage"
        case .tensor: return "a tensor"
        }
    }
}

/// Interprets a pickle byte stream into a `PickleValue` without executing anything.
struct PickleReader {
    static let maxDepth = 64
    static let maxMemoEntries = 1 << 22

    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    /// Offset of the opcode being executed (for error messages).
    private var opcodeOffset = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    /// Unpickles `bytes` (the whole of `data.pkl`).
    static func read(_ bytes: UnsafeRawBufferPointer) throws -> PickleValue {
        var reader = PickleReader(bytes: bytes)
        return try reader.run()
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private mutating func run() throws -> PickleValue {
        while true {
            opcodeOffset = position
            let op = try byte()
            switch op {
            case 0x80: // PROTO
                let version = try byte()
                guard version <= 5 else { throw fail("pickle protocol \(version) is newer than 5") }
            case 0x95: _ = try take(8) // FRAME: only a read-ahead hint
            case UInt8(ascii: "."): return try pop() // STOP
            case UInt8(ascii: "("): marks.append(stack.count) // MARK
            case UInt8(ascii: "0"): // POP
                if let m = marks.last, m == stack.count { marks.removeLast() } else { _ = try pop() }
            case UInt8(ascii: "1"): _ = try popMark() // POP_MARK
            case UInt8(ascii: "2"): stack.append(try top()) // DUP
            case UInt8(ascii: "N"): stack.append(.none)
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case UInt8(ascii: "I"): try pushTextInt() // INT
            case UInt8(ascii: "L"): // LONG (text, trailing "L")
                let line = try textLine()
                stack.append(.int(try parseInt(line.hasSuffix("L") ? String(line.dropLast()) : line)))
            case UInt8(ascii: "J"): stack.append(.int(Int(Int32(bitPattern: UInt32(try unsigned(4))))))
            case UInt8(ascii: "K"): stack.append(.int(try unsigned(1)))
            case UInt8(ascii: "M"): stack.append(.int(try unsigned(2)))
            case 0x8A: stack.append(.int(try longInteger(byteCount: try unsigned(1)))) // LONG1
            case 0x8B: stack.append(.int(try longInteger(byteCount: try length(4)))) // LONG4
            case UInt8(ascii: "F"): // FLOAT (text)
                guard let v = Double(try textLine()) else { throw fail("bad text float") }
                stack.append(.float(v))
            case UInt8(ascii: "G"): // BINFLOAT, big-endian
                let raw = try take(8)
                stack.append(.float(Double(bitPattern: raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case UInt8(ascii: "T"): stack.append(.string(string(try take(try length(4))))) // BINSTRING
            case UInt8(ascii: "U"): stack.append(.string(string(try take(try unsigned(1))))) // SHORT_BINSTRING
            case UInt8(ascii: "X"): stack.append(.string(string(try take(try length(4))))) // BINUNICODE
            case 0x8C: stack.append(.string(string(try take(try unsigned(1))))) // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(string(try take(try length(8))))) // BINUNICODE8
            case UInt8(ascii: "B"): stack.append(.bytes(Array(try take(try length(4))))) // BINBYTES
            case UInt8(ascii: "C"): stack.append(.bytes(Array(try take(try unsigned(1))))) // SHORT_BINBYTES
            case 0x8E, 0x96: stack.append(.bytes(Array(try take(try length(8))))) // BINBYTES8, BYTEARRAY8
            case UInt8(ascii: ")"): stack.append(.tuple([], depth: 1))
            case UInt8(ascii: "t"): stack.append(try tuple(try popMark()))
            case 0x85, 0x86, 0x87: // TUPLE1..3
                let n = Int(op - 0x84)
                guard stack.count - (marks.last ?? 0) >= n else { throw fail("stack underflow building a \(n)-tuple") }
                let items = Array(stack.suffix(n))
                stack.removeLast(n)
                stack.append(try tuple(items))
            case UInt8(ascii: "]"): stack.append(.list(PickleList()))
            case UInt8(ascii: "l"): // LIST
                let list = PickleList()
                try append(try popMark(), to: list)
                stack.append(.list(list))
            case UInt8(ascii: "a"): // APPEND
                let item = try pop()
                try append([item], to: try mutableList())
            case UInt8(ascii: "e"): // APPENDS
                let items = try popMark()
                try append(items, to: try mutableList())
            case UInt8(ascii: "}"): stack.append(.dict(PickleDict()))
            case UInt8(ascii: "d"): // DICT
                let dict = PickleDict()
                try setItems(try popMark(), in: dict)
                stack.append(.dict(dict))
            case UInt8(ascii: "s"): // SETITEM
                let value = try pop(), key = try pop()
                try setItems([key, value], in: try mutableDict())
            case UInt8(ascii: "u"): // SETITEMS
                let items = try popMark()
                try setItems(items, in: try mutableDict())
            case UInt8(ascii: "c"): // GLOBAL "module\nname\n"
                let module = try textLine(), name = try textLine()
                stack.append(try global(module: module, name: name))
            case 0x93: // STACK_GLOBAL
                guard case let .string(name) = try pop(), case let .string(module) = try pop() else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                stack.append(try global(module: module, name: name))
            case UInt8(ascii: "R"): // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args))
            case UInt8(ascii: "b"): // BUILD: object state is irrelevant for dicts and tensors
                let state = try pop()
                try seal(state)
                switch try top() {
                case .dict, .tensor: break
                case let other: throw fail("BUILD on \(other.kindName) is not allowed")
                }
            case UInt8(ascii: "Q"): stack.append(try persistentLoad(try pop())) // BINPERSID
            case UInt8(ascii: "p"): try memoize(at: try parseInt(try textLine())) // PUT
            case UInt8(ascii: "q"): try memoize(at: try unsigned(1)) // BINPUT
            case UInt8(ascii: "r"): try memoize(at: try unsigned(4)) // LONG_BINPUT
            case 0x94: try memoize(at: memo.count) // MEMOIZE
            case UInt8(ascii: "g"): try recall(try parseInt(try textLine())) // GET
            case UInt8(ascii: "h"): try recall(try unsigned(1)) // BINGET
            case UInt8(ascii: "j"): try recall(try unsigned(4)) // LONG_BINGET
            default: throw CheckpointError.unsupportedOpcode(byte: op, offset: opcodeOffset)
            }
        }
    }

    // MARK: Reading bytes

    private func fail(_ reason: String) -> CheckpointError {
        .malformedPickle(offset: opcodeOffset, reason: reason)
    }

    private mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - position else {
            throw fail("needs \(n) more bytes but only \(bytes.count - position) remain (truncated pickle)")
        }
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    private mutating func byte() throws -> UInt8 { try take(1)[0] }

    /// A little-endian unsigned integer of `width` bytes.
    private mutating func unsigned(_ width: Int) throws -> Int {
        let raw = try take(width)
        var v: UInt64 = 0
        for i in (0..<width).reversed() { v = v << 8 | UInt64(raw[i]) }
        guard v <= UInt64(Int.max) else { throw fail("length \(v) is impossibly large") }
        return Int(v)
    }

    /// A length prefix; the bounds check in `take` rejects lengths beyond the stream.
    private mutating func length(_ width: Int) throws -> Int { try unsigned(width) }

    /// Two's-complement little-endian integer of up to 8 bytes (LONG1/LONG4).
    private mutating func longInteger(byteCount n: Int) throws -> Int {
        guard n <= 8 else { throw fail("integer of \(n) bytes does not fit in 64 bits") }
        if n == 0 { return 0 }
        let raw = try take(n)
        var v: UInt64 = 0
        for i in (0..<n).reversed() { v = v << 8 | UInt64(raw[i]) }
        if n < 8, raw[n - 1] & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) } // sign-extend
        return Int(Int64(bitPattern: v))
    }

    /// A newline-terminated ASCII line (text opcodes and GLOBAL), at most 256 bytes.
    private mutating func textLine() throws -> String {
        let start = position
        while position < bytes.count, position - start <= 256 {
            if bytes[position] == UInt8(ascii: "\n") {
                defer { position += 1 }
                return string(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
            }
            position += 1
        }
        throw fail("unterminated or overlong text argument")
    }

    private func string(_ raw: UnsafeRawBufferPointer) -> String { String(decoding: raw, as: UTF8.self) }

    private func parseInt(_ text: String) throws -> Int {
        guard let v = Int(text) else { throw fail("'\(text)' is not an integer") }
        return v
    }

    /// INT: protocol-0 integers, where "00"/"01" mean False/True.
    private mutating func pushTextInt() throws {
        let line = try textLine()
        switch line {
        case "00": stack.append(.bool(false))
        case "01": stack.append(.bool(true))
        default: stack.append(.int(try parseInt(line)))
        }
    }

    // MARK: Stack, marks, memo

    private mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let v = stack.popLast() else { throw fail("stack underflow") }
        return v
    }

    private func top() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let v = stack.last else { throw fail("stack underflow") }
        return v
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("no MARK on the stack") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private mutating func memoize(at index: Int) throws {
        guard index >= 0 else { throw fail("negative memo index") }
        guard memo.count < Self.maxMemoEntries || memo[index] != nil else {
            throw fail("more than \(Self.maxMemoEntries) memo entries")
        }
        memo[index] = try top()
    }

    private mutating func recall(_ index: Int) throws {
        guard let v = memo[index] else { throw fail("memo entry \(index) was never stored") }
        stack.append(v)
    }

    // MARK: Containers

    /// Marks a container as nested so it can no longer change, and checks the nesting limit.
    private func seal(_ v: PickleValue) throws {
        switch v {
        case let .list(l): l.sealed = true
        case let .dict(d): d.sealed = true
        default: break
        }
    }

    private func checkedDepth(_ children: [PickleValue], current: Int = 1) throws -> Int {
        let depth = max(current, 1 + (children.map(\.depth).max() ?? 0))
        guard depth <= Self.maxDepth else { throw fail("values nested deeper than \(Self.maxDepth) levels") }
        return depth
    }

    private func tuple(_ items: [PickleValue]) throws -> PickleValue {
        for item in items { try seal(item) }
        return .tuple(items, depth: try checkedDepth(items))
    }

    private func mutableList() throws -> PickleList {
        guard case let .list(l) = try top() else { throw fail("APPEND target is not a list") }
        guard !l.sealed else { throw fail("list is modified after being nested in another value") }
        return l
    }

    private func mutableDict() throws -> PickleDict {
        guard case let .dict(d) = try top() else { throw fail("SETITEM target is not a dict") }
        guard !d.sealed else { throw fail("dict is modified after being nested in another value") }
        return d
    }

    private func append(_ items: [PickleValue], to list: PickleList) throws {
        for item in items {
            if case let .list(inner) = item, inner === list { throw fail("list contains itself") }
            try seal(item)
        }
        list.depth = try checkedDepth(items, current: list.depth)
        list.items.append(contentsOf: items)
    }

    private func setItems(_ flat: [PickleValue], in dict: PickleDict) throws {
        guard flat.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
        for item in flat {
            if case let .dict(inner) = item, inner === dict { throw fail("dict contains itself") }
            try seal(item)
        }
        dict.depth = try checkedDepth(flat, current: dict.depth)
        for i in stride(from: 0, to: flat.count, by: 2) { dict.items.append((key: flat[i], value: flat[i + 1])) }
    }

    // MARK: Globals, REDUCE, persistent ids

    private func global(module: String, name: String) throws -> PickleValue {
        guard let callable = PickleCallable.lookup(module: module, name: name) else {
            throw CheckpointError.forbiddenGlobal(module: module, name: name, offset: opcodeOffset)
        }
        return .callable(callable)
    }

    private func reduce(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case let .callable(function) = callable else { throw fail("REDUCE on \(callable.kindName), which is not callable") }
        guard case let .tuple(a, _) = args else { throw fail("REDUCE arguments are \(args.kindName), expected a tuple") }
        switch function {
        case .orderedDict:
            guard a.isEmpty else { throw fail("OrderedDict built with arguments; expected OrderedDict()") }
            return .dict(PickleDict())
        case .rebuildTensorV2, .rebuildTensor:
            let minimum = function == .rebuildTensorV2 ? 6 : 4
            guard a.count >= minimum, a.count <= minimum + 1 else {
                throw fail("tensor rebuild with \(a.count) arguments, expected \(minimum)")
            }
            guard case let .storage(storage) = a[0] else { throw fail("tensor rebuild argument 1 is \(a[0].kindName), expected a storage") }
            guard case let .int(offset) = a[1] else { throw fail("tensor storage offset is \(a[1].kindName), expected an int") }
            return .tensor(TensorReference(storage: storage, storageOffset: offset,
                                           shape: try intTuple(a[2], what: "size"), strides: try intTuple(a[3], what: "stride")))
        case .rebuildParameter:
            guard a.count == 3, case .tensor = a[0] else { throw fail("_rebuild_parameter expects (tensor, requires_grad, hooks)") }
            return a[0]
        case let .storageType(name, _):
            throw fail("storage class torch.\(name) is called; storages may only appear in persistent ids")
        }
    }

    private func intTuple(_ v: PickleValue, what: String) throws -> [Int] {
        guard case let .tuple(items, _) = v else { throw fail("tensor \(what) is \(v.kindName), expected a tuple of ints") }
        return try items.map {
            guard case let .int(i) = $0 else { throw fail("tensor \(what) holds \($0.kindName), expected ints") }
            return i
        }
    }

    /// `persistent_load(('storage', torch.XStorage, key, location, numel))`.
    private func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard case let .tuple(p, _) = pid, p.count == 5, case .string("storage") = p[0] else {
            throw fail("persistent id is \(pid.kindName), expected ('storage', type, key, location, numel)")
        }
        guard case let .callable(.storageType(typeName, dtype)) = p[1] else {
            throw fail("persistent id storage type is \(p[1].kindName), expected a torch storage class")
        }
        let key: String
        switch p[2] {
        case let .string(s): key = s
        case let .int(i): key = String(i)
        default: throw fail("storage key is \(p[2].kindName), expected a string")
        }
        guard case let .string(location) = p[3] else { throw fail("storage location is \(p[3].kindName), expected a string") }
        guard case let .int(count) = p[4], count >= 0 else { throw fail("storage size is \(p[4].kindName) or negative, expected a count") }
        return .storage(StorageReference(typeName: typeName, dtype: dtype, key: key, location: location, elementCount: count))
    }
}
