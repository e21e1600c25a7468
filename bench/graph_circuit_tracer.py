#!/usr/bin/env python3
"""circuit-tracer's side of `bench/graph_compare.sh`: the attribution graph of one prompt on the
default model (SmolLM2-135M, the GGUF dequantized by `transformers`, run by TransformerLens)
with Loupe's transcoder set (SET/transcoders.json + layer-<L>/ SAELens folders, loaded into
circuit-tracer's SingleLayerTranscoders with Loupe's TopK activation: the k largest of
ReLU(pre-activation)), the way `loupe graph` computes it: <|endoftext|> prepended, at most 10
logits covering 95% of the probability, every active feature.

    /root/venv-saelens/bin/python bench/graph_circuit_tracer.py --set SET --prompt TEXT [--threads 2] [--runs 1]

Prints one JSON line per run: wall seconds of `attribute`, the seconds of its backward phases
(logit and feature attributions), the phases' times, active features, nodes, and the process's
peak RSS. Needs torch, transformers, gguf, tokenizers, transformer_lens, circuit-tracer (0.5),
safetensors; no network (the model comes from the GGUF file).
"""
import argparse
import json
import logging
import os
import re
import resource
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast
from transformer_lens import HookedTransformerConfig
from transformer_lens.pretrained.weight_conversions.llama import convert_llama_weights

from circuit_tracer.attribution.attribute import attribute
from circuit_tracer.replacement_model.replacement_model_transformerlens import TransformerLensReplacementModel
from circuit_tracer.transcoder.single_layer_transcoder import SingleLayerTranscoder, TranscoderSet

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "fixtures", "models"))
from smollm2_tokenizer import build_smollm2_tokenizer  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "fixtures", "graph"))
from make_graph_fixtures import ReluTopK  # noqa: E402  (Loupe's TopK: the k largest of ReLU(x))

ap = argparse.ArgumentParser()
ap.add_argument("--set", required=True, help="Loupe transcoder set folder")
ap.add_argument("--prompt", required=True)
ap.add_argument("--gguf", default=os.path.expanduser("~/.cache/loupe/models/SmolLM2-135M-Instruct.Q4_1.gguf"))
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--runs", type=int, default=1)
ap.add_argument("--batch-size", type=int, default=512, help="attribute's batch size (circuit-tracer's default)")
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.set_grad_enabled(True)


def load_transcoders(folder):
    manifest = json.load(open(os.path.join(folder, "transcoders.json")))
    layers = {}
    for layer in manifest["layers"]:
        d = os.path.join(folder, f"layer-{layer}")
        cfg = json.load(open(os.path.join(d, "cfg.json")))
        if cfg.get("activation_function") != "topk":
            sys.exit(f"{d}: this comparison reads TopK transcoders, not {cfg.get('activation_function')}")
        w = load_file(os.path.join(d, "sae_weights.safetensors"))
        skip = "W_skip" in w
        tc = SingleLayerTranscoder(cfg["d_in"], cfg["d_sae"], ReluTopK(cfg["k"]), layer, skip_connection=skip,
                                   device="cpu", dtype=torch.float32)
        with torch.no_grad():
            tc.W_enc.copy_(w["W_enc"].T)   # Loupe/SAELens [d_in, d_sae]; circuit-tracer [d_sae, d_in]
            tc.W_dec.copy_(w["W_dec"])
            tc.b_enc.copy_(w["b_enc"])
            tc.b_dec.copy_(w["b_dec"])
            if skip:
                tc.W_skip.copy_(w["W_skip"])
        layers[layer] = tc
    return TranscoderSet(layers, feature_input_hook="mlp.hook_in", feature_output_hook="mlp.hook_out", scan="loupe")


def load_model(tset):
    d = tempfile.mkdtemp()
    name = os.path.basename(args.gguf)
    os.symlink(os.path.abspath(args.gguf), os.path.join(d, name))
    hf = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, dtype=torch.float32).eval()
    c = hf.config
    theta = c.rope_parameters["rope_theta"] if hasattr(c, "rope_parameters") and c.rope_parameters else c.rope_theta
    cfg = HookedTransformerConfig(
        n_layers=c.num_hidden_layers, d_model=c.hidden_size, d_head=c.hidden_size // c.num_attention_heads,
        n_heads=c.num_attention_heads, n_key_value_heads=c.num_key_value_heads, d_mlp=c.intermediate_size,
        d_vocab=c.vocab_size, n_ctx=2048, act_fn="silu", normalization_type="RMS", eps=c.rms_norm_eps,
        positional_embedding_type="rotary", rotary_dim=c.hidden_size // c.num_attention_heads, rotary_base=theta,
        rotary_adjacent_pairs=False, gated_mlp=True, final_rms=True, original_architecture="LlamaForCausalLM",
        default_prepend_bos=False, dtype=torch.float32, device="cpu", model_name="smollm2-135m")
    model = TransformerLensReplacementModel(cfg)
    missing, unexpected = model.load_state_dict(convert_llama_weights(hf, cfg), strict=False)
    assert not unexpected, unexpected
    # set_tokenizer wants a hub name; attribution only decodes logit tokens
    model.tokenizer = PreTrainedTokenizerFast(tokenizer_object=build_smollm2_tokenizer(args.gguf),
                                              bos_token="<|endoftext|>", eos_token="<|endoftext|>")
    model._configure_replacement_model(tset)
    model.eval()
    return hf, model


class PhaseTimes:
    """Collects attribute's phase times from the messages it logs ("... completed in 1.23s") to
    its "attribution" logger (attribute sets that logger's level itself, so its info method is
    wrapped rather than a handler added)."""

    def __init__(self):
        self.times = {}
        logger = logging.getLogger("attribution")
        original = logger.info

        def info(message, *rest, **options):
            m = re.match(r"(.*) completed in ([0-9.]+)s", str(message))
            if m:
                self.times[m.group(1)] = float(m.group(2))
            return original(message, *rest, **options)
        logger.info = info


setup_start = time.perf_counter()
tset = load_transcoders(args.set)
hf, model = load_model(tset)
ids = [0] + model.tokenizer(args.prompt, add_special_tokens=False).input_ids   # <|endoftext|> first, as Loupe's --bos prepend
with torch.no_grad():
    gap = (hf(torch.tensor([ids])).logits[0] - model(torch.tensor([ids]))[0]).abs().max().item()
del hf
setup = time.perf_counter() - setup_start
phases = PhaseTimes()
for run in range(args.runs):
    phases.times = {}
    start = time.perf_counter()
    graph = attribute(torch.tensor(ids), model, max_n_logits=10, desired_logit_prob=0.95, batch_size=args.batch_size)
    seconds = time.perf_counter() - start
    backward = sum(v for k, v in phases.times.items() if "attributions" in k.lower())
    print(json.dumps({
        "run": run + 1, "tokens": len(ids), "seconds": seconds, "backward_seconds": backward, "phases": phases.times,
        "active_features": int(len(graph.selected_features)), "nodes": int(graph.adjacency_matrix.shape[0]),
        "logits": int(len(graph.logit_targets)), "setup_seconds": setup, "tl_vs_hf_max_logit_diff": gap,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": args.threads}), flush=True)
