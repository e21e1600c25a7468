#!/usr/bin/env python3
"""Writes a Llama GGUF with random Q4_K weights at SmolLM2-1.7B's shape (24 layers, width 2048,
32 heads, MLP 8192, vocabulary 49152: 1.71 billion parameters, about 0.96 GB), to check that
Loupe loads and generates with a model of that size in little memory (`bench/synthetic_llama.sh`).

    python3 bench/make_synthetic_llama.py --tokenizer-from SMOLLM2.gguf --out synth.gguf [--layers 24]

The tokenizer (every `tokenizer.*` key) is copied byte for byte from --tokenizer-from (the
default model has SmolLM2's vocabulary); the weights are random Q4_K blocks (seeded), scaled so
each matrix's entries have a standard deviation near 1/sqrt(fan-in), and the norms are ones.
The text it generates is noise: this model exists for memory and speed, not for answers.
Needs only NumPy. The GGUF v3 layout is written directly (header, key-values, tensor table,
32-byte alignment, data).
"""
import argparse
import struct
import sys

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--tokenizer-from", required=True, help="a GGUF whose tokenizer.* keys are copied")
ap.add_argument("--out", required=True)
ap.add_argument("--layers", type=int, default=24)
ap.add_argument("--width", type=int, default=2048)
ap.add_argument("--mlp", type=int, default=8192)
ap.add_argument("--heads", type=int, default=32)
ap.add_argument("--kv-heads", type=int, default=32)
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()

ALIGN, Q4_K, F32 = 32, 12, 0
QK_K, Q4_K_BYTES = 256, 144  # block_q4_K: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of 4-bit quants


# --- read the source's key-values, keeping the raw bytes of the tokenizer's ---
def read_kv(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if head[:4] != b"GGUF":
            sys.exit(f"{path} is not a GGUF file")
        _, _, count = struct.unpack("<IQQ", head[4:])
        data = f.read(64 << 20)  # the tokenizer of a 50k vocabulary takes a few MB
    fixed = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip(kind, o):
        if kind in fixed:
            return o + fixed[kind]
        if kind == 8:
            return o + 8 + struct.unpack_from("<Q", data, o)[0]
        if kind == 9:
            element, n = struct.unpack_from("<IQ", data, o)
            o += 12
            if element in fixed:
                return o + n * fixed[element]
            for _ in range(n):
                o = skip(element, o)
            return o
        sys.exit(f"unknown GGUF value type {kind} in {path}")

    o, kept = 0, []
    for _ in range(count):
        start = o
        n = struct.unpack_from("<Q", data, o)[0]
        key = data[o + 8:o + 8 + n].decode()
        o += 8 + n
        kind = struct.unpack_from("<I", data, o)[0]
        o = skip(kind, o + 4)
        if o > len(data):
            sys.exit(f"{path}: key-values longer than 64 MB")
        if key.startswith("tokenizer."):
            kept.append(data[start:o])
    return kept


def string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv_u32(key, v):
    return string(key) + struct.pack("<II", 4, v)


def kv_f32(key, v):
    return string(key) + struct.pack("<If", 6, v)


def kv_str(key, v):
    return string(key) + struct.pack("<I", 8) + string(v)


d, m, L, heads, kv_heads = args.width, args.mlp, args.layers, args.heads, args.kv_heads
head_dim = d // heads
vocab = 49152
pairs = [
    kv_str("general.architecture", "llama"),
    kv_str("general.name", f"synthetic llama {L}x{d} (random Q4_K weights)"),
    kv_u32("llama.block_count", L),
    kv_u32("llama.context_length", 8192),
    kv_u32("llama.embedding_length", d),
    kv_u32("llama.feed_forward_length", m),
    kv_u32("llama.attention.head_count", heads),
    kv_u32("llama.attention.head_count_kv", kv_heads),
    kv_f32("llama.rope.freq_base", 130000.0),
    kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5),
    kv_u32("llama.vocab_size", vocab),
    kv_u32("llama.rope.dimension_count", head_dim),
    kv_u32("general.file_type", 15),  # mostly Q4_K
] + read_kv(args.tokenizer_from)

# --- the tensor table: (name, shape as ne (innermost first), type) ---
tensors = [("token_embd.weight", (d, vocab), Q4_K), ("output_norm.weight", (d,), F32)]
for i in range(L):
    b = f"blk.{i}."
    tensors += [(b + "attn_norm.weight", (d,), F32), (b + "ffn_norm.weight", (d,), F32),
                (b + "attn_q.weight", (d, d), Q4_K), (b + "attn_k.weight", (d, kv_heads * head_dim), Q4_K),
                (b + "attn_v.weight", (d, kv_heads * head_dim), Q4_K), (b + "attn_output.weight", (d, d), Q4_K),
                (b + "ffn_gate.weight", (d, m), Q4_K), (b + "ffn_up.weight", (d, m), Q4_K),
                (b + "ffn_down.weight", (m, d), Q4_K)]


def nbytes(shape, kind):
    count = int(np.prod(shape))
    return count * 4 if kind == F32 else count // QK_K * Q4_K_BYTES


def padded(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


table, offset = b"", 0
for name, shape, kind in tensors:
    table += string(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", s) for s in shape)
    table += struct.pack("<IQ", kind, offset)
    offset = padded(offset + nbytes(shape, kind))

rng = np.random.default_rng(args.seed)
params = sum(int(np.prod(s)) for _, s, _ in tensors)
with open(args.out, "wb") as f:
    f.write(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(pairs)))
    for p in pairs:
        f.write(p)
    f.write(table)
    f.write(b"\0" * (padded(f.tell()) - f.tell()))
    for name, shape, kind in tensors:
        if kind == F32:
            raw = np.ones(shape, dtype=np.float32).tobytes()
        else:
            blocks = int(np.prod(shape)) // QK_K
            raw = rng.integers(0, 256, size=(blocks, Q4_K_BYTES), dtype=np.uint8)
            # An entry is d·scale·q - dmin·min with 6-bit scale/min and 4-bit q, all uniform:
            # its standard deviation is about 147·d, and dmin = 7.5·d centres it near zero.
            scale = np.float16(1 / np.sqrt(shape[0]) / 147)
            raw[:, 0:2] = np.frombuffer(np.array([scale], dtype=np.float16).tobytes(), dtype=np.uint8)
            raw[:, 2:4] = np.frombuffer(np.array([scale * np.float16(7.5)], dtype=np.float16).tobytes(), dtype=np.uint8)
            raw = raw.tobytes()
        f.write(raw)
        f.write(b"\0" * (padded(len(raw)) - len(raw)))
    size = f.tell()
print(f"wrote {args.out}: {L} layers, width {d}, MLP {m}, {params / 1e9:.2f} billion parameters, {size / 1e9:.2f} GB")
