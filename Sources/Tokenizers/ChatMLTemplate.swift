import Foundation

/// Renders ChatML-family chat templates (`<|im_start|>role\ncontent<|im_end|>\n`) without
/// a Jinja engine.
///
/// Recognised by the `<|im_start|>` marker in the template text. A default system message
/// (SmolLM2's "You are a helpful AI assistant named SmolLM, trained by Hugging Face", Qwen2's
/// "You are Qwen, ...") is read from the template's own string literal and inserted when the
/// first message is not a system message. Tool definitions, tool calls and reasoning blocks
/// that some ChatML templates render are not reproduced.
struct ChatMLTemplate: Sendable {
    /// The default system message, if the template has one.
    let defaultSystem: String?

    static let start = "<|im_start|>"
    static let end = "<|im_end|>"

    /// A quoted literal `<|im_start|>system` + newline + text + `<|im_end|>`, in either quote style.
    private static let defaultSystemRegex = try! NSRegularExpression(
        pattern: #"(['"])<\|im_start\|>system(?:\n|\\n)((?:(?!\1)[^\\]|\\.)*?)<\|im_end\|>"#,
        options: [.dotMatchesLineSeparators])

    /// - Throws: ``TokenizerError/unsupportedChatTemplate(detail:)`` if `template` is not ChatML.
    init(template: String) throws {
        guard template.contains(Self.start) else {
            let head = template.prefix(120).replacingOccurrences(of: "\n", with: "\\n")
            throw TokenizerError.unsupportedChatTemplate(
                detail: "only ChatML-family templates (containing <|im_start|>) are supported; this one begins: \(head)")
        }
        let ns = template as NSString
        if let m = Self.defaultSystemRegex.firstMatch(in: template, range: NSRange(location: 0, length: ns.length)) {
            defaultSystem = Self.unescapeJinja(ns.substring(with: m.range(at: 2)))
        } else {
            defaultSystem = nil
        }
    }

    /// Undoes Jinja/Python string-literal escapes (`\n`, `\t`, `\\`, `\'`, `\"`).
    static func unescapeJinja(_ s: String) -> String {
        var out = ""
        var it = s.makeIterator()
        while let c = it.next() {
            guard c == "\\", let e = it.next() else { out.append(c); continue }
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            default: out.append(e)
            }
        }
        return out
    }

    func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = ""
        if let system = defaultSystem, messages.first?.role != "system" {
            out += Self.start + "system\n" + system + Self.end + "\n"
        }
        for m in messages {
            out += Self.start + m.role + "\n" + m.content + Self.end + "\n"
        }
        if addGenerationPrompt { out += Self.start + "assistant\n" }
        return out
    }
}

extension Tokenizer {
    /// The prompt text the model's chat template produces for `messages` (encode it with
    /// `parseSpecial: true` so `<|im_start|>` etc. become single tokens).
    /// - Parameter addGenerationPrompt: end with the opening of an assistant turn.
    /// - Throws: ``TokenizerError/unsupportedChatTemplate(detail:)`` when the file has no
    ///   template or it is not ChatML-family.
    public func applyChatTemplate(messages: [ChatMessage], addGenerationPrompt: Bool) throws -> String {
        guard let template = spec.chatTemplate, !template.isEmpty else {
            throw TokenizerError.unsupportedChatTemplate(detail: "\(spec.source) has no chat template")
        }
        return try ChatMLTemplate(template: template).render(messages, addGenerationPrompt: addGenerationPrompt)
    }

    /// The default system message the chat template inserts, if any.
    public var defaultSystemPrompt: String? {
        guard let t = spec.chatTemplate else { return nil }
        return (try? ChatMLTemplate(template: t))?.defaultSystem
    }
}
