#!/usr/bin/env python3
"""Peer benchmark: what Loupe is compared against on the same machine. NOT run by CI.

Measures, on CPU in float32, for SmolLM2-135M-Instruct (the Q4_1 GGUF dequantized to float32 by transformers):
  * transformers forward for 16 / 128 / 512-token inputs (batch 1, no KV cache, last-position logits only
    via logits_to_keep=1), median wall time of --runs runs after --warmup warm-up runs;
  * transformers greedy generate(): --new-tokens new tokens (default 64) from a 16-token prompt, EOS ignored,
    reported as new tokens / s over the whole call (prefill included) and per decode step;
  * TransformerLens run_with_cache (all hooks cached) for 16 / 128 tokens, if transformer_lens is importable.
    TransformerLens >= 4 has no HookedTransformer; its TransformerBridge wraps the already-loaded HF module
    (build_bridge_from_module), so no hub download happens. Older TransformerLens (HookedTransformer) is used
    through convert_llama_weights + a hand-built HookedTransformerConfig instead.

Usage:
    HF_HUB_OFFLINE=1 python3 bench/peers.py [--threads 2] [--json out.json] [--gguf PATH]
Needs: torch, transformers, accelerate, gguf, tokenizers, numpy; optional transformer_lens.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts", "fixtures", "models"))

DEFAULT_GGUF = os.path.expanduser("~/.cache/loupe/models/SmolLM2-135M-Instruct.Q4_1.gguf")
TEXT = ("The Eiffel Tower is located in the city of Paris. It was built for the 1889 World's Fair and was "
        "for a long time the tallest structure in the world. Interpretability tools record the residual stream, "
        "attention patterns and MLP activations of a language model so that researchers can ask which parts of "
        "the network carry which information. ")


def load_hf(gguf_path, attn):
    d = tempfile.mkdtemp(prefix="loupe-peers-")
    name = os.path.basename(gguf_path)
    os.symlink(os.path.abspath(gguf_path), os.path.join(d, name))
    m = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, dtype=torch.float32, attn_implementation=attn)
    return m.eval()


def make_ids(gguf_path, n):
    try:
        from smollm2_tokenizer import build_smollm2_tokenizer
        tok = build_smollm2_tokenizer(gguf_path)
        base = tok.encode(TEXT).ids
    except Exception as e:  # pragma: no cover - tokenizer only decides the ids, not the cost
        print(f"note: tokenizer unavailable ({e}); using synthetic ids")
        base = list(range(100, 400))
    ids = (base * (n // len(base) + 1))[:n]
    return torch.tensor([ids])


def timed(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(ts), "min_s": min(ts), "runs_s": ts}


def bench_forward(model, ids, runs, warmup):
    def f():
        with torch.inference_mode():
            out = model(ids, use_cache=False, logits_to_keep=1)
            assert out.logits.shape[1] == 1
    return timed(f, runs, warmup)


def bench_generate(model, ids, n_new, runs, warmup):
    gc = transformers.GenerationConfig(max_new_tokens=n_new, min_new_tokens=n_new, do_sample=False,
                                       eos_token_id=None, pad_token_id=2, use_cache=True)
    saved = model.generation_config.eos_token_id
    model.generation_config.eos_token_id = None
    mask = torch.ones_like(ids)

    def f():
        with torch.inference_mode():
            g = model.generate(ids, attention_mask=mask, generation_config=gc)
            assert g.shape[1] == ids.shape[1] + n_new, g.shape
    try:
        r = timed(f, runs, warmup)
    finally:
        model.generation_config.eos_token_id = saved
    r["new_tokens"] = n_new
    r["tokens_per_s"] = n_new / r["median_s"]
    return r


def build_tl(gguf_path, hf_attn):
    """Return (kind, run_with_cache callable factory, version) or raise."""
    import transformer_lens as tl
    version = getattr(tl, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as _v
            version = _v("transformer_lens")
        except Exception:
            version = "?"
    if hasattr(tl, "TransformerBridge"):
        from transformer_lens.model_bridge.sources._bridge_builder import build_bridge_from_module
        hf = load_hf(gguf_path, "eager")  # the bridge modifies the module in place: use a private copy
        bridge = build_bridge_from_module(hf, "LlamaForCausalLM", hf_config=hf.config, dtype=torch.float32,
                                          device="cpu", model_name="SmolLM2-135M-Instruct.Q4_1.gguf")
        if hasattr(bridge, "enable_compatibility_mode"):
            try:
                bridge.enable_compatibility_mode(no_processing=True)
                kind = "TransformerBridge (compatibility mode, no weight processing)"
            except TypeError:
                bridge.enable_compatibility_mode()
                kind = "TransformerBridge (compatibility mode)"
        else:
            kind = "TransformerBridge"
        return kind, bridge, version
    # legacy TransformerLens 1.x-3.x
    from transformer_lens import HookedTransformer, HookedTransformerConfig
    from transformer_lens.pretrained.weight_conversions import convert_llama_weights
    hf = load_hf(gguf_path, "eager")
    c = hf.config
    cfg = HookedTransformerConfig(
        d_model=c.hidden_size, d_head=c.hidden_size // c.num_attention_heads, n_heads=c.num_attention_heads,
        d_mlp=c.intermediate_size, n_layers=c.num_hidden_layers, n_ctx=2048, eps=c.rms_norm_eps,
        d_vocab=c.vocab_size, act_fn="silu", n_key_value_heads=c.num_key_value_heads, normalization_type="RMS",
        positional_embedding_type="rotary", rotary_adjacent_pairs=False,
        rotary_dim=c.hidden_size // c.num_attention_heads, rotary_base=(c.rope_parameters["rope_theta"] if getattr(c, "rope_parameters", None) else c.rope_theta),
        final_rms=True, gated_mlp=True, original_architecture="LlamaForCausalLM", dtype=torch.float32)
    model = HookedTransformer(cfg)
    model.load_state_dict(convert_llama_weights(hf, cfg), strict=False)
    return "HookedTransformer", model, version


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--gguf", default=DEFAULT_GGUF)
    ap.add_argument("--json", default=None, help="write results here")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--lengths", default="16,128,512")
    ap.add_argument("--tl-lengths", default="16,128")
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--gen-runs", type=int, default=3)
    ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"], help="transformers attention kernel")
    ap.add_argument("--no-tl", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    res = {
        "model": os.path.basename(args.gguf), "dtype": "float32", "threads": args.threads,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "python": platform.python_version()},
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(),
                    "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None},
        "transformers_attn": args.attn,
        "forward": {}, "generate": None, "transformer_lens": None,
    }
    la = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if la > (os.cpu_count() or 1) - 0.5:
        msg = (f"WARNING: 1-min load average {la:.1f} on {os.cpu_count()} CPUs: other processes compete; "
               "multi-threaded torch (OpenMP barriers) degrades badly when oversubscribed, numbers are unreliable")
        print(msg, flush=True)
        res["warning"] = msg
    t0 = time.perf_counter()
    model = load_hf(args.gguf, args.attn)
    res["load_s"] = time.perf_counter() - t0

    for n in [int(x) for x in args.lengths.split(",") if x]:
        ids = make_ids(args.gguf, n)
        r = bench_forward(model, ids, args.runs, args.warmup)
        r["tokens_per_s"] = n / r["median_s"]
        res["forward"][str(n)] = r
        print(f"transformers forward {n:4d} tok: {r['median_s']*1e3:9.1f} ms median", flush=True)

    ids16 = make_ids(args.gguf, 16)
    g = bench_generate(model, ids16, args.new_tokens, args.gen_runs, 1)
    res["generate"] = g
    print(f"transformers generate {args.new_tokens} new tok: {g['median_s']:.2f} s -> {g['tokens_per_s']:.1f} tok/s",
          flush=True)
    del model

    if args.no_tl:
        res["transformer_lens"] = {"skipped": "--no-tl"}
    else:
        try:
            kind, tlm, version = build_tl(args.gguf, args.attn)
        except ImportError as e:
            print(f"note: transformer_lens not installed ({e}); skipping TransformerLens")
            res["transformer_lens"] = {"skipped": f"not installed: {e}"}
            tlm = None
        except Exception as e:
            print(f"note: could not build a TransformerLens model ({type(e).__name__}: {e}); skipping")
            res["transformer_lens"] = {"skipped": f"{type(e).__name__}: {e}"}
            tlm = None
        if tlm is not None:
            tlr = {"kind": kind, "version": version, "run_with_cache": {}}
            # sanity: same last-position logits as transformers (within float noise)
            ref = load_hf(args.gguf, "eager")
            with torch.inference_mode():
                a = ref(ids16).logits[0, -1]
                b, cache = tlm.run_with_cache(ids16)
                b = b[0, -1]
            tlr["max_abs_logit_diff_vs_transformers"] = float((a - b).abs().max())
            tlr["n_cached_activations_16tok"] = len(cache)
            del ref, cache
            for n in [int(x) for x in args.tl_lengths.split(",") if x]:
                ids = make_ids(args.gguf, n)

                def f(ids=ids):
                    with torch.inference_mode():
                        _, c = tlm.run_with_cache(ids)
                        del c
                r = timed(f, args.runs, args.warmup)
                r["tokens_per_s"] = n / r["median_s"]
                tlr["run_with_cache"][str(n)] = r
                print(f"TransformerLens run_with_cache {n:4d} tok: {r['median_s']*1e3:9.1f} ms median", flush=True)
            res["transformer_lens"] = tlr

    res["machine"]["loadavg_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None

    # table
    print()
    print(f"SmolLM2-135M float32, CPU, torch threads = {args.threads}")
    print(f"{'what':44s} {'median':>12s} {'tok/s':>10s}")
    for n, r in res["forward"].items():
        print(f"{'transformers forward ' + n + ' tok (last logits)':44s} {r['median_s']*1e3:9.1f} ms {r['tokens_per_s']:10.1f}")
    print(f"{'transformers generate ' + str(args.new_tokens) + ' new (greedy)':44s} {g['median_s']*1e3:9.1f} ms "
          f"{g['tokens_per_s']:10.1f}")
    tlr = res["transformer_lens"]
    if tlr and "run_with_cache" in tlr:
        for n, r in tlr["run_with_cache"].items():
            print(f"{'TransformerLens run_with_cache ' + n + ' tok':44s} {r['median_s']*1e3:9.1f} ms "
                  f"{r['tokens_per_s']:10.1f}")
        print(f"  ({tlr['kind']}, transformer_lens {tlr['version']}, max |logit diff| vs transformers "
              f"{tlr['max_abs_logit_diff_vs_transformers']:.2e})")
    print(f"load avg start/end: {res['machine']['loadavg_at_start']} / {res['machine']['loadavg_at_end']}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
