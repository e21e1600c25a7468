import Foundation
import Store

/// A concept set in the `probes/concepts` layout: sentences labelled by concept (`neutral`
/// for none) in `concepts.jsonl` (`text`, `concept`), and per concept the words whose
/// next-token probability is its steering effect in `concept-words.json`.
public struct ConceptSet: Sendable {
    public struct Sentence: Sendable, Equatable {
        public var text: String
        /// The concept, or nil for a neutral sentence.
        public var concept: String?
    }

    public var sentences: [Sentence]
    /// Concept names in file order (neutral not included).
    public var concepts: [String]
    /// Per concept, its words (with their leading space, as in the vocabulary).
    public var words: [String: [String]]

    public init(sentences: [Sentence], words: [String: [String]]) {
        self.sentences = sentences
        var seen: [String] = []
        for s in sentences { if let c = s.concept, !seen.contains(c) { seen.append(c) } }
        concepts = seen
        self.words = words
    }

    /// The neutral sentences' texts.
    public var neutral: [String] { sentences.filter { $0.concept == nil }.map(\.text) }

    /// Reads `folder/concepts.jsonl` and `folder/concept-words.json`.
    /// - Throws: `StoreError` for an unreadable prompt file; ``SNMFError/badFile(path:reason:)``
    ///   for a sentence without a `concept` field, unreadable words or a concept without words.
    public static func read(folder: String) throws -> ConceptSet {
        let url = URL(fileURLWithPath: folder)
        let prompts = url.appendingPathComponent("concepts.jsonl").path
        let sentences = try PromptFile.read(prompts).map { r -> Sentence in
            guard case .string(let c)? = r.metadata["concept"] else {
                throw SNMFError.badFile(path: prompts, reason: "line \(r.line) has no string \"concept\" field")
            }
            return Sentence(text: r.text, concept: c == "neutral" ? nil : c)
        }
        let wordsPath = url.appendingPathComponent("concept-words.json").path
        let words: [String: [String]]
        do { words = try JSONDecoder().decode([String: [String]].self, from: Data(contentsOf: URL(fileURLWithPath: wordsPath))) } catch {
            throw SNMFError.badFile(path: wordsPath, reason: "not a JSON object of concept -> word list: \(error)")
        }
        let set = ConceptSet(sentences: sentences, words: words)
        if let missing = set.concepts.first(where: { (words[$0] ?? []).isEmpty }) {
            throw SNMFError.badFile(path: wordsPath, reason: "concept \(missing) has no words")
        }
        guard !set.concepts.isEmpty, !set.neutral.isEmpty else {
            throw SNMFError.badFile(path: prompts, reason: "needs sentences of at least one concept and neutral ones")
        }
        return set
    }

    /// Keeps the first `count` concepts (and every neutral sentence).
    public func prefix(_ count: Int) -> ConceptSet {
        let kept = Set(concepts.prefix(count))
        return ConceptSet(sentences: sentences.filter { $0.concept.map(kept.contains) ?? true }, words: words.filter { kept.contains($0.key) })
    }
}
