import Foundation

/// Unicode normalization applied to plain text before pre-tokenization (a tokenizer.json
/// `normalizer`; GGUF byte-level vocabularies use none).
public enum TextNormalization: String, Sendable {
    case none, nfc, nfd, nfkc, nfkd

    func apply(_ s: String) -> String {
        switch self {
        case .none: return s
        case .nfc: return s.precomposedStringWithCanonicalMapping
        case .nfd: return s.decomposedStringWithCanonicalMapping
        case .nfkc: return s.precomposedStringWithCompatibilityMapping
        case .nfkd: return s.decomposedStringWithCompatibilityMapping
        }
    }
}
