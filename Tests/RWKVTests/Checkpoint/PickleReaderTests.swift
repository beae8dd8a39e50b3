import Testing
@testable import RWKV

@Suite struct PickleReaderTests {
    typealias S = CheckpointTestSupport

    private func read(_ bytes: [UInt8]) throws -> PickleValue {
        try bytes.withUnsafeBytes { try PickleReader.read($0) }
    }

    private func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func globalOsSystemIsRefusedByName() {
        // cos\nsystem\n  X "ls"  TUPLE1  REDUCE  STOP — what a malicious checkpoint would contain.
        let bytes: [UInt8] = [0x80, 2] + ascii("cos\nsystem\n") + [0x58, 2, 0, 0, 0] + ascii("ls") + [0x85] + ascii("R.")
        let error = S.checkpointError { _ = try read(bytes) }
        #expect(error == .forbiddenGlobal(module: "os", name: "system", offset: 2))
        #expect(error?.description.contains("os.system") == true)
    }

    @Test func stackGlobalBuiltinsEvalIsRefused() {
        // Protocol 4 framing, SHORT_BINUNICODE module and name, STACK_GLOBAL.
        var body: [UInt8] = [0x8C, 8] + ascii("builtins") + [0x8C, 4] + ascii("eval") + [0x93]
        body += [0x8C, 1] + ascii("1") + [0x85] + ascii("R.")
        let bytes: [UInt8] = [0x80, 4, 0x95] + [UInt8(body.count), 0, 0, 0, 0, 0, 0, 0] + body
        #expect(S.checkpointError { _ = try read(bytes) } == .forbiddenGlobal(module: "builtins", name: "eval", offset: 11 + 10 + 6))
    }

    @Test(arguments: [("posix", "system"), ("__builtin__", "getattr"), ("torch", "load"), ("collections", "namedtuple")])
    func otherGlobalsAreRefused(module: String, name: String) {
        let bytes: [UInt8] = [0x80, 2] + ascii("c\(module)\n\(name)\n") + ascii(")R.")
        #expect(S.checkpointError { _ = try read(bytes) } == .forbiddenGlobal(module: module, name: name, offset: 2))
    }

    @Test func unknownAndDangerousOpcodesNameByteAndOffset() {
        #expect(S.checkpointError { _ = try read([0x80, 2, 0x4E, 0xFF]) } == .unsupportedOpcode(byte: 0xFF, offset: 3))
        // INST and NEWOBJ would instantiate arbitrary classes.
        #expect(S.checkpointError { _ = try read([0x80, 2] + ascii("ios\nsystem\n")) } == .unsupportedOpcode(byte: 0x69, offset: 2))
        #expect(S.checkpointError { _ = try read([0x80, 2, 0x4E, 0x29, 0x81]) } == .unsupportedOpcode(byte: 0x81, offset: 4))
    }

    @Test func truncatedStreamIsMalformed() {
        let error = S.checkpointError { _ = try read([0x80, 2, 0x58, 10, 0, 0, 0] + ascii("abc")) }
        guard case let .malformedPickle(offset, reason) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(offset == 2 && reason.contains("truncated"))
        #expect(S.checkpointError { _ = try read([0x80, 2, 0x4E]) }?.code == "malformed_pickle") // no STOP
    }

    @Test func deepNestingIsLimited() throws {
        let ok: [UInt8] = [0x80, 2, 0x29] + [UInt8](repeating: 0x85, count: PickleReader.maxDepth - 1) + ascii(".")
        #expect(try read(ok).depth == PickleReader.maxDepth)
        let deep: [UInt8] = [0x80, 2, 0x29] + [UInt8](repeating: 0x85, count: 10_000) + ascii(".")
        #expect(S.checkpointError { _ = try read(deep) }?.description.contains("nested deeper") == true)
    }

    @Test func mutatingANestedContainerIsRefused() {
        // ] BINPUT 0, TUPLE1 (nests the list), BINGET 0, N, APPEND.
        let bytes: [UInt8] = [0x80, 2, 0x5D, 0x71, 0, 0x85, 0x68, 0, 0x4E, 0x61, 0x2E]
        #expect(S.checkpointError { _ = try read(bytes) }?.description.contains("modified after being nested") == true)
    }

    @Test func memoMisuseIsMalformed() {
        #expect(S.checkpointError { _ = try read([0x80, 2, 0x68, 5, 0x2E]) }?.description.contains("memo entry 5") == true)
        #expect(S.checkpointError { _ = try read([0x80, 2, 0x71, 0, 0x2E]) }?.code == "malformed_pickle") // BINPUT on empty stack
    }

    @Test func storageClassesCannotBeCalled() {
        let bytes: [UInt8] = [0x80, 2] + ascii("ctorch\nFloatStorage\n)R.")
        #expect(S.checkpointError { _ = try read(bytes) }?.description.contains("FloatStorage") == true)
    }

    @Test(arguments: [0, 1, 255, 256, 65535, 65536, -1, -129, 70_000, Int(Int32.max), Int(Int32.max) + 1, 1 << 40, -(1 << 40), Int.max, Int.min])
    func integersRoundTripThroughTheBuilder(value: Int) throws {
        var builder = PickleBuilder()
        builder.int(value)
        guard case let .int(read) = try read(builder.bytes + [0x2E]) else { Issue.record("not an int"); return }
        #expect(read == value)
    }

    @Test func longOpcodesDecodeTwosComplement() throws {
        guard case let .int(a) = try read([0x80, 2, 0x8A, 2, 0x00, 0x80, 0x2E]) else { Issue.record("a"); return }
        #expect(a == -32768)
        guard case let .int(b) = try read([0x80, 2, 0x8A, 0, 0x2E]) else { Issue.record("b"); return }
        #expect(b == 0)
        #expect(S.checkpointError { _ = try read([0x80, 2, 0x8A, 9] + [UInt8](repeating: 1, count: 9) + [0x2E]) }?.code == "malformed_pickle")
    }

    @Test func stateDictFromTheBuilderParses() throws {
        let storage = try Tensor([1, 2, 3, 4, 5, 6], shape: [6])
        let record = PTHTensorRecord(name: "w", storage: storage, storageOffset: 1, shape: [2, 2], strides: [1, 2])
        var builder = PickleBuilder()
        builder.stateDict([record])
        guard case let .dict(dict) = try read(builder.bytes) else { Issue.record("not a dict"); return }
        #expect(dict.items.count == 1)
        guard case .string("w") = dict.items[0].key, case let .tensor(t) = dict.items[0].value else { Issue.record("bad item"); return }
        #expect(t == TensorReference(storage: StorageReference(typeName: "FloatStorage", dtype: .float32, key: "0", location: "cpu", elementCount: 6),
                                     storageOffset: 1, shape: [2, 2], strides: [1, 2]))
    }
}
