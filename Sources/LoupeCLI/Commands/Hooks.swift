import ArgumentParser
import Models

extension Loupe {
    /// `loupe hooks`: every hook point with its shape.
    struct Hooks: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every hook point of the model with its activation shape.",
            discussion: """
            Shapes are per sequence; 'pos' is the number of positions a pass computes and \
            'keys' the positions attended to (equal without a KV cache). Per-head points \
            (q, k, v, z, pattern) show their head axis.
            """)

        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "Only points whose name contains this text.") var filter: String?
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        struct Entry: Encodable { let name: String; let shape: [String] }

        func run() throws {
            let c = try modelOptions.load().config
            let entries = c.hookPoints.filter { filter == nil || $0.name.contains(filter!) }.map { p in
                Entry(name: p.name, shape: c.shape(of: p, positions: -1, keyPositions: -2).map {
                    $0 == -1 ? "pos" : $0 == -2 ? "keys" : String($0)
                })
            }
            if format == .json { return try Console.json(entries) }
            let w = entries.map(\.name.count).max() ?? 0
            for e in entries {
                Console.out(e.name.padding(toLength: w, withPad: " ", startingAt: 0) + "  [" + e.shape.joined(separator: ", ") + "]")
            }
            Console.out("\(entries.count) hook points")
        }
    }
}
