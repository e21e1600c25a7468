import Models

/// One edit of the forward pass by a direction: add it (steering) or project it out
/// (directional ablation), at chosen positions.
public struct SteeringIntervention: Sendable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// `x += scale * vector` on each selected row.
        case add
        /// `x -= (x . u - target) u` with `u` the unit direction: the row's projection on
        /// it becomes ``SteeringIntervention/ablationTarget``. With target 0 the row keeps
        /// nothing along it (Arditi et al. 2024's directional ablation); with the neutral
        /// text's mean projection it is a mean ablation along the direction.
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
    /// With ``Mode/ablate``: the projection on the unit direction every edited row ends with.
    public var ablationTarget: Double
    /// With ``Mode/ablate``: whether position 0 is ablated too. Off by default: in models
    /// without a BOS token position 0 is an attention sink with a huge norm (SmolLM2: about
    /// 22,800 at layer 12 against 143), and its projection on a direction is an artifact of
    /// that (-1,040 on the sentiment direction against -7 for other rows); ablating it
    /// disturbs every later position (KL 0.17 nats on neutral text against 0.011).
    public var ablatesFirstPosition: Bool

    /// Checks the direction against the model's hook point and width.
    public init(direction: SteeringDirection, config: TransformerConfig, mode: Mode = .add,
                scale: Double, positions: Positions = .all, ablationTarget: Double = 0,
                ablatesFirstPosition: Bool = false) throws {
        self.point = try direction.hookPoint(in: config)
        self.direction = direction
        self.mode = mode
        self.scale = scale
        self.positions = positions
        self.ablationTarget = ablationTarget
        self.ablatesFirstPosition = ablatesFirstPosition
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
            let w = unit.count, target = ablationTarget, first = ablatesFirstPosition ? 0 : 1
            hooks.modify(point) { act, ctx in
                act.withUnsafeMutableBufferPointer { buf in
                    let slices = buf.count / w
                    let perRow = slices / max(ctx.positions.count, 1)
                    for s in 0..<slices {
                        let position = ctx.positions.lowerBound + s / max(perRow, 1)
                        guard position >= first, selection.contains(position) else { continue }
                        let base = s * w
                        var p = -target
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
