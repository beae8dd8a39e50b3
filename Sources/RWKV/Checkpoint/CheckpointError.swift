// CheckpointError: everything that can go wrong while reading or writing a checkpoint file.
//
// One error type for the whole Checkpoint layer. Each case carries the context a user needs to find
// the problem (entry name, tensor name, byte offsets, what was expected and what was found); the
// format readers do not know the file path, so `Checkpoint.load(path:)` wraps their errors in
// `.inFile(path:_:)`. Nothing in this layer traps on bad input: every malformed file ends up here.

/// A failure while reading, validating or writing a checkpoint.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    // MARK: Files
    /// Nothing exists at the path.
    case fileNotFound(path: String)
    /// The path names a directory (or another non-regular file).
    case notARegularFile(path: String)
    /// The file has zero bytes.
    case emptyFile(path: String)
    /// The file exists but could not be opened or mapped.
    case cannotRead(path: String, reason: String)
    /// The first bytes match no supported format.
    case unknownFormat(path: String, firstBytes: [UInt8])
    /// A recognised format this package does not read (yet).
    case unsupportedFormat(path: String, format: String)
    /// Writing the output failed; nothing was left at the destination.
    case writeFailed(path: String, reason: String)
    /// The output path's extension names no format we write.
    case unknownOutputFormat(path: String)

    // MARK: Zip container (.pth)
    /// The zip structure is damaged or truncated.
    case malformedZip(reason: String)
    /// A zip entry uses a compression method or feature other than "stored".
    case unsupportedZipEntry(entry: String, reason: String)
    /// A required zip entry is absent.
    case missingEntry(name: String)

    // MARK: Pickle (.pth data.pkl)
    /// The pickle stream is malformed (bad argument, stack underflow, limit exceeded...).
    case malformedPickle(offset: Int, reason: String)
    /// An opcode that a state-dict pickle never needs (or that does not exist).
    case unsupportedOpcode(byte: UInt8, offset: Int)
    /// A GLOBAL/STACK_GLOBAL naming anything outside the small allow-list. Loading stops here:
    /// nothing named by the file is ever imported or called.
    case forbiddenGlobal(module: String, name: String, offset: Int)
    /// The unpickled object is not a flat `name → tensor` dictionary.
    case notATensorDictionary(found: String)

    // MARK: Tensors
    /// A tensor's description is inconsistent (negative size, bad stride, bad dtype field...).
    case invalidTensor(name: String, reason: String)
    /// A tensor's element type is not one we handle.
    case unsupportedDType(name: String, type: String)
    /// A tensor's bytes would run past the data that backs it.
    case tensorOutOfRange(name: String, begin: Int, end: Int, available: Int)

    // MARK: safetensors
    /// The safetensors header is missing, too long, not JSON, or has the wrong structure.
    case malformedSafetensorsHeader(reason: String)
    /// A GGUF file is damaged, truncated or not an RWKV-6/7 model.
    case malformedGGUF(reason: String)

    // MARK: Context
    /// Another error, with the path of the file it happened in.
    indirect case inFile(path: String, CheckpointError)

    /// The error without `.inFile` wrappers (handy for matching in callers and tests).
    public var underlying: CheckpointError {
        if case let .inFile(_, inner) = self { return inner.underlying }
        return self
    }

    /// A short stable identifier for the kind of failure, e.g. for logs or JSON error bodies.
    public var code: String {
        switch self {
        case .fileNotFound: return "file_not_found"
        case .notARegularFile: return "not_a_regular_file"
        case .emptyFile: return "empty_file"
        case .cannotRead: return "cannot_read"
        case .unknownFormat: return "unknown_format"
        case .unsupportedFormat: return "unsupported_format"
        case .writeFailed: return "write_failed"
        case .unknownOutputFormat: return "unknown_output_format"
        case .malformedZip: return "malformed_zip"
        case .unsupportedZipEntry: return "unsupported_zip_entry"
        case .missingEntry: return "missing_entry"
        case .malformedPickle: return "malformed_pickle"
        case .unsupportedOpcode: return "unsupported_opcode"
        case .forbiddenGlobal: return "forbidden_global"
        case .notATensorDictionary: return "not_a_tensor_dictionary"
        case .invalidTensor: return "invalid_tensor"
        case .unsupportedDType: return "unsupported_dtype"
        case .tensorOutOfRange: return "tensor_out_of_range"
        case .malformedSafetensorsHeader: return "malformed_safetensors_header"
        case .malformedGGUF: return "malformed_gguf"
        case let .inFile(_, inner): return inner.code
        }
    }

    public var description: String {
        switch self {
        case let .fileNotFound(path): return "\(path): no such file"
        case let .notARegularFile(path): return "\(path): is a directory or special file, expected a checkpoint file"
        case let .emptyFile(path): return "\(path): file is empty, expected a .pth or .safetensors checkpoint"
        case let .cannotRead(path, reason): return "\(path): cannot read: \(reason)"
        case let .unknownFormat(path, bytes):
            let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
            return "\(path): unknown checkpoint format (first bytes \(hex)); expected a PyTorch zip (.pth) or safetensors file"
        case let .unsupportedFormat(path, format): return "\(path): \(format) is not supported yet; convert it to .pth or .safetensors"
        case let .writeFailed(path, reason): return "cannot write \(path): \(reason)"
        case let .unknownOutputFormat(path):
            return "\(path): cannot tell the output format from the extension; use .pth or .safetensors"
        case let .malformedZip(reason): return "not a valid zip archive: \(reason)"
        case let .unsupportedZipEntry(entry, reason): return "zip entry '\(entry)': \(reason)"
        case let .missingEntry(name): return "zip archive has no entry '\(name)'"
        case let .malformedPickle(offset, reason): return "data.pkl byte \(offset): \(reason)"
        case let .unsupportedOpcode(byte, offset):
            return "data.pkl byte \(offset): pickle opcode 0x\(String(byte, radix: 16).leftPadded(to: 2)) is not allowed in a tensor checkpoint"
        case let .forbiddenGlobal(module, name, offset):
            return "data.pkl byte \(offset): refusing to load global '\(module).\(name)'; only torch tensor/storage rebuild functions and collections.OrderedDict are allowed"
        case let .notATensorDictionary(found):
            return "the checkpoint's top-level object must be a dictionary of tensors, found \(found)"
        case let .invalidTensor(name, reason): return "tensor '\(name)': \(reason)"
        case let .unsupportedDType(name, type):
            return "tensor '\(name)': unsupported element type \(type) (supported: F32, F16, BF16, I32, I64, U8, I8)"
        case let .tensorOutOfRange(name, begin, end, available):
            return "tensor '\(name)': bytes [\(begin), \(end)) run past the \(available) bytes available for it"
        case let .malformedSafetensorsHeader(reason): return "bad safetensors header: \(reason)"
        case let .malformedGGUF(reason): return "bad GGUF file: \(reason)"
        case let .inFile(path, inner): return "\(path): \(inner.description)"
        }
    }
}

fileprivate extension String {
    /// Pads with leading zeros (used for hex bytes in messages).
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
