/// A GGUF metadata array, held as one typed Swift array of its element type.
///
/// GGUF arrays are homogeneous, so a byte array is a `[UInt8]` (one byte of memory per byte
/// of file) and a string array a `[String]`, rather than one boxed ``GGUFValue`` per element
/// (which cost about 40 bytes per element). Elements are read back as ``GGUFValue`` on demand.
public struct GGUFArray: Sendable, Equatable, RandomAccessCollection, ExpressibleByArrayLiteral {
    /// The elements, by element type.
    public enum Storage: Sendable, Equatable {
        case uint8([UInt8]), int8([Int8]), uint16([UInt16]), int16([Int16]), uint32([UInt32]), int32([Int32])
        case float32([Float]), bool([Bool]), string([String]), array([GGUFArray])
        case uint64([UInt64]), int64([Int64]), float64([Double])
        /// Elements of differing types (only from ``init(_:)`` on such a list; never from a file).
        case mixed([GGUFValue])
    }

    public let storage: Storage

    public init(storage: Storage) { self.storage = storage }

    /// An array of `elements`, stored by the first element's type (an empty list: `uint8`, as
    /// the encoder writes it). Elements of differing types are kept as they are.
    public init(_ elements: [GGUFValue]) {
        func all<T>(_ get: (GGUFValue) -> T?) -> [T]? {
            var out: [T] = []
            out.reserveCapacity(elements.count)
            for e in elements {
                guard let v = get(e) else { return nil }
                out.append(v)
            }
            return out
        }
        let typed: Storage?
        switch elements.first {
        case nil: typed = .uint8([])
        case .uint8: typed = all { if case .uint8(let v) = $0 { v } else { nil } }.map(Storage.uint8)
        case .int8: typed = all { if case .int8(let v) = $0 { v } else { nil } }.map(Storage.int8)
        case .uint16: typed = all { if case .uint16(let v) = $0 { v } else { nil } }.map(Storage.uint16)
        case .int16: typed = all { if case .int16(let v) = $0 { v } else { nil } }.map(Storage.int16)
        case .uint32: typed = all { if case .uint32(let v) = $0 { v } else { nil } }.map(Storage.uint32)
        case .int32: typed = all { if case .int32(let v) = $0 { v } else { nil } }.map(Storage.int32)
        case .float32: typed = all { if case .float32(let v) = $0 { v } else { nil } }.map(Storage.float32)
        case .bool: typed = all { if case .bool(let v) = $0 { v } else { nil } }.map(Storage.bool)
        case .string: typed = all { if case .string(let v) = $0 { v } else { nil } }.map(Storage.string)
        case .array: typed = all { if case .array(let v) = $0 { v } else { nil } }.map(Storage.array)
        case .uint64: typed = all { if case .uint64(let v) = $0 { v } else { nil } }.map(Storage.uint64)
        case .int64: typed = all { if case .int64(let v) = $0 { v } else { nil } }.map(Storage.int64)
        case .float64: typed = all { if case .float64(let v) = $0 { v } else { nil } }.map(Storage.float64)
        }
        storage = typed ?? .mixed(elements)
    }

    public init(arrayLiteral elements: GGUFValue...) { self.init(elements) }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch storage {
        case .uint8(let a): a.count
        case .int8(let a): a.count
        case .uint16(let a): a.count
        case .int16(let a): a.count
        case .uint32(let a): a.count
        case .int32(let a): a.count
        case .float32(let a): a.count
        case .bool(let a): a.count
        case .string(let a): a.count
        case .array(let a): a.count
        case .uint64(let a): a.count
        case .int64(let a): a.count
        case .float64(let a): a.count
        case .mixed(let a): a.count
        }
    }

    /// Element `i` as a ``GGUFValue``.
    public subscript(i: Int) -> GGUFValue {
        switch storage {
        case .uint8(let a): .uint8(a[i])
        case .int8(let a): .int8(a[i])
        case .uint16(let a): .uint16(a[i])
        case .int16(let a): .int16(a[i])
        case .uint32(let a): .uint32(a[i])
        case .int32(let a): .int32(a[i])
        case .float32(let a): .float32(a[i])
        case .bool(let a): .bool(a[i])
        case .string(let a): .string(a[i])
        case .array(let a): .array(a[i])
        case .uint64(let a): .uint64(a[i])
        case .int64(let a): .int64(a[i])
        case .float64(let a): .float64(a[i])
        case .mixed(let a): a[i]
        }
    }

    /// The GGUF type id of the elements (`uint8` for an empty array; the first element's for mixed).
    public var elementTypeID: UInt32 {
        switch storage {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        case .mixed(let a): a.first.map(GGUFEncoder.typeID) ?? 0
        }
    }

    /// Bytes of memory the elements take: their stride times their count, plus the UTF-8 of
    /// strings longer than Swift's 15-byte inline form, plus nested arrays' own storage.
    public var storageBytes: Int {
        func bytes<T>(_ a: [T]) -> Int { a.count * MemoryLayout<T>.stride }
        switch storage {
        case .uint8(let a): return bytes(a)
        case .int8(let a): return bytes(a)
        case .uint16(let a): return bytes(a)
        case .int16(let a): return bytes(a)
        case .uint32(let a): return bytes(a)
        case .int32(let a): return bytes(a)
        case .float32(let a): return bytes(a)
        case .bool(let a): return bytes(a)
        case .string(let a): return a.reduce(bytes(a)) { $0 + ($1.utf8.count > 15 ? $1.utf8.count : 0) }
        case .array(let a): return a.reduce(bytes(a)) { $0 + $1.storageBytes }
        case .uint64(let a): return bytes(a)
        case .int64(let a): return bytes(a)
        case .float64(let a): return bytes(a)
        case .mixed(let a): return bytes(a)
        }
    }

    /// The elements as strings, when they are strings.
    public var strings: [String]? {
        if case .string(let a) = storage { return a }
        return isEmpty ? [] : nil
    }

    /// The elements as `Int`s, when they are integers that fit.
    public var ints: [Int]? {
        switch storage {
        case .uint8(let a): return a.map(Int.init)
        case .int8(let a): return a.map(Int.init)
        case .uint16(let a): return a.map(Int.init)
        case .int16(let a): return a.map(Int.init)
        case .uint32(let a): return a.map(Int.init)
        case .int32(let a): return a.map(Int.init)
        case .int64(let a): return a.map(Int.init)
        case .uint64(let a):
            var out: [Int] = []
            out.reserveCapacity(a.count)
            for v in a {
                guard let i = Int(exactly: v) else { return nil }
                out.append(i)
            }
            return out
        default: return elementwise(\.int)
        }
    }

    /// Every element through `get`, or nil when one gives nil.
    private func elementwise<T>(_ get: (GGUFValue) -> T?) -> [T]? {
        var out: [T] = []
        out.reserveCapacity(count)
        for v in self {
            guard let x = get(v) else { return nil }
            out.append(x)
        }
        return out
    }

    /// The elements as `Double`s, when they are numbers.
    public var doubles: [Double]? {
        switch storage {
        case .float32(let a): return a.map(Double.init)
        case .float64(let a): return a
        case .uint64(let a): return a.map(Double.init)
        default: return elementwise(\.double)
        }
    }
}
