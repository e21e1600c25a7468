#!/usr/bin/env python3
"""PyTorch's side of `loupe-bench --sae`: SAE training steps on the CPU, in plain PyTorch, with
the recipe of Loupe's `SAETrainer`, timed on the same .npy matrix.

    python3 bench/sae_train_torch.py --data X.npy [--architecture topk|standard] [--threads 2]
        [--latents 4608] [--k 32] [--batch-size 2048] [--steps 10] [--repeats 3]
        [--dead-fraction 0.02] [--l1 5] [--lr 4e-4]

The recipe (as Sources/Analyses/SparseAutoencoders/ implements it):
- standard: f = ReLU((x - b_dec) W_enc + b_enc), x̂ = f W_dec + b_dec, loss = mean over rows
  of |x - x̂|² + λ Σ_i f_i |W_dec,i|; decoder unconstrained; init decoder rows at norm 0.1.
- topk: the k largest of the pre-activations, ReLU; x̂ from the k decoder rows (embedding_bag,
  a sparse gather-sum, as EleutherAI's sparsify decodes on the CPU); loss = |x - x̂|² plus the
  auxiliary-k loss: the k_aux = d_in/2 largest pre-activations among dead latents reconstruct
  the detached residual x - x̂, weight 1/32 · min(dead/k_aux, 1); decoder rows at unit norm
  (the gradient's component along each row removed before the step, rows renormalized after).
- Both: W_enc = W_decᵀ at init, b_enc = 0, b_dec = the first batch's mean; Adam (0.9, 0.999,
  1e-8) over all parameters; per step the latents' firing counts are tracked as the trainer
  does. Batches are consecutive rows of the matrix, wrapping around.

Dead latents: a fixed set of --dead-fraction of the latents (every 1/fraction-th), the
steady state of a run that ends with that fraction dead, so both sides compute the same
auxiliary loss every step (0 turns the auxiliary loss off).

Each repeat starts a fresh SAE, runs one untimed warm-up step, then times --steps steps;
tokens/s = steps x batch / seconds. Prints JSON: the median and range over the repeats.
"""
import argparse
import json
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True, help="a [rows, d_in] float32 .npy matrix")
ap.add_argument("--architecture", choices=["standard", "topk"], default="topk")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--latents", type=int, default=4608)
ap.add_argument("--k", type=int, default=32)
ap.add_argument("--batch-size", type=int, default=2048)
ap.add_argument("--steps", type=int, default=10)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--dead-fraction", type=float, default=0.02)
ap.add_argument("--l1", type=float, default=5.0)
ap.add_argument("--lr", type=float, default=4e-4)
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()

torch.set_num_threads(args.threads)
data = torch.from_numpy(np.load(args.data).astype(np.float32, copy=False))
n, d = data.shape
m, bs = args.latents, args.batch_size
if n < bs:
    raise SystemExit(f"{args.data}: {n} rows, fewer than the batch size {bs}")
dead = torch.zeros(m, dtype=torch.bool)
if args.dead_fraction > 0:
    dead[:: max(1, round(1 / args.dead_fraction))] = True
dead_count = int(dead.sum())
aux_k = d // 2
cursor = 0


def next_batch():
    global cursor
    idx = (torch.arange(bs) + cursor) % n
    cursor = (cursor + bs) % n
    return data[idx]


def make_sae(first):
    g = torch.Generator().manual_seed(args.seed)
    w_dec = torch.randn(m, d, generator=g)
    w_dec *= (1.0 if args.architecture == "topk" else 0.1) / w_dec.norm(dim=1, keepdim=True)
    params = {
        "W_enc": w_dec.t().contiguous().requires_grad_(),
        "W_dec": w_dec.clone().requires_grad_(),
        "b_enc": torch.zeros(m, requires_grad=True),
        "b_dec": first.mean(0).clone().requires_grad_(),
    }
    return params, torch.optim.Adam(params.values(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)


def step(p, opt, x, since_fired):
    pre = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
    if args.architecture == "standard":
        f = F.relu(pre)
        x_hat = f @ p["W_dec"] + p["b_dec"]
        loss = (x_hat - x).pow(2).sum(-1).mean() + args.l1 * (f * p["W_dec"].norm(dim=1)).sum(-1).mean()
        fired = (f > 0).sum(0)
    else:
        vals, idx = pre.topk(args.k, dim=-1, sorted=False)
        vals = F.relu(vals)
        x_hat = F.embedding_bag(idx, p["W_dec"], per_sample_weights=vals, mode="sum") + p["b_dec"]
        loss = (x_hat - x).pow(2).sum(-1).mean()
        if dead_count > 0:
            slots = min(aux_k, dead_count)
            a_vals, a_idx = pre.masked_fill(~dead, float("-inf")).topk(slots, dim=-1, sorted=False)
            e_hat = F.embedding_bag(a_idx, p["W_dec"], per_sample_weights=F.relu(a_vals), mode="sum")
            scale = (1 / 32) * min(dead_count / aux_k, 1.0)
            loss = loss + scale * (e_hat - (x - x_hat).detach()).pow(2).sum(-1).mean()
        fired = torch.bincount(idx[vals > 0], minlength=m)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if args.architecture == "topk":
        with torch.no_grad():
            w, gw = p["W_dec"], p["W_dec"].grad
            gw -= (gw * w).sum(1, keepdim=True) / (w * w).sum(1, keepdim=True) * w
    opt.step()
    with torch.no_grad():
        if args.architecture == "topk":
            p["W_dec"] /= p["W_dec"].norm(dim=1, keepdim=True)
        since_fired = torch.where(fired > 0, torch.zeros_like(since_fired), since_fired + bs)
    return loss.detach().item(), since_fired


rates = []
for _ in range(args.repeats):
    cursor = 0
    first = next_batch()
    p, opt = make_sae(first)
    since_fired = torch.zeros(m, dtype=torch.int64)
    _, since_fired = step(p, opt, first, since_fired)
    t = time.perf_counter()
    for _ in range(args.steps):
        loss, since_fired = step(p, opt, next_batch(), since_fired)
    rates.append(args.steps * bs / (time.perf_counter() - t))

print(json.dumps({
    "side": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
    "architecture": args.architecture, "d_in": d, "d_sae": m, "k": args.k if args.architecture == "topk" else None,
    "batch_size": bs, "steps": args.steps, "repeats": args.repeats, "dead_latents": dead_count,
    "tokens_per_s_median": round(statistics.median(rates), 1),
    "tokens_per_s_min": round(min(rates), 1), "tokens_per_s_max": round(max(rates), 1),
    "last_loss": loss, "data": args.data,
}))
