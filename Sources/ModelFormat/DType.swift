/// The element types a tensor can hold. Raw values are the names used in every ModelKit format.
public enum DType: String, CaseIterable, Sendable, Hashable {
    case f16, bf16, f32, f64, i8, u8, i16, i32, i64, bool

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .i8, .u8, .bool: return 1
        case .f16, .bf16, .i16: return 2
        case .f32, .i32: return 4
        case .f64, .i64: return 8
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .f16, .bf16, .f32, .f64: return true
        default: return false
        }
    }
}
