/// A typed metadata value.
public enum MetadataValue: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    case array([MetadataValue])
    case map([String: MetadataValue])
}

public typealias Metadata = [String: MetadataValue]
