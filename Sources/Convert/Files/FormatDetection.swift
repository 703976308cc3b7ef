import Foundation
import ModelFormat
import ModelHDF5

/// Tells a file's format from its extension and confirms it from its content:
/// - `.mkf`: the magic `\x89MKF\r\n\x1a\n` (spec/binary-format.md);
/// - HDF5 (signature `\x89HDF\r\n\x1a\n` at byte 0, 512, 1024 or 2048): root attribute `format = "modelkit-hdf5"` is our
///   layout (spec/hdf5-layout.md), `model_config` or a `model_weights` group is a Keras legacy `.h5`;
/// - zip (`PK\x03\x04`, or `PK\x05\x06` when empty): `config.json` (with `model.weights.h5`) is a Keras `.keras`, members
///   ending in `.npy` an `.npz`;
/// - safetensors: a little-endian u64 header length N that fits in the file, then `{`;
/// - JSON: `{` as the first non-blank byte;
/// - a directory: a CSV dump when it has `manifest.csv`, otherwise a foreign dump of CSV/JSON weight files (read by
///   the CSV reader, which asks for `--arch`). ONNX has no magic; it is known by its extension only.
/// A `.h5` may be either HDF5 kind. Any other disagreement between extension and content is an error naming both.
enum FormatDetection {
    static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    static func detect(path: String) throws(ModelError) -> FileFormat {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.io(path: path, message: "no such file or directory")
        }
        if isDirectory.boolValue {
            // With manifest.csv a CSV dump; without, a foreign dump (CSVDump.read says it needs --arch).
            return .csv
        }
        let byExtension = formatFromExtension(path)
        let byContent = try formatFromContent(path)
        switch (byExtension, byContent) {
        case (nil, nil):
            throw ModelError.unsupported("cannot tell the format of '\(path)' from its name or its first bytes; use --from")
        case (let e?, nil):
            // ONNX has no magic; other formats must show theirs.
            if e == .onnx { return .onnx }
            throw ModelError.badMagic(format: e.rawValue, found: try describeStart(path))
        case (nil, let c?): return c
        case (let e?, let c?):
            if e == c { return c }
            if e == .h5 && c == .kerasH5 { return .kerasH5 }
            throw ModelError.unsupported("'\(path)' is named like a \(e.rawValue) file but holds a \(c.rawValue) file; use --from \(c.rawValue) if that is what you mean")
        }
    }

    static func formatFromExtension(_ path: String) -> FileFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".mkf") { return .mkf }
        if lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") { return .h5 }
        if lower.hasSuffix(".keras") { return .keras }
        if lower.hasSuffix(".safetensors") { return .safetensors }
        if lower.hasSuffix(".npz") { return .npz }
        if lower.hasSuffix(".json") { return .json }
        if lower.hasSuffix(".onnx") { return .onnx }
        return nil
    }

    static func readStart(_ path: String, count: Int, at offset: UInt64 = 0) throws(ModelError) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ModelError.io(path: path, message: "cannot open for reading") }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: offset)
            return Array(try handle.read(upToCount: count) ?? Data())
        } catch {
            throw ModelError.io(path: path, message: "read failed: \(error)")
        }
    }

    static func describeStart(_ path: String) throws(ModelError) -> String {
        let start = try readStart(path, count: 8)
        return start.isEmpty ? "(empty file)" : start.map { String(format: "%02x", $0) }.joined(separator: " ")
    }

    static func fileSize(_ path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    static func formatFromContent(_ path: String) throws(ModelError) -> FileFormat? {
        let start = try readStart(path, count: 16)
        if start.starts(with: MKFFile.magic) { return .mkf }
        for offset in [0, 512, 1024, 2048] {
            let at = offset == 0 ? start : try readStart(path, count: 8, at: UInt64(offset))
            if at.starts(with: hdf5Signature) { return try hdf5Kind(path) }
        }
        if start.starts(with: [0x50, 0x4B, 0x03, 0x04]) || start.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            let members = try SafeZip.memberNames(path: path)
            // config.json alone is enough to call it a .keras; the reader then names what else is missing.
            if members.contains("config.json") { return .keras }
            if members.contains(where: { $0.hasSuffix(".npy") }) || members.isEmpty { return .npz }
            return nil
        }
        if start.count >= 9 {
            let length = start.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            if start[8] == UInt8(ascii: "{"), length >= 2, length <= fileSize(path) - 8 { return .safetensors }
        }
        if let first = start.first(where: { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }), first == UInt8(ascii: "{") {
            return .json
        }
        return nil
    }

    /// Our layout or Keras's, from the root attributes.
    static func hdf5Kind(_ path: String) throws(ModelError) -> FileFormat? {
        do {
            return try HDF5.locked {
                let root = try H5File.open(path: path).root()
                if try HDF5Layout.isLayout(root: root) { return .h5 }
                if try root.hasAttribute("model_config") || root.has("model_weights") { return .kerasH5 }
                return nil
            }
        } catch let error as ModelError {
            throw error
        } catch {
            throw ModelError.format("\(error)")
        }
    }
}
