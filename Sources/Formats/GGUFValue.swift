/// A GGUF metadata value: one of the 13 GGUF value types. Arrays are ``GGUFArray``s, which
/// hold their elements as one typed Swift array (not one boxed value per element).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    /// An array; GGUF arrays are homogeneous (every element has the array's element type).
    case array(GGUFArray)
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The value as an `Int` when it is an integer type whose value fits.
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// The value as a `Double` when it is a float or integer type.
    public var double: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        case .uint64(let v): Double(v)
        default: int.map(Double.init)
        }
    }

    /// The string, when the value is one.
    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The boolean, when the value is one.
    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, when the value is an array.
    public var array: GGUFArray? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The elements as strings, when the value is an array of strings.
    public var strings: [String]? { array?.strings }

    /// The elements as `Int`s, when the value is an array of integers that fit.
    public var ints: [Int]? { array?.ints }

    /// The elements as `Double`s, when the value is an array of numbers.
    public var doubles: [Double]? { array?.doubles }

    /// The GGUF type name: `uint32`, `string`, `array[string]`, ...
    public var typeName: String {
        switch self {
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .uint32: "uint32"
        case .int32: "int32"
        case .float32: "float32"
        case .bool: "bool"
        case .string: "string"
        case .array(let a): "array[\(a.first?.typeName ?? "")]"
        case .uint64: "uint64"
        case .int64: "int64"
        case .float64: "float64"
        }
    }
}

extension GGUFValue: CustomStringConvertible {
    /// The value, with long arrays and strings abbreviated.
    public var description: String {
        switch self {
        case .uint8(let v): "\(v)"
        case .int8(let v): "\(v)"
        case .uint16(let v): "\(v)"
        case .int16(let v): "\(v)"
        case .uint32(let v): "\(v)"
        case .int32(let v): "\(v)"
        case .float32(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .string(let s): s.count > 60 ? "\"\(s.prefix(57))...\" (\(s.utf8.count) bytes)" : "\"\(s)\""
        case .array(let a):
            "[" + a.prefix(6).map(\.description).joined(separator: ", ")
                + (a.count > 6 ? ", ... (\(a.count) elements)" : "") + "]"
        case .uint64(let v): "\(v)"
        case .int64(let v): "\(v)"
        case .float64(let v): "\(v)"
        }
    }
}
