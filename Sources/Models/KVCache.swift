import Linalg

/// Keys and values of the positions a sequence has already been run over, per layer, so
/// that generation computes only the new token each step, and sweeps can resume from a
/// shared prefix.
///
/// One cache belongs to one sequence. `count` is the number of cached positions; the next
/// pass over this sequence starts at position `count`.
public final class KVCache {
    /// Per layer, `[capacity, nKVHeads * headDim]` keys and values; rows `0..<count` are valid.
    private var keys: [FloatBuffer]
    private var values: [FloatBuffer]
    /// Cached positions.
    public private(set) var count = 0
    private(set) var capacity: Int
    let width: Int
    /// Layers below this one hold no storage (a copy made for a pass resuming there).
    private let firstLayer: Int

    /// An empty cache for a model with `config`'s shape, with room for `reserve` positions.
    public init(config: TransformerConfig, reserve: Int = 64) {
        width = config.nKVHeads * config.headDim
        firstLayer = 0
        capacity = max(reserve, 1)
        keys = (0..<config.nLayers).map { _ in FloatBuffer(count: max(reserve, 1) * config.nKVHeads * config.headDim) }
        values = (0..<config.nLayers).map { _ in FloatBuffer(count: max(reserve, 1) * config.nKVHeads * config.headDim) }
    }

    private init(width: Int, layers: Int, capacity: Int, firstLayer: Int) {
        self.width = width
        self.capacity = capacity
        self.firstLayer = firstLayer
        keys = (0..<layers).map { FloatBuffer(count: $0 < firstLayer ? 0 : capacity * width) }
        values = (0..<layers).map { FloatBuffer(count: $0 < firstLayer ? 0 : capacity * width) }
    }

    /// Keys of `layer`, `[capacity, nKVHeads * headDim]`. Valid until the next `reserve`.
    func keyPointer(layer: Int) -> UnsafeMutablePointer<Float> {
        precondition(layer >= firstLayer, "layer \(layer) of a cache copied from layer \(firstLayer)")
        return keys[layer].pointer
    }
    /// Values of `layer`, `[capacity, nKVHeads * headDim]`. Valid until the next `reserve`.
    func valuePointer(layer: Int) -> UnsafeMutablePointer<Float> {
        precondition(layer >= firstLayer, "layer \(layer) of a cache copied from layer \(firstLayer)")
        return values[layer].pointer
    }

    /// Makes room for `extra` more positions (doubling the storage as needed).
    func reserve(extra: Int) {
        let needed = count + extra
        guard needed > capacity else { return }
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        for l in firstLayer..<keys.count {
            keys[l] = grow(keys[l], to: newCapacity)
            values[l] = grow(values[l], to: newCapacity)
        }
        capacity = newCapacity
    }

    private func grow(_ b: FloatBuffer, to newCapacity: Int) -> FloatBuffer {
        let n = FloatBuffer(count: newCapacity * width)
        n.pointer.update(from: b.pointer, count: count * width)
        return n
    }

    /// Marks `n` more positions as filled (after every layer has written them).
    func advance(by n: Int) { count += n }

    /// Forgets positions from `length` on (e.g. to rerun from a shared prefix).
    public func truncate(to length: Int) {
        precondition(length >= 0 && length <= count, "truncate(to: \(length)) of a cache of \(count)")
        count = length
    }

    /// A copy of the first `length` positions (all by default) with room for `reserve` more,
    /// which can be extended independently: one prompt prefix, many continuations. Only the
    /// layers from `fromLayer` on are copied (the others get no storage and must not be run),
    /// for a pass that resumes there.
    public func copy(prefix length: Int? = nil, reserve: Int = 0, fromLayer: Int = 0) -> KVCache {
        let n = length ?? count
        precondition(n >= 0 && n <= count, "copy(prefix: \(n)) of a cache of \(count)")
        precondition(fromLayer >= firstLayer, "copy(fromLayer: \(fromLayer)) of a cache holding layers \(firstLayer)...")
        let c = KVCache(width: width, layers: keys.count, capacity: max(n + reserve, 1), firstLayer: fromLayer)
        for l in fromLayer..<keys.count {
            c.keys[l].pointer.update(from: keys[l].pointer, count: n * width)
            c.values[l].pointer.update(from: values[l].pointer, count: n * width)
        }
        c.count = n
        return c
    }
}
