import Models

/// One edit of the forward pass by a direction: add it (steering) or project it out
/// (directional ablation), at chosen positions.
public struct SteeringIntervention: Sendable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// `x += scale * vector` on each selected row.
        case add
        /// `x -= (x . u) u` with `u` the unit direction: the row keeps nothing along it
        /// (Arditi et al. 2024's directional ablation).
        case ablate
    }

    /// Which positions are edited, relative to the prompt.
    public enum Positions: String, Sendable, Codable, CaseIterable {
        /// The prompt and every generated token.
        case all
        /// Only the prompt's positions (`< promptLength`).
        case prompt
        /// Only generated positions (`>= promptLength`).
        case generated

        /// The absolute-position selection for a prompt of `promptLength` tokens.
        public func selection(promptLength: Int) -> PositionSelection {
            switch self {
            case .all: return .all
            case .prompt: return .before(promptLength)
            case .generated: return .from(promptLength)
            }
        }
    }

    public var direction: SteeringDirection
    public var point: HookPoint
    public var mode: Mode
    /// The raw scale for ``Mode/add`` (resolve a ``SteeringStrength`` first); unused when ablating.
    public var scale: Double
    public var positions: Positions

    /// Checks the direction against the model's hook point and width.
    public init(direction: SteeringDirection, config: TransformerConfig, mode: Mode = .add,
                scale: Double, positions: Positions = .all) throws {
        self.point = try direction.hookPoint(in: config)
        self.direction = direction
        self.mode = mode
        self.scale = scale
        self.positions = positions
    }

    /// Adds this edit's hook to `hooks` for a prompt of `promptLength` tokens. A zero scale
    /// (or a zero vector) adds no hook at all, so the pass is exactly the unsteered one.
    public func install(into hooks: inout HookSet, promptLength: Int) {
        let selection = positions.selection(promptLength: promptLength)
        switch mode {
        case .add:
            guard scale != 0, direction.vector.contains(where: { $0 != 0 }) else { return }
            hooks.add(direction.vector, at: point, scale: Float(scale), positions: selection)
        case .ablate:
            let unit = direction.unit.map(Double.init)
            guard unit.contains(where: { $0 != 0 }) else { return }
            let w = unit.count
            hooks.modify(point) { act, ctx in
                act.withUnsafeMutableBufferPointer { buf in
                    let slices = buf.count / w
                    let perRow = slices / max(ctx.positions.count, 1)
                    for s in 0..<slices where selection.contains(ctx.positions.lowerBound + s / max(perRow, 1)) {
                        let base = s * w
                        var p = 0.0
                        for j in 0..<w { p += Double(buf[base + j]) * unit[j] }
                        for j in 0..<w { buf[base + j] = Float(Double(buf[base + j]) - p * unit[j]) }
                    }
                }
            }
        }
    }

    /// A hook set holding all of `interventions`, in order.
    public static func hooks(_ interventions: [SteeringIntervention], promptLength: Int) -> HookSet {
        var hooks = HookSet()
        for i in interventions { i.install(into: &hooks, promptLength: promptLength) }
        return hooks
    }
}
