/// A safetensors element type (the header's `dtype` string).
///
/// All dtypes of the format parse (so sizes can be checked); only ``isConvertible`` ones
/// can be read as Float32.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3: 1
        case .i16, .u16, .f16, .bf16: 2
        case .i32, .u32, .f32: 4
        case .f64, .i64, .u64: 8
        }
    }

    /// The matching ggml type, for the dtypes that convert to Float32 (F32, F16, BF16).
    var ggmlType: GGMLType? {
        switch self {
        case .f32: .f32
        case .f16: .f16
        case .bf16: .bf16
        default: nil
        }
    }

    /// Whether ``SafetensorsCheckpoint/tensor(_:)`` can read this dtype.
    public var isConvertible: Bool { ggmlType != nil }
}
