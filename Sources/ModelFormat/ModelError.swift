/// Every way reading, validating or writing a model can fail. Each case names the check that failed and carries
/// where: a byte offset, a tensor name, or a line and column.
public enum ModelError: Error, Sendable, Equatable {
    /// The file could not be opened, read, written or renamed.
    case io(path: String, message: String)
    /// The first bytes are not the format's magic.
    case badMagic(format: String, found: String)
    /// A version this reader does not read (a newer major version, say).
    case unsupportedVersion(format: String, found: String, supported: String)
    /// The file ends before a structure it declares.
    case truncated(offset: Int, needed: Int, available: Int, what: String)
    /// A checksum does not match: `what` is `header`, `trailer` or a tensor name.
    case checksumMismatch(what: String, offset: Int)
    /// Padding that must be zero is not.
    case nonZeroPadding(offset: Int)
    /// A header that is larger than the format allows.
    case headerTooLarge(size: UInt64, limit: Int)
    /// The header is not valid (bad JSON, missing or ill-typed field); `offset` is a byte offset in the file.
    case invalidHeader(offset: Int, message: String)
    /// A tensor's data range is outside the file, misaligned, overlapping, or leaves a hole.
    case invalidOffset(tensor: String, offset: Int, message: String)
    /// Two tensors or layers share a name.
    case duplicateName(String)
    /// A reserved word that must be zero is not: `structure` is `preamble` or `trailer`, `offset` its byte offset.
    case nonZeroReserved(structure: String, offset: Int, value: UInt32)
    /// An optimizer slot's tensor name is not `optimizer/<parameter>/<slot>` for the parameter and slot it is filed under.
    case slotNameMismatch(tensor: String, expected: String)
    /// Two tensors hold the same slot of the same parameter.
    case duplicateSlot(parameter: String, slot: String, tensors: [String])
    /// A slot the optimizer, with its settings, does not keep (`average_gradient` for Adam, `momentum` for SGD with
    /// momentum 0); `optimizer` names the settings, `keeps` the slots it does keep.
    case unusedSlot(tensor: String, optimizer: String, keeps: [String])
    /// A tensor's shape disagrees with what is expected (from the architecture, or its byte length).
    case shapeMismatch(name: String, expected: [Int], detail: String)
    /// A tensor the architecture needs is missing.
    case missingTensor(String)
    /// A tensor that nothing in the model uses.
    case unexpectedTensor(String)
    /// A dtype name this format does not know or cannot hold.
    case unknownDType(String, location: String)
    /// A layer type, activation, loss or optimizer this toolkit does not have.
    case unsupported(String)
    /// A number or setting out of range (a NaN learning rate, a negative dropout rate).
    case invalidValue(field: String, message: String)
    /// A text input (JSON, CSV, --arch) failed to parse.
    case parse(source: String, line: Int, column: Int, message: String)
    /// Anything else a foreign format reports (HDF5's message, a zip error).
    case format(String)
    /// A file keeps optimizer slot tensors but not settings they depend on; `remedy` names the flag that supplies them.
    case optimizerSettingsNotRecorded(source: String, optimizer: String, missing: [String], assumption: String, remedy: String)
    /// The engine cannot run this model: `layer` of framework class `type` is not one it has.
    case notRunnable(layer: String, type: String)
    /// Weights without layers: running them needs an architecture (`--arch`).
    case noArchitecture(tensors: Int)
    /// `--optimizer` contradicts a setting the file records (`setting` is `type` for another kind of optimizer).
    case optimizerConflict(source: String, setting: String, recorded: String, given: String)
}

extension ModelError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .io(let path, let message): return "\(path): \(message)"
        case .badMagic(let format, let found): return "not a \(format) file: bad magic \(found) at byte 0"
        case .unsupportedVersion(let format, let found, let supported):
            return "\(format) version \(found) is not supported by this reader (it reads version \(supported))"
        case .truncated(let offset, let needed, let available, let what):
            return "truncated: \(what) at byte \(offset) needs \(needed) bytes, only \(available) remain"
        case .checksumMismatch(let what, let offset):
            return what == "header" || what == "trailer"
                ? "checksum mismatch in the \(what) (at byte \(offset))"
                : "checksum mismatch in tensor '\(what)' (data at byte \(offset))"
        case .nonZeroPadding(let offset): return "padding at byte \(offset) is not zero"
        case .headerTooLarge(let size, let limit): return "header of \(size) bytes exceeds the limit of \(limit) bytes"
        case .invalidHeader(let offset, let message): return "invalid header (at byte \(offset)): \(message)"
        case .invalidOffset(let tensor, let offset, let message): return "tensor '\(tensor)': bad data range at byte \(offset): \(message)"
        case .duplicateName(let name): return "duplicate name '\(name)'"
        case .nonZeroReserved(let structure, let offset, let value):
            return "reserved word of the \(structure) at byte \(offset) is \(value), must be 0"
        case .slotNameMismatch(let tensor, let expected):
            return "tensor '\(tensor)': an optimizer slot must be named '\(expected)' (optimizer/<parameter>/<slot>)"
        case .duplicateSlot(let parameter, let slot, let tensors):
            return "tensors \(tensors.map { "'\($0)'" }.joined(separator: " and ")) are both slot '\(slot)' of '\(parameter)'"
        case .unusedSlot(let tensor, let optimizer, let keeps):
            return "tensor '\(tensor)': \(optimizer) keeps no such slot (\(keeps.isEmpty ? "it keeps none" : "its slots: " + keeps.joined(separator: ", ")))"
        case .shapeMismatch(let name, let expected, let detail):
            return "tensor '\(name)': shape mismatch, expected \(expected): \(detail)"
        case .missingTensor(let name): return "missing tensor '\(name)'"
        case .unexpectedTensor(let name): return "unexpected tensor '\(name)' (no layer uses it)"
        case .unknownDType(let name, let location): return "unknown dtype '\(name)' at \(location)"
        case .unsupported(let what): return "unsupported: \(what)"
        case .invalidValue(let field, let message): return "invalid \(field): \(message)"
        case .parse(let source, let line, let column, let message): return "\(source):\(line):\(column): \(message)"
        case .format(let message): return message
        case .optimizerSettingsNotRecorded(let source, let optimizer, let missing, let assumption, let remedy):
            let names = missing.count <= 1 ? missing.joined()
                : missing.dropLast().joined(separator: ", ") + " or " + missing.last!
            return "\(source) does not record \(optimizer)'s \(names), which its optimizer state depends on; if the run used \(assumption), \(remedy)"
        case .notRunnable(let layer, let type):
            return "the engine cannot run layer '\(layer)' of type \(type) (inspect, check, convert and diff work on any model)"
        case .noArchitecture(let tensors):
            return "this file holds \(tensors) tensors and no architecture: give --arch (and --layout torch for PyTorch names) to run it"
        case .optimizerConflict(let source, let setting, let recorded, let given):
            return setting == "type"
                ? "\(source) holds \(recorded) optimizer state; --optimizer gives \(given)"
                : "\(source) records the optimizer's \(setting) as \(recorded); --optimizer gives \(setting)=\(given)"
        }
    }
}
