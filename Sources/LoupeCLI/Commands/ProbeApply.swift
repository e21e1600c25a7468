import ArgumentParser
import Foundation
import Linalg
import Models
import Probes
import Store

extension Loupe {
    /// `loupe probe apply`.
    struct ProbeApply: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Run a saved probe on prompts through a live forward pass.",
            discussion: """
            Reads the probe file (best-probe.json or probe-<hook>.json from `loupe probe train`), \
            runs each prompt through the model while reading the probe's hook at its position \
            (last token; the last token of the "subject" field or --subject; or the mean over \
            positions 1..n), and prints the predicted class and each class's probability \
            (logistic probes; ridge and difference-of-means probes print a softmax of their \
            scores, which orders classes but is not calibrated). With a JSONL --input whose lines \
            carry the probe's label field, accuracy is printed too. A row whose norm is above the \
            probe's outlier threshold is flagged: the probe never saw such rows.
            """)

        @OptionGroup var modelOptions: ModelOptions
        @OptionGroup var promptOptions: PromptOptions
        @Option(help: "The probe file.") var probe: String
        @Option(help: "A prompt (repeatable).") var prompt: [String] = []
        @Option(help: "Prompt file: .txt, .jsonl or .tsv.") var input: String?
        @Option(help: "The subject, for a probe read at the subject's last token with --prompt.") var subject: String?
        @Option(help: "Prompts per forward pass.") var batchSize = 16
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text

        func validate() throws {
            if prompt.isEmpty == (input == nil) { throw ValidationError("give --prompt TEXT (one or more) or --input FILE") }
            if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        }

        struct Entry: Encodable {
            let text: String; let predicted: String; let probabilities: [String: Double]
            let label: String?; let outlier: Bool
        }
        struct Output: Encodable { let hook: String; let position: String; let entries: [Entry]; let accuracy: Double? }

        func run() throws {
            let file = try ProbeFile.load(probe)
            let records = try input.map(PromptFile.read)
                ?? prompt.enumerated().map { PromptRecord(text: $1, metadata: subject.map { ["subject": .string($0)] } ?? [:], line: $0 + 1) }
            let m = try modelOptions.load()
            let application = try ProbeApplication(file: file, path: probe, model: m)
            if let warning = application.modelWarning { Console.progress(warning) }
            let ids = try records.map { try promptOptions.encode($0.text, with: m) }
            let predictions = try application.predict(records, tokens: ids, origin: input ?? "--prompt", batchSize: batchSize,
                                                      progress: Console.progress)
            let classes = file.probe.classes
            let entries = zip(records, predictions).map { r, p in
                Entry(text: r.text, predicted: classes[p.predicted],
                      probabilities: Dictionary(uniqueKeysWithValues: zip(classes, p.probabilities)),
                      label: r.metadata[file.label].map(\.text), outlier: p.outlier)
            }
            let labelled = entries.filter { $0.label != nil }
            let accuracy = labelled.isEmpty ? nil : Double(labelled.filter { $0.label == $0.predicted }.count) / Double(labelled.count)
            if format == .json { return try Console.json(Output(hook: file.hook, position: file.position.rawValue, entries: entries, accuracy: accuracy)) }
            Console.out("probe \(file.probe.kind.rawValue) at \(file.hook), position \(file.position.rawValue): \(file.dataset) / \(file.label)")
            for e in entries {
                let probs = classes.map { "\($0) \(String(format: "%.3f", e.probabilities[$0]!))" }.joined(separator: "  ")
                let mark = e.label.map { $0 == e.predicted ? "  (label \($0): right)" : "  (label \($0): wrong)" } ?? ""
                Console.out("\(e.predicted.padding(toLength: max(8, classes.map(\.count).max()!), withPad: " ", startingAt: 0))  \(probs)  \(e.text)\(mark)\(e.outlier ? "  [outlier: norm above the probe's threshold]" : "")")
            }
            if let accuracy { Console.out(String(format: "accuracy %.3f on %d labelled prompt(s)", accuracy, labelled.count)) }
        }
    }
}
