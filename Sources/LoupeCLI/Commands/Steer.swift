import Analyses
import ArgumentParser
import Foundation
import Models
import Store
import Tokenizers

extension SteeringIntervention.Mode: ExpressibleByArgument {}
extension SteeringExperiment.AblationTarget: ExpressibleByArgument {}
extension SteeringIntervention.Positions: ExpressibleByArgument {}
extension SteeringSweep.Method: ExpressibleByArgument {}
extension PositionRule: ExpressibleByArgument {}

extension Loupe {
    /// `loupe steer derive|apply|sweep|actadd`: steering vectors.
    struct Steer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Steering vectors: derive a direction, generate with it, sweep layers and strengths.",
            discussion: """
            A direction is a vector added to (or projected out of) one hook point during the \
            forward pass, usually the residual stream after a middle block. `derive` makes one \
            from contrastive pairs (difference of means, CAA; or the first principal component \
            of the paired differences, repeng), from one pair of prompts (pooled ActAdd), from a .npy \
            vector or from a saved probe's weights (--probe), and saves it as JSON (optionally also as a llama.cpp control vector GGUF). \
            `apply` generates with and without it and reports the effect (concept tokens' \
            probability; a probe's probability with --probe) and the fluency cost. \
            `sweep` measures effect and cost over layers x strengths without generating. \
            `actadd` is Turner et al.'s ActAdd: a prompt pair's activation difference, position \
            by position, added to the first positions of each prompt at one layer.

            Position 0 is left out of every mean and norm: in SmolLM2 its residual stream is an \
            attention sink with ~100x the norm of the other positions.

            Example: loupe steer derive --pairs probes/steering/sentiment-pairs.jsonl --layer 12 --out sentiment.json
                     loupe steer apply --direction sentiment.json --prompt "The weather today is" --strengths gentle,strong
            """,
            subcommands: [Derive.self, Apply.self, Sweep.self, ActAdd.self])
    }
}

/// Shared inputs of the steer subcommands.
enum SteerInputs {
    /// Default held-out neutral text (for norms and KL), relative to the working directory.
    static let defaultNeutral = "probes/steering/neutral.txt"

    /// The texts of a prompt file (`.txt` one per line, `.jsonl` / `.tsv` with `text`).
    static func texts(_ path: String) throws -> [String] {
        try PromptFile.read(path).map(\.text)
    }

    /// `texts` as user messages in the model's chat template (with the assistant's turn
    /// opened), or unchanged without `chat`.
    static func prompts(_ texts: [String], chat: Bool, _ m: LoadedModel) throws -> [String] {
        guard chat else { return texts }
        return try texts.map { try m.tokenizer.applyChatTemplate(messages: [ChatMessage(role: "user", content: $0)], addGenerationPrompt: true) }
    }

    /// The neutral text: `path`, or the default file.
    static func neutral(_ path: String?) throws -> [String] {
        let p = path ?? defaultNeutral
        guard FileManager.default.fileExists(atPath: p) else {
            throw ValidationError(path == nil ? "no --neutral file given and \(defaultNeutral) is not here (run from the repository root or pass --neutral FILE)"
                                              : "neutral text file not found: \(p)")
        }
        return try texts(p)
    }

    /// The saved probe of `--probe PATH [--class NAME]`, if given.
    static func probe(_ path: String?, className: String?) throws -> SteeringProbe? {
        guard let path else { return nil }
        do { return try SteeringProbe(path: path, className: className) } catch SteeringError.probeClassNotChosen(let path, let classes) {
            throw ValidationError("\(path): cannot steer with this probe: it has \(classes.count) classes (\(classes.joined(separator: ", "))): choose one with --class NAME")
        }
    }

    /// Comma-separated single tokens, leading spaces kept (" great, happy" is " great" and " happy").
    static func conceptTokens(_ list: String?, _ m: LoadedModel) throws -> [Int] {
        guard let list, !list.isEmpty else { return [] }
        return try list.split(separator: ",").map { try singleToken(String($0), m) }
    }

    /// Comma-separated strengths.
    static func strengths(_ list: String) throws -> [SteeringStrength] {
        let parsed = list.split(separator: ",").map { ($0, SteeringStrength(parsing: String($0))) }
        if let bad = parsed.first(where: { $0.1 == nil }) {
            throw ValidationError("unknown strength '\(bad.0)': use gentle, medium, strong, raw:A (or a number A), norm:K (or Kx), kl:T")
        }
        if parsed.isEmpty { throw ValidationError("--strengths names no strength") }
        return parsed.map { $0.1! }
    }

    /// `all`, `a,b,c` or `a-b`, checked against the model.
    static func layers(_ text: String, count: Int) throws -> [Int] {
        if text == "all" { return Array(0..<count) }
        var out: [Int] = []
        for part in text.split(separator: ",") {
            let ends = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard let first = ends.first ?? nil, ends.count <= 2, ends.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--layers: '\(part)' is not a layer or range a-b")
            }
            let last = ends.count == 2 ? ends[1]! : first
            guard first >= 0, last < count, first <= last else { throw ValidationError("--layers: '\(part)' is outside 0..<\(count)") }
            out += Array(first...last)
        }
        return out
    }
}
