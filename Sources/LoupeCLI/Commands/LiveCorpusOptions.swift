import Analyses
import ArgumentParser
import Models
import Store

/// Options of training from live activations: corpus windows run through the model on demand.
struct LiveCorpusOptions: ParsableArguments {
    @Option(help: "Corpus file: .jsonl (\"text\" per line) or .txt (blank-line separated documents); windows run through the model live, nothing stored.")
    var corpus: String?
    @Option(help: "Tokens per corpus window.") var context: Int?
    @Option(name: .customLong("min-window"), help: "Fewest document tokens a last, partial window may have (default: a full window).")
    var minWindow: Int?
    @Option(name: .customLong("max-tokens"), help: "Train on the leading windows up to the one reaching this many tokens.")
    var maxTokens: Int?
    @Option(name: .customLong("buffer-rows"), help: "Rows per hook in the shuffle buffer.") var bufferRows = 16384
    @Option(name: .customLong("windows-per-pass"), help: "Windows per forward pass.") var windowsPerPass = 8

    func validate() throws {
        guard corpus != nil else {
            if context != nil || maxTokens != nil || minWindow != nil { throw ValidationError("--context, --min-window and --max-tokens go with --corpus") }
            return
        }
        guard context != nil else { throw ValidationError("--corpus needs --context N (tokens per window)") }
        if let maxTokens, maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1, not \(maxTokens)") }
        if bufferRows < 1 || windowsPerPass < 1 { throw ValidationError("--buffer-rows and --windows-per-pass must be at least 1") }
    }

    /// The training windows (the leading ones up to --max-tokens) and, when `heldOutTokens` > 0,
    /// the windows after them up to that many tokens.
    func windows(_ m: LoadedModel, prompt: PromptOptions, heldOutTokens: Int = 0) throws -> (train: [[Int]], heldOut: [[Int]]) {
        let windows = try CorpusWindows(context: context!, maxContext: m.config.contextLength, minWindow: minWindow,
                                        bos: prompt.addSpecial && m.tokenizer.spec.addBOS ? m.tokenizer.bosID : nil,
                                        eos: prompt.addSpecial && m.tokenizer.spec.addEOS ? m.tokenizer.eosID : nil)
        let all = try CaptureJob.Input.corpus(try CorpusFile.read(corpus!), path: corpus!, windows: windows, addSpecial: prompt.addSpecial,
                                              parseSpecial: !prompt.noParseSpecial, tokenizer: m.tokenizer,
                                              progress: Console.progress).prompts.map(\.tokens)
        let train = SAEEvaluation.select(all, maxTokens: maxTokens)
        let used = train.reduce(0) { $0 + $1.count }
        let heldOut = heldOutTokens > 0 ? SAEEvaluation.select(all, skipTokens: used, maxTokens: heldOutTokens) : []
        Console.progress("\(train.count) training windows (\(used) tokens) of \(context!) tokens from \(corpus!)"
                         + (heldOut.isEmpty ? "" : "; \(heldOut.count) held-out windows after them (--skip-tokens \(used) for `sae eval`)"))
        return (train, heldOut)
    }
}
