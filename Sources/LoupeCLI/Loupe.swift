import ArgumentParser

/// The `loupe` command: an interpretability workbench for transformer language models.
public struct Loupe: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "loupe",
        abstract: "An interpretability workbench for transformer language models.",
        discussion: """
        Loupe runs a model's forward pass on the CPU with every activation open to reading \
        and editing at named hook points (TransformerLens names), and builds analyses on top.

        The default model is SmolLM2-135M-Instruct (Q4_1 GGUF), fetched by scripts/setup.sh \
        into ~/.cache/loupe/models. Use --model PATH (a .gguf file or a Hugging Face folder \
        with config.json, safetensors and tokenizer.json) or LOUPE_MODEL to choose another.
        """,
        version: version,
        subcommands: [Info.self, Hooks.self, Tokenize.self, Run.self, Generate.self, Trace.self, Patch.self, Knockout.self, Capture.self, StoreCommand.self, Probe.self, NotebookCommand.self, Steer.self, SAE.self, SNMF.self, Graph.self, ReportCommand.self]
    )

    public init() {}
}
