"""Train the reference GPT on packed token shards, in one process or as a DDP job.

`python -m trainer.train --tokens_dir OUT/tokens --out_dir OUT [--model tiny] [--max_steps 200] ...`, or on N
GPUs / processes `torchrun --nproc_per_node=N -m trainer.train ...` (DDP: nccl on CUDA, gloo on CPU). Every
TrainConfig field is a flag (`--compile` / `--no-compile` for booleans).

nanoGPT's loop (github.com/karpathy/nanoGPT, train.py): AdamW (betas 0.9, 0.95; weight decay on >= 2-D
weights only; fused on CUDA), linear warmup then cosine decay to 10% of the peak rate, gradient clipping at
1.0, gradient accumulation, bf16 autocast on CUDA (fp32 on CPU), optional torch.compile. Writes to OUT/train/:
`log.jsonl` (one line per step: step, train_loss, val_loss (null when not evaluated), lr, tokens_per_s, mfu
(null on CPU or an unknown GPU)) and checkpoints `ckpt-<step>.pt` (model, optimizer, step, data position,
RNG state, configs), each written to a temporary name and renamed, with `latest` naming the newest.

`--resume` continues from `latest`: the data order is a function of the step (trainer/data.py), so on CPU
the resumed loss curve is the uninterrupted one, value for value. Log lines after the checkpoint (a crashed
run's) are dropped and redone.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from storage.atomic import atomic_path, write_atomic
from tokenizer.shards import read_manifest
from trainer.data import BatchLayout, SequenceSource, TrainBatches, eval_sequences
from trainer.model import GPT, flops_per_token, preset_config


@dataclass
class TrainConfig:
    tokens_dir: str = "out/demo/tokens"  # manifest.json + train/val shards (jobs/tokenize_corpus.py)
    val_tokens_dir: str = ""  # shards whose val split is evaluated; "" = tokens_dir (same tokenizer required)
    out_dir: str = "out/demo"  # writes OUT/train/
    model: str = "tiny"  # trainer/model.py PRESETS
    n_layer: int = 0  # > 0 overrides the preset
    n_head: int = 0
    d_model: int = 0
    seq_len: int = 256  # tokens per sequence (inputs; each window reads seq_len + 1)
    micro_batch: int = 8  # sequences per forward pass per process
    grad_accum: int = 1  # micro-batches per optimizer step
    max_steps: int = 200  # optimizer steps
    lr: float = 1e-3  # peak learning rate
    warmup_steps: int = 20
    min_lr_ratio: float = 0.1  # cosine decays to min_lr_ratio * lr at max_steps
    weight_decay: float = 0.1  # on >= 2-D weights only (not norm gains)
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0  # max global gradient norm; 0 = off
    compile: bool = False  # torch.compile the model
    eval_every: int = 50  # steps between val losses (and at the last step); 0 = only at the last step
    eval_steps: int = 10  # val batches of micro_batch sequences per process
    checkpoint_every: int = 100  # steps between checkpoints (and at the last step); 0 = only at the last step
    log_every: int = 10  # steps between printed lines (the log file gets every step)
    seed: int = 0  # model init and data order
    data_mode: str = "contiguous"  # "contiguous" or "documents" (windows start at BOS): trainer/data.py
    resume: bool = False  # continue from OUT/train/latest


# A resumed run must match its checkpoint in the model's shape and the data order (the data's own fingerprint,
# trainer/data.py, is checked apart, so a moved tokens directory may be given by its new path).
RESUME_MUST_MATCH = ("model", "n_layer", "n_head", "d_model", "seq_len", "micro_batch",
                     "grad_accum", "seed", "data_mode")
# Dense bf16 tensor-core peak FLOP/s from the vendors' datasheets; the first name found in the device's wins.
PEAK_BF16_FLOPS = (("H100 PCIe", 756e12), ("H100", 989e12), ("H200", 989e12), ("A100", 312e12))
LATEST = "latest"
LOG = "log.jsonl"


def add_config_args(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """A `--name` flag per TrainConfig field not in `skip` (booleans: `--name` / `--no-name`)."""
    for field in dataclasses.fields(TrainConfig):
        if field.name in skip:
            continue
        if isinstance(field.default, bool):
            parser.add_argument(f"--{field.name}", action=argparse.BooleanOptionalAction, default=field.default)
        else:
            parser.add_argument(f"--{field.name}", type=type(field.default), default=field.default)


def parse_args(argv: list[str]) -> TrainConfig:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_config_args(parser)
    return TrainConfig(**vars(parser.parse_args(argv)))


def learning_rate(step: int, config: TrainConfig) -> float:
    """Rate for optimizer step `step` (0-based): linear warmup to lr, then cosine to min_lr_ratio * lr."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    min_lr = config.min_lr_ratio * config.lr
    progress = (step - config.warmup_steps) / max(1, config.max_steps - config.warmup_steps)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0))) * (config.lr - min_lr)


def peak_flops(device: torch.device) -> float | None:
    """bf16 peak of the GPU, None on CPU or a GPU not in PEAK_BF16_FLOPS."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((flops for key, flops in PEAK_BF16_FLOPS if key in name), None)


@dataclass(frozen=True)
class Runtime:
    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def start_runtime() -> Runtime:
    """One process of a torchrun job (WORLD_SIZE > 1: joins the process group) or a plain process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if not torch.cuda.is_available():
        device = torch.device("cpu")
    else:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if world_size > 1:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Runtime(int(os.environ.get("RANK", "0")), world_size, device)


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA (weights and optimizer stay fp32); plain fp32 on CPU."""
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def make_optimizer(model: torch.nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices and embeddings only: decaying norm gains toward 0 has no point."""
    params = list(model.parameters())  # the tied embedding once
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2),
                             fused=device.type == "cuda")


def to_device(sequences: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T + 1) windows -> inputs and next-token targets, each (B, T) int64 on `device`."""
    windows = torch.from_numpy(sequences)
    if device.type == "cuda":
        windows = windows.pin_memory().to(device, non_blocking=True)
    return windows[:, :-1], windows[:, 1:]


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer,
               micro_batches: Iterator[tuple[torch.Tensor, torch.Tensor]], grad_accum: int, lr: float,
               grad_clip: float, device: torch.device) -> torch.Tensor:
    """One optimizer step over `grad_accum` micro-batches; returns this process's mean loss (a tensor, so
    the GPU is not synchronised here)."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    total = torch.zeros((), device=device)
    for micro_step, (x, y) in enumerate(micro_batches):
        last = micro_step == grad_accum - 1
        # DDP all-reduces gradients on the last micro-batch only
        sync = contextlib.nullcontext() if last or not isinstance(model, DistributedDataParallel) else model.no_sync()
        with sync, autocast(device):
            _, loss = model(x, y)
        (loss / grad_accum).backward()
        total += loss.detach()
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return total / grad_accum


@torch.no_grad()
def evaluate(model: torch.nn.Module, source: SequenceSource, max_sequences: int, layout: BatchLayout,
             runtime: Runtime) -> float:
    """Mean next-token loss over the val windows of every rank (token-weighted)."""
    model.eval()
    loss_sum, n_tokens = 0.0, 0
    for sequences in eval_sequences(source, max_sequences, layout):
        x, y = to_device(sequences, runtime.device)
        with autocast(runtime.device):
            _, loss = model(x, y)
        loss_sum += loss.item() * y.numel()
        n_tokens += y.numel()
    totals = torch.tensor([loss_sum, n_tokens], dtype=torch.float64, device=runtime.device)
    if runtime.world_size > 1:
        dist.all_reduce(totals)
    model.train()
    return (totals[0] / totals[1]).item()


def mean_over_ranks(value: torch.Tensor, runtime: Runtime) -> float:
    if runtime.world_size > 1:
        value = value.clone()
        dist.all_reduce(value)  # SUM: gloo has no AVG
        value /= runtime.world_size
    return value.item()


def save_checkpoint(train_dir: Path, step: int, model: GPT, optimizer: torch.optim.Optimizer,
                    data_state: dict, config: TrainConfig) -> Path:
    """ckpt-<step>.pt (step = optimizer steps done), then `latest` pointing at it."""
    path = train_dir / f"ckpt-{step}.pt"
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state()
    with atomic_path(path) as temporary:
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "data": data_state,
                    "rng": rng, "config": asdict(config), "model_config": asdict(model.config)}, temporary)
    write_atomic(train_dir / LATEST, [(path.name + "\n").encode("utf-8")])
    return path


def load_latest(train_dir: Path, device: torch.device) -> dict | None:
    pointer = train_dir / LATEST
    if not pointer.exists():
        return None
    return torch.load(train_dir / pointer.read_text(encoding="utf-8").strip(), map_location=device,
                      weights_only=True)


def check_resumable(checkpoint: dict, config: TrainConfig, data_state: dict) -> None:
    """Refuse a resume whose model shape or data would differ from the checkpointed run's."""
    saved = checkpoint["config"]
    changed = {name: (saved[name], getattr(config, name)) for name in RESUME_MUST_MATCH
               if saved[name] != getattr(config, name)}
    if changed:
        raise ValueError(f"--resume with settings that differ from the checkpoint's (saved, now): {changed}")
    saved_data = {k: v for k, v in checkpoint["data"].items() if k in data_state}
    if saved_data != data_state:
        raise ValueError(f"the data order differs from the checkpoint's (shards, windows, batch or world size): "
                         f"{saved_data=} != {data_state=}")


def restore(train_dir: Path, config: TrainConfig, model: GPT, optimizer: torch.optim.Optimizer,
            batches: TrainBatches, device: torch.device) -> int:
    """With --resume, load the latest checkpoint (if any) into `model` and `optimizer`; the step to start at.
    Without, refuse a directory that holds checkpoints rather than mix two runs in it."""
    if not config.resume:
        if (train_dir / LATEST).exists():
            raise FileExistsError(f"{train_dir} holds checkpoints of a run: pass --resume to continue it, "
                                  f"or choose another --out_dir")
        return 0
    checkpoint = load_latest(train_dir, device)
    if checkpoint is None:
        print(f"--resume: no checkpoint in {train_dir}, starting at step 0")
        return 0
    position_keys = ("step", "next_slot", "epoch")
    check_resumable(checkpoint, config, {k: v for k, v in batches.state(0).items() if k not in position_keys})
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    torch.set_rng_state(checkpoint["rng"]["torch"].cpu())
    if "cuda" in checkpoint["rng"] and device.type == "cuda":
        torch.cuda.set_rng_state(checkpoint["rng"]["cuda"].cpu())
    return checkpoint["step"]


def log_lines_up_to(log_path: Path, step: int) -> str:
    """The log's lines for steps <= `step` (a resumed run redoes the rest)."""
    if not log_path.exists():
        return ""
    lines = log_path.read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(line for line in lines if json.loads(line)["step"] <= step)


def check_same_tokenizer(tokens_dir: str, val_tokens_dir: str) -> dict:
    """The train manifest's tokenizer entry; the val shards must come from the same tokenizer file."""
    tokenizer = read_manifest(tokens_dir)["tokenizer"]
    val_tokenizer = read_manifest(val_tokens_dir)["tokenizer"]
    if val_tokenizer["sha256"] != tokenizer["sha256"]:
        raise ValueError(f"{val_tokens_dir} was tokenized with another tokenizer "
                         f"({val_tokenizer['sha256']=} != {tokenizer['sha256']=})")
    return tokenizer


def format_step(row: dict, max_steps: int) -> str:
    val = f"{row['val_loss']:.4f}" if row["val_loss"] is not None else "-"
    mfu = f"{100 * row['mfu']:.1f}%" if row["mfu"] is not None else "-"
    return (f"step {row['step']}/{max_steps} | train_loss {row['train_loss']:.4f} | val_loss {val} | "
            f"lr {row['lr']:.2e} | {row['tokens_per_s']:,.0f} tokens/s | mfu {mfu}")


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool) -> Iterator[None]:
    """torch.use_deterministic_algorithms for the block, restored after (train() may run in a test)."""
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(enabled)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous)


def train(config: TrainConfig) -> dict:
    """Run (or resume) training; returns the last log row plus the tokens seen."""
    runtime = start_runtime()
    try:
        # CPU: bit-reproducible steps, so a resumed run matches an uninterrupted one. Not on CUDA, where the
        # deterministic kernels (attention backward among them) cost throughput.
        with deterministic_algorithms(runtime.device.type == "cpu"):
            return _train(config, runtime)
    finally:
        if runtime.world_size > 1:
            dist.destroy_process_group()


def _train(config: TrainConfig, runtime: Runtime) -> dict:
    val_tokens_dir = config.val_tokens_dir or config.tokens_dir
    tokenizer = check_same_tokenizer(config.tokens_dir, val_tokens_dir)
    layout = BatchLayout(config.micro_batch, config.grad_accum, runtime.rank, runtime.world_size)
    batches = TrainBatches(SequenceSource(config.tokens_dir, "train", config.seq_len, config.data_mode), layout,
                           config.seed)
    val_source = SequenceSource(val_tokens_dir, "val", config.seq_len, config.data_mode)
    val_sequences = config.eval_steps * config.micro_batch * runtime.world_size

    torch.manual_seed(config.seed)
    model_config = preset_config(config.model, tokenizer["vocab_size"], config.seq_len, config.n_layer,
                                 config.n_head, config.d_model)
    model = GPT(model_config).to(runtime.device)
    optimizer = make_optimizer(model, config, runtime.device)
    train_dir = Path(config.out_dir) / "train"
    train_dir.mkdir(parents=True, exist_ok=True)
    log_path = train_dir / LOG
    start_step = restore(train_dir, config, model, optimizer, batches, runtime.device)
    if runtime.is_main:
        # a fresh run starts an empty log
        write_atomic(log_path, [log_lines_up_to(log_path, start_step).encode("utf-8")])

    n_params = model.num_params()
    flops_per_step = flops_per_token(model_config, n_params, config.seq_len) * layout.global_batch * config.seq_len
    peak = peak_flops(runtime.device)
    tokens_per_step = layout.global_batch * config.seq_len
    if runtime.is_main:
        print(f"model {config.model} {model_config}: {n_params:,} parameters; {len(batches.source):,} train windows "
              f"of {config.seq_len + 1} tokens ({config.data_mode}), {tokens_per_step:,} tokens per step, "
              f"{runtime.world_size} process(es) on {runtime.device}"
              + ("" if peak or runtime.device.type == "cpu" else "; GPU peak unknown, mfu null"))
        if start_step:
            print(f"resumed from step {start_step}")
    step_model = torch.compile(model) if config.compile else model
    if runtime.world_size > 1:
        step_model = DistributedDataParallel(step_model, device_ids=[runtime.device.index]
                                             if runtime.device.type == "cuda" else None)

    row: dict = {}
    with open(log_path, "a", encoding="utf-8") if runtime.is_main else contextlib.nullcontext() as log:
        for step in range(start_step, config.max_steps):
            started = time.perf_counter()
            lr = learning_rate(step, config)
            micro_batches = (to_device(batches.sequences(step, m), runtime.device) for m in range(config.grad_accum))
            loss = train_step(step_model, optimizer, micro_batches, config.grad_accum, lr, config.grad_clip,
                              runtime.device)
            train_loss = mean_over_ranks(loss, runtime)  # .item(): waits for the GPU, so the time below is real
            seconds = time.perf_counter() - started
            done = step + 1
            last = done == config.max_steps
            val_loss = None
            if last or (config.eval_every and done % config.eval_every == 0):
                val_loss = evaluate(step_model, val_source, val_sequences, layout, runtime)
            row = {"step": done, "train_loss": train_loss, "val_loss": val_loss, "lr": lr,
                   "tokens_per_s": tokens_per_step / seconds,
                   "mfu": flops_per_step / seconds / runtime.world_size / peak if peak else None}
            if runtime.is_main:
                log.write(json.dumps(row) + "\n")
                log.flush()
                if last or done % config.log_every == 0 or done == start_step + 1:
                    print(format_step(row, config.max_steps), flush=True)
                if last or (config.checkpoint_every and done % config.checkpoint_every == 0):
                    save_checkpoint(train_dir, done, model, optimizer, batches.state(done), config)
    return {**row, "tokens": config.max_steps * tokens_per_step}


def main(argv: list[str] | None = None) -> int:
    config = parse_args(sys.argv[1:] if argv is None else argv)
    summary = train(config)
    if int(os.environ.get("RANK", "0")) != 0:
        return 0
    if "step" not in summary:
        print(f"nothing to do: the latest checkpoint is at or past --max_steps {config.max_steps}")
    else:
        print(f"final train_loss {summary['train_loss']:.4f} val_loss {summary['val_loss']:.4f} "
              f"after {summary['step']} steps ({summary['tokens']:,} tokens)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
