/// The one check of a model's configuration, run by ``ModelLoader`` after a family reads it
/// from the file and before any tensor is read, loop is run or buffer is sized from it.
extension TransformerConfig {
    /// Largest size accepted for any one dimension (vocabulary, widths, layers, context):
    /// far above any model that fits in memory, low enough that products of a few stay
    /// well inside 64 bits.
    public static let maxDimension = 1 << 31

    /// Throws ``ModelError/badMetadata(file:key:reason:)`` naming `file` and the value that
    /// cannot work: sizes that are not positive, heads that do not divide, KV heads that do not
    /// divide the heads, a RoPE head width that is odd, norm epsilons or RoPE bases that are not
    /// finite and positive, rescaling factors that are not, and tensor sizes whose element
    /// counts overflow.
    public func validate(file: String) throws {
        func bad(_ key: String, _ reason: String) -> ModelError { .badMetadata(file: file, key: key, reason: reason) }
        let sizes: [(String, Int)] = [
            ("vocabulary size", vocabSize), ("embedding width (d_model)", dModel), ("layer count", nLayers),
            ("head count", nHeads), ("KV head count", nKVHeads), ("head width", headDim),
            ("MLP width", dMLP), ("context length", contextLength),
        ]
        for (key, v) in sizes where !(1...Self.maxDimension).contains(v) {
            throw bad(key, "is \(v), expected a size between 1 and \(Self.maxDimension)")
        }
        guard nHeads % nKVHeads == 0 else {
            throw bad("KV head count", "is \(nKVHeads), which does not divide the \(nHeads) query heads")
        }
        if positionKind == .rotary && headDim % 2 != 0 {
            throw bad("head width", "is \(headDim); rotary embeddings rotate pairs, so it must be even")
        }
        guard normEps.isFinite && normEps > 0 else { throw bad("norm epsilon", "is \(normEps), expected a finite number > 0") }
        if positionKind == .rotary {
            guard ropeTheta.isFinite && ropeTheta > 0 else { throw bad("RoPE base (rope_theta)", "is \(ropeTheta), expected a finite number > 0") }
            try validateScaling(bad)
        }
        // Every weight's element count, and the widest activation buffers, fit in 64 bits.
        let products: [(String, [Int])] = [
            ("token embedding", [vocabSize, dModel]), ("query projection", [nHeads, headDim, dModel]),
            ("MLP projection", [dMLP, dModel]), ("all layers' weights", [nLayers, 4, Swift.max(dMLP, nHeads * headDim), dModel]),
            ("attention scores", [nHeads, contextLength, contextLength]), ("position embedding", [contextLength, dModel]),
        ]
        for (what, factors) in products {
            var n = 1
            for f in factors {
                let (p, overflow) = n.multipliedReportingOverflow(by: f)
                if overflow { throw bad(what, "sizes \(factors) overflow 64 bits") }
                n = p
            }
        }
    }

    func validateScaling(_ bad: (String, String) -> ModelError) throws {
        switch ropeScaling {
        case nil: return
        case .linear(let factor):
            guard factor.isFinite && factor > 0 else { throw bad("rope scaling factor", "is \(factor), expected a finite number > 0") }
        case let .llama3(factor, low, high, original):
            guard [factor, low, high].allSatisfy({ $0.isFinite && $0 > 0 }), high != low, original >= 1 else {
                throw bad("rope scaling (llama3)", "factor \(factor), low \(low), high \(high), original context \(original): expected finite factors > 0 with high != low")
            }
        case .explicitFactors(let f):
            guard f.count == ropeDim / 2 else {
                throw bad("rope_freqs", "holds \(f.count) factors; the head width \(headDim) needs \(ropeDim / 2)")
            }
            if let x = f.first(where: { !($0.isFinite && $0 > 0) }) { throw bad("rope_freqs", "holds \(x), expected finite factors > 0") }
        }
    }
}
