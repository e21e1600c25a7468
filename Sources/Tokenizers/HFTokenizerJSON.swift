import Foundation

/// Reads the parts of a Hugging Face `tokenizer.json` (and optional `tokenizer_config.json`)
/// that byte-level BPE needs, failing loudly on components it cannot reproduce.
struct HFTokenizerJSON {
    let path: String
    let root: [String: Any]

    init(path: String) throws {
        self.path = path
        root = try Self.readObject(path)
    }

    static func readObject(_ path: String) throws -> [String: Any] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenizerError.unreadableFile(path: path, detail: "cannot read: \(error.localizedDescription)")
        }
        guard let obj = try? JSONSerialization.jsonObject(with: data), let dict = obj as? [String: Any] else {
            throw TokenizerError.unreadableFile(path: path, detail: "not a JSON object")
        }
        return dict
    }

    func unsupported(_ component: String, _ detail: String) -> TokenizerError {
        .unsupportedComponent(source: path, component: component, detail: detail)
    }

    // MARK: model

    struct Model {
        var vocab: [String: Int]
        var merges: [String]
        var ignoreMerges: Bool
        var unknownToken: String?
    }

    func model() throws -> Model {
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError.missingKey(source: path, key: "model")
        }
        let type = model["type"] as? String ?? (model["merges"] != nil ? "BPE" : "(none)")
        guard type == "BPE" else { throw TokenizerError.unsupportedModel(source: path, model: type) }
        if model["byte_fallback"] as? Bool == true {
            throw unsupported("model", "byte_fallback BPE (SentencePiece-style) is not byte-level BPE")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = model[key] as? String, !affix.isEmpty {
                throw unsupported("model", "\(key) \(affix.debugDescription) (word-piece style affixes)")
            }
        }
        guard let rawVocab = model["vocab"] as? [String: Any] else {
            throw TokenizerError.missingKey(source: path, key: "model.vocab")
        }
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(rawVocab.count)
        for (k, v) in rawVocab {
            guard let id = (v as? NSNumber)?.intValue else { throw TokenizerError.missingKey(source: path, key: "model.vocab[\(k)]") }
            vocab[k] = id
        }
        var merges: [String] = []
        for (i, m) in (model["merges"] as? [Any] ?? []).enumerated() {
            if let s = m as? String {
                merges.append(s)
            } else if let pair = m as? [String], pair.count == 2 {
                merges.append(pair[0] + " " + pair[1])
            } else {
                throw TokenizerError.invalid(source: path, detail: "model.merges[\(i)] is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }
        return Model(vocab: vocab, merges: merges, ignoreMerges: model["ignore_merges"] as? Bool ?? false,
                     unknownToken: model["unk_token"] as? String)
    }

    // MARK: added tokens

    struct AddedToken {
        var id: Int
        var content: String
        var special: Bool
    }

    /// `added_tokens`. Their `lstrip`/`rstrip`/`single_word` flags are not honoured.
    func addedTokens() throws -> [AddedToken] {
        try (root["added_tokens"] as? [[String: Any]] ?? []).enumerated().map { i, t in
            guard let id = (t["id"] as? NSNumber)?.intValue, let content = t["content"] as? String else {
                throw TokenizerError.invalid(source: path, detail: "added_tokens[\(i)] lacks id or content")
            }
            return AddedToken(id: id, content: content, special: t["special"] as? Bool ?? false)
        }
    }

    // MARK: normalizer

    func normalization() throws -> TextNormalization {
        guard let n = root["normalizer"], !(n is NSNull) else { return .none }
        guard let dict = n as? [String: Any], let type = dict["type"] as? String else {
            throw unsupported("normalizer", "malformed")
        }
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Sequence":
            let parts = dict["normalizers"] as? [Any] ?? []
            if parts.isEmpty { return .none }
            if parts.count == 1 {
                return try HFTokenizerJSON(path: path, root: ["normalizer": parts[0]]).normalization()
            }
            throw unsupported("normalizer", "Sequence of \(parts.count) normalizers")
        default:
            throw unsupported("normalizer", "'\(type)' (only NFC/NFD/NFKC/NFKD)")
        }
    }

    init(path: String, root: [String: Any]) {
        self.path = path
        self.root = root
    }

    // MARK: pre-tokenizer

    /// The split rules and ByteLevel prefix-space flag, plus a short description.
    func preTokenizer() throws -> (patterns: [String], addPrefixSpace: Bool, description: String) {
        var patterns: [String] = []
        var addPrefixSpace = false
        var names: [String] = []
        var sawByteLevel = false

        func visit(_ node: Any, topLevelIndex: Int) throws {
            guard let dict = node as? [String: Any], let type = dict["type"] as? String else {
                throw unsupported("pre_tokenizer", "malformed entry")
            }
            switch type {
            case "Sequence":
                for (i, child) in (dict["pretokenizers"] as? [Any] ?? []).enumerated() {
                    try visit(child, topLevelIndex: i)
                }
                return
            case "ByteLevel":
                sawByteLevel = true
                if dict["add_prefix_space"] as? Bool == true {
                    guard topLevelIndex == 0 else {
                        throw unsupported("pre_tokenizer", "ByteLevel(add_prefix_space: true) after another pre-tokenizer")
                    }
                    addPrefixSpace = true
                }
                if dict["use_regex"] as? Bool ?? true { patterns.append(PreTokenizer.byteLevelPattern) }
            case "Split":
                let behavior = dict["behavior"] as? String ?? "Isolated"
                guard behavior == "Isolated", dict["invert"] as? Bool != true else {
                    throw unsupported("pre_tokenizer", "Split with behavior \(behavior), invert \(dict["invert"] ?? false)")
                }
                let pattern = dict["pattern"] as? [String: Any] ?? [:]
                if let regex = pattern["Regex"] as? String {
                    patterns.append(regex)
                } else if let literal = pattern["String"] as? String {
                    patterns.append(NSRegularExpression.escapedPattern(for: literal))
                } else {
                    throw unsupported("pre_tokenizer", "Split without a Regex or String pattern")
                }
            case "Digits":
                patterns.append(dict["individual_digits"] as? Bool == true ? #"\p{N}"# : #"\p{N}+"#)
            default:
                throw unsupported("pre_tokenizer", "'\(type)' (supported: ByteLevel, Split, Digits, Sequence)")
            }
            names.append(type)
        }

        if let node = root["pre_tokenizer"], !(node is NSNull) { try visit(node, topLevelIndex: 0) }
        guard sawByteLevel else {
            throw unsupported("pre_tokenizer", "no ByteLevel step; only byte-level BPE is supported")
        }
        return (patterns, addPrefixSpace, names.joined(separator: "+"))
    }

    // MARK: decoder

    func checkDecoder() throws {
        guard let d = root["decoder"] as? [String: Any] else { return }
        let type = d["type"] as? String ?? "?"
        if type == "ByteLevel" { return }
        if type == "Sequence", let parts = d["decoders"] as? [[String: Any]],
           parts.contains(where: { $0["type"] as? String == "ByteLevel" }) { return }
        throw unsupported("decoder", "'\(type)' (only ByteLevel)")
    }

    // MARK: post-processor

    /// BOS/EOS ids that `add_special_tokens` adds, from TemplateProcessing / Roberta / Bert.
    func specialsAdded() -> (bos: Int?, eos: Int?) {
        guard let pp = root["post_processor"] as? [String: Any] else { return (nil, nil) }
        return Self.specialsAdded(pp)
    }

    private static func specialsAdded(_ pp: [String: Any]) -> (bos: Int?, eos: Int?) {
        switch pp["type"] as? String {
        case "Sequence":
            var result: (bos: Int?, eos: Int?) = (nil, nil)
            for child in pp["processors"] as? [[String: Any]] ?? [] {
                let r = specialsAdded(child)
                result = (result.bos ?? r.bos, result.eos ?? r.eos)
            }
            return result
        case "TemplateProcessing":
            let table = pp["special_tokens"] as? [String: [String: Any]] ?? [:]
            func tokenID(_ name: String) -> Int? {
                (table[name]?["ids"] as? [NSNumber])?.first?.intValue
            }
            var bos: Int?, eos: Int?
            var seenSequence = false
            for piece in pp["single"] as? [[String: Any]] ?? [] {
                if piece["Sequence"] != nil { seenSequence = true; continue }
                guard let special = piece["SpecialToken"] as? [String: Any], let name = special["id"] as? String,
                      let id = tokenID(name) else { continue }
                if seenSequence { eos = eos ?? id } else { bos = bos ?? id }
            }
            return (bos, eos)
        case "RobertaProcessing", "BertProcessing":
            let cls = (pp["cls"] as? [Any])?.last as? NSNumber
            let sep = (pp["sep"] as? [Any])?.last as? NSNumber
            return (cls?.intValue, sep?.intValue)
        default:
            return (nil, nil)
        }
    }
}
