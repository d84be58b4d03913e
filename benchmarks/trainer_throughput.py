"""Trainer throughput: tokens/s and MFU of the reference GPT's training step, for a preset and seq_len.

`python benchmarks/trainer_throughput.py [--model tiny] [--seq_len 256] [--micro_batch 8] [--grad_accum 1]
[--vocab_size 50257] [--steps 20] [--warmup_steps 5] [--compile] [--json PATH]`

Times `trainer.train.train_step`, the training loop's own step (bf16 autocast and fused AdamW on CUDA, fp32
on CPU, gradient clipping), on random token ids, so the disk and the loader are outside the measurement.
--warmup_steps untimed steps first (allocator, torch.compile, kernel autotuning), then --steps timed ones,
each ended by reading the loss back (which waits for the GPU). Reports the median step: tokens/s and MFU =
flops_per_token (6 N + 12 L d T, trainer/model.py) * tokens/s / the GPU's bf16 peak (null on CPU).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from trainer.model import GPT, flops_per_token, preset_config  # noqa: E402
from trainer.train import TrainConfig, make_optimizer, peak_flops, train_step  # noqa: E402

GPT2_VOCAB = 50_257


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--seq_len", type=int, default=256)
    parser.add_argument("--micro_batch", type=int, default=8)
    parser.add_argument("--grad_accum", type=int, default=1)
    parser.add_argument("--vocab_size", type=int, default=GPT2_VOCAB, help="tokenizer vocabulary (padded to 64)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--warmup_steps", type=int, default=5, help="untimed steps before them")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--json", help="also write the result here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    torch.manual_seed(0)
    model_config = preset_config(args.model, args.vocab_size, args.seq_len)
    model = GPT(model_config).to(device)
    config = TrainConfig(model=args.model, seq_len=args.seq_len, micro_batch=args.micro_batch,
                         grad_accum=args.grad_accum, compile=args.compile)
    optimizer = make_optimizer(model, config, device)
    step_model = torch.compile(model) if args.compile else model
    generator = torch.Generator().manual_seed(0)
    tokens_per_step = args.micro_batch * args.grad_accum * args.seq_len
    step_seconds = []
    for step in range(args.warmup_steps + args.steps):
        windows = [torch.randint(0, args.vocab_size, (args.micro_batch, args.seq_len + 1), generator=generator).to(device)
                   for _ in range(args.grad_accum)]
        started = time.perf_counter()
        loss = train_step(step_model, optimizer, ((w[:, :-1], w[:, 1:]) for w in windows), args.grad_accum,
                          config.lr, config.grad_clip, device)
        loss.item()  # waits for the GPU
        if step >= args.warmup_steps:
            step_seconds.append(time.perf_counter() - started)
    median_s = statistics.median(step_seconds)
    n_params = model.num_params()
    flops = flops_per_token(model_config, n_params, args.seq_len)
    peak = peak_flops(device)
    tokens_per_s = tokens_per_step / median_s
    result = {
        "model": args.model, "n_params": n_params, "seq_len": args.seq_len, "micro_batch": args.micro_batch,
        "grad_accum": args.grad_accum, "vocab_size": model_config.vocab_size, "compile": args.compile,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__, "cpu_threads": torch.get_num_threads(), "load_average": os.getloadavg(),
        "timed_steps": args.steps, "median_step_s": median_s,
        "step_s_range": [min(step_seconds), max(step_seconds)], "tokens_per_s": tokens_per_s,
        "flops_per_token": flops, "mfu": tokens_per_s * flops / peak if peak else None,
    }
    mfu = f"{100 * result['mfu']:.1f}%" if result["mfu"] is not None else "null (no GPU peak)"
    print(f"{args.model} ({n_params:,} parameters) seq_len {args.seq_len} x {args.micro_batch * args.grad_accum} "
          f"sequences on {result['device']}: median step {median_s * 1000:.1f} ms "
          f"(range {min(step_seconds) * 1000:.1f}-{max(step_seconds) * 1000:.1f}), "
          f"{tokens_per_s:,.0f} tokens/s, {flops / 1e6:.1f} MFLOP/token, MFU {mfu}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
