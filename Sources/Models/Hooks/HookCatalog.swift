/// The hook points a model has, their shapes, and name lookup with suggestions.
extension TransformerConfig {
    /// Every hook point of this model, in forward order.
    public var hookPoints: [HookPoint] {
        var all: [HookPoint] = [.embed]
        if positionKind == .learned { all.append(.posEmbed) }
        for l in 0..<nLayers { all += HookPoint.blockKinds.map { $0(l) }.filter(hasHookPoint) }
        all.append(.finalNorm)
        return all
    }

    /// Whether `point` exists in this model.
    public func hasHookPoint(_ point: HookPoint) -> Bool {
        if point == .posEmbed { return positionKind == .learned }
        if case .rotQ = point, positionKind != .rotary { return false }
        if case .rotK = point, positionKind != .rotary { return false }
        if let l = point.layer { return l < nLayers }
        return true
    }

    /// Shape of the activation at `point` for a pass over `positions` new tokens whose keys
    /// span `keyPositions` (equal to `positions` without a KV cache).
    public func shape(of point: HookPoint, positions: Int, keyPositions: Int? = nil) -> [Int] {
        switch point {
        case .embed, .posEmbed, .residPre, .ln1Normalized, .attnOut, .residMid, .ln2Normalized, .mlpIn, .mlpOut, .residPost, .finalNorm:
            return [positions, dModel]
        case .q, .rotQ, .z: return [positions, nHeads, headDim]
        case .k, .rotK, .v: return [positions, nKVHeads, headDim]
        case .pattern: return [nHeads, positions, keyPositions ?? positions]
        case .mlpPre, .mlpPost: return [positions, dMLP]
        }
    }

    /// The hook point named `name`, or an error that lists the closest existing names.
    public func hookPoint(named name: String) throws -> HookPoint {
        if let point = HookPoint(name: name), hasHookPoint(point) { return point }
        let names = hookPoints.map(\.name)
        let scored = names.map { ($0, editDistance($0, name)) }.sorted { $0.1 < $1.1 }
        let best = scored.prefix(3).filter { $0.1 <= max(4, name.count / 3) }.map(\.0)
        throw ModelError.unknownHook(name: name, suggestions: best)
    }
}

/// Levenshtein distance between two strings, by Unicode scalars.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    if x.isEmpty { return y.count }
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        current[0] = i
        for j in 1...max(y.count, 1) where !y.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[y.count]
}
