/// A typed metadata value.
public enum MetadataValue: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    case array([MetadataValue])
    case map([String: MetadataValue])
}

extension MetadataValue {
    /// Floats compare by bit pattern, so a NaN equals itself and -0.0 differs from 0.0, as tensors do.
    public static func == (a: MetadataValue, b: MetadataValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.float(let x), .float(let y)): return x.bitPattern == y.bitPattern
        case (.bool(let x), .bool(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.map(let x), .map(let y)): return x == y
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .string(let v): hasher.combine(0); hasher.combine(v)
        case .integer(let v): hasher.combine(1); hasher.combine(v)
        case .float(let v): hasher.combine(2); hasher.combine(v.bitPattern)
        case .bool(let v): hasher.combine(3); hasher.combine(v)
        case .array(let v): hasher.combine(4); hasher.combine(v)
        case .map(let v): hasher.combine(5); hasher.combine(v)
        }
    }
}

public typealias Metadata = [String: MetadataValue]
