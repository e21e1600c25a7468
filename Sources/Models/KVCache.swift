/// Keys and values of the positions a sequence has already been run over, per layer, so
/// that generation computes only the new token each step.
///
/// One cache belongs to one sequence. `count` is the number of cached positions; the next
/// pass over this sequence starts at position `count`.
public final class KVCache {
    /// Per layer, `[capacity, nKVHeads * headDim]` keys and values; rows `0..<count` are valid.
    var keys: [[Float]]
    var values: [[Float]]
    /// Cached positions.
    public private(set) var count = 0
    var capacity: Int
    let width: Int

    /// An empty cache for a model with `config`'s shape.
    public init(config: TransformerConfig, reserve: Int = 64) {
        width = config.nKVHeads * config.headDim
        capacity = max(reserve, 1)
        keys = Array(repeating: [Float](repeating: 0, count: capacity * width), count: config.nLayers)
        values = keys
    }

    /// Makes room for `extra` more positions (doubling the storage as needed).
    func reserve(extra: Int) {
        let needed = count + extra
        guard needed > capacity else { return }
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        for l in keys.indices {
            keys[l] += [Float](repeating: 0, count: (newCapacity - capacity) * width)
            values[l] += [Float](repeating: 0, count: (newCapacity - capacity) * width)
        }
        capacity = newCapacity
    }

    /// Marks `n` more positions as filled (after every layer has written them).
    func advance(by n: Int) { count += n }

    /// Forgets positions from `length` on (e.g. to rerun from a shared prefix).
    public func truncate(to length: Int) {
        precondition(length >= 0 && length <= count, "truncate(to: \(length)) of a cache of \(count)")
        count = length
    }

    /// A copy that can be extended independently (e.g. one prompt prefix, many continuations).
    public func copy() -> KVCache {
        let c = KVCache(width: width, keys: keys, values: values, capacity: capacity)
        c.count = count
        return c
    }

    private init(width: Int, keys: [[Float]], values: [[Float]], capacity: Int) {
        self.width = width
        self.keys = keys
        self.values = values
        self.capacity = capacity
    }
}
