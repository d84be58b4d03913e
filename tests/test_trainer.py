"""The reference trainer on real text: the loss falls below what token frequencies alone explain, a resumed
run repeats the uninterrupted loss curve value for value, batches are a pure function of the step with
disjoint rank slices, document mode starts on BOS, the model's shapes and parameter count, the log."""
from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from testkit.text_corpus import sample_documents, write_corpus
from tokenizer.config import TokenizeConfig, TokenizeJobConfig, TokenizerConfig
from tokenizer.encode import serial_map, tokenize_corpus
from tokenizer.train import train_tokenizer
from trainer import train as train_module
from trainer.data import BatchLayout, SequenceSource, TrainBatches, shuffled_windows
from trainer.model import GPT, flops_per_token, preset_config
from trainer.train import TrainConfig, train

VOCAB = 512  # a multiple of 64: no padding, so the untrained loss is ln(VOCAB)
SEQ_LEN = 64
MAX_STEPS = 160
CHECKPOINT_EVERY = 80
EVAL_EVERY = 40
EVAL_STEPS = 4
MICRO_BATCH = 8
LOG_KEYS = {"step", "train_loss", "val_loss", "lr", "tokens_per_s", "mfu"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: the machine's two cores are shared, and two threads there run 4x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tokens_dir(tmp_path_factory) -> Path:
    """The sample texts (12 languages, plus short and empty documents), a 512-id BPE, 3 train shards."""
    root = tmp_path_factory.mktemp("trainer_tokens")
    docs = sample_documents(with_tricky=True)
    write_corpus(root / "corpus", docs, parts=2)
    texts = [d["text"] for d in docs if d["text"]]
    train_tokenizer(texts, len(texts), TokenizerConfig(vocab_size=VOCAB)).save(str(root / "tokenizer.json"))
    config = TokenizeJobConfig(TokenizeConfig(val_fraction=0.1, shard_tokens=20_000))
    tokenize_corpus(str(root / "corpus"), str(root / "tokenizer.json"), str(root / "tokens"), config, serial_map,
                    log=lambda _: None)
    return root / "tokens"


def raw_stream(tokens_dir: Path, split: str) -> np.ndarray:
    """The split's tokens read straight from the .bin files (1024-byte header, uint16), in manifest order."""
    manifest = json.loads((tokens_dir / "manifest.json").read_text())
    names = [entry["name"] for entry in manifest["shards"] if entry["split"] == split]
    return np.concatenate([np.fromfile(tokens_dir / name, dtype="<u2", offset=1024) for name in names]).astype(np.int64)


def run_config(tokens_dir: Path, out_dir: Path, **changes) -> TrainConfig:
    return TrainConfig(tokens_dir=str(tokens_dir), out_dir=str(out_dir), model="tiny", n_layer=2, n_head=2,
                       d_model=64, seq_len=SEQ_LEN, micro_batch=MICRO_BATCH, max_steps=MAX_STEPS, lr=5e-3,
                       warmup_steps=20, eval_every=EVAL_EVERY, eval_steps=EVAL_STEPS,
                       checkpoint_every=CHECKPOINT_EVERY, log_every=1000, **changes)


def read_log(out_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (out_dir / "train" / "log.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def full_run(tokens_dir, tmp_path_factory) -> tuple[Path, list[dict]]:
    out_dir = tmp_path_factory.mktemp("uninterrupted")
    train(run_config(tokens_dir, out_dir))
    return out_dir, read_log(out_dir)


# ---- training ------------------------------------------------------------------------------------------

def test_loss_falls_below_the_unigram_entropy_of_the_data(full_run, tokens_dir):
    _, rows = full_run
    # small init: the untrained model predicts nearly uniformly over the vocabulary
    assert rows[0]["train_loss"] == pytest.approx(math.log(VOCAB), abs=0.05)
    train_tokens = raw_stream(tokens_dir, "train")
    counts = np.bincount(train_tokens, minlength=VOCAB)
    p = counts[counts > 0] / len(train_tokens)
    unigram_entropy = float(-(p * np.log(p)).sum())  # the best loss from token frequencies alone
    assert unigram_entropy < math.log(VOCAB) - 0.5
    last_train = float(np.mean([row["train_loss"] for row in rows[-10:]]))
    assert last_train < unigram_entropy - 0.5, (last_train, unigram_entropy)
    # val: the evaluated targets (first EVAL_STEPS * MICRO_BATCH windows) under the train unigram (add-one)
    val_targets = raw_stream(tokens_dir, "val")[1: EVAL_STEPS * MICRO_BATCH * SEQ_LEN + 1]
    log_p = np.log((counts + 1) / (counts.sum() + VOCAB))
    unigram_val_loss = float(-log_p[val_targets].mean())
    assert rows[-1]["val_loss"] < unigram_val_loss - 0.3, (rows[-1]["val_loss"], unigram_val_loss)


def test_resume_from_a_mid_run_checkpoint_repeats_the_loss_curve(full_run, tokens_dir, tmp_path):
    out_dir, rows = full_run
    crashed = tmp_path / "crashed"
    shutil.copytree(out_dir, crashed)
    train_dir = crashed / "train"
    # as if killed at step 120: the last checkpoint is step 80 and the log runs 40 steps past it
    (train_dir / f"ckpt-{MAX_STEPS}.pt").unlink()
    (train_dir / "latest").write_text(f"ckpt-{CHECKPOINT_EVERY}.pt\n")
    (train_dir / "log.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows[:120]))
    train(run_config(tokens_dir, crashed, resume=True))

    def curve(log: list[dict]) -> list[tuple]:
        return [(r["step"], r["train_loss"], r["val_loss"], r["lr"]) for r in log]

    assert curve(read_log(crashed)) == curve(rows)
    resumed = torch.load(train_dir / f"ckpt-{MAX_STEPS}.pt", weights_only=True)
    uninterrupted = torch.load(out_dir / "train" / f"ckpt-{MAX_STEPS}.pt", weights_only=True)
    assert resumed["step"] == uninterrupted["step"] == MAX_STEPS
    assert resumed["data"] == uninterrupted["data"]
    assert all(torch.equal(resumed["model"][k], uninterrupted["model"][k]) for k in uninterrupted["model"])


def test_a_fresh_run_refuses_a_directory_with_checkpoints(full_run, tokens_dir):
    out_dir, _ = full_run
    with pytest.raises(FileExistsError, match="pass --resume"):
        train(run_config(tokens_dir, out_dir))


def short_config(tokens: Path, out: Path, **changes) -> TrainConfig:
    """A run of a few steps of a one-layer model (about a second on CPU)."""
    settings = dict(tokens_dir=str(tokens), out_dir=str(out), model="tiny", n_layer=1, n_head=2, d_model=32,
                    seq_len=16, micro_batch=2, max_steps=2, warmup_steps=1, eval_every=0, eval_steps=1,
                    checkpoint_every=2, log_every=1000)
    return TrainConfig(**(settings | changes))


def test_resume_with_changed_model_or_data_is_refused_and_with_equal_settings_accepted(tokens_dir, tmp_path, capsys):
    out_dir = tmp_path / "run"
    train(short_config(tokens_dir, out_dir))
    log_before = (out_dir / "train" / "log.jsonl").read_text()
    # re-tokenized with another split: the train shards hold other tokens
    other_tokens = tmp_path / "other_tokens"
    write_corpus(tmp_path / "corpus", sample_documents(with_tricky=True), parts=2)
    tokenize_corpus(str(tmp_path / "corpus"), str(tokens_dir.parent / "tokenizer.json"), str(other_tokens),
                    TokenizeJobConfig(TokenizeConfig(val_fraction=0.3, shard_tokens=20_000)), serial_map,
                    log=lambda _: None)
    refused = {  # changed setting -> what the refusal must name: (saved, now)
        "seq_len": r"'seq_len': \(16, 24\)",
        "n_layer": r"'n_layer': \(1, 2\)",
        "model": r"'model': \('tiny', 'mini'\)",
        "micro_batch": r"'micro_batch': \(2, 4\)",
        "tokens_dir": r"the data order differs from the checkpoint's .*'tokens': \d+",
    }
    values = {"seq_len": 24, "n_layer": 2, "model": "mini", "micro_batch": 4, "tokens_dir": str(other_tokens)}
    for name, message in refused.items():
        with pytest.raises(ValueError, match=message):
            train(short_config(tokens_dir, out_dir, **{"resume": True, "max_steps": 4, name: values[name]}))
        assert (out_dir / "train" / "latest").read_text() == "ckpt-2.pt\n", name  # nothing of the run touched
        assert (out_dir / "train" / "log.jsonl").read_text() == log_before, name
    # equal model and data; the schedule and evaluation may change
    capsys.readouterr()
    train(short_config(tokens_dir, out_dir, resume=True, max_steps=4, lr=2e-3, eval_every=2))
    assert "resumed from step 2" in capsys.readouterr().out
    assert [row["step"] for row in read_log(out_dir)] == [1, 2, 3, 4]
    assert (out_dir / "train" / "latest").read_text() == "ckpt-4.pt\n"


def test_log_rows_have_the_expected_keys_steps_and_schedule(full_run):
    _, rows = full_run
    assert [row["step"] for row in rows] == list(range(1, MAX_STEPS + 1))
    assert all(set(row) == LOG_KEYS for row in rows)
    assert all(row["mfu"] is None and row["tokens_per_s"] > 0 for row in rows)  # CPU: no MFU
    evaluated = [row["step"] for row in rows if row["val_loss"] is not None]
    assert evaluated == list(range(EVAL_EVERY, MAX_STEPS + 1, EVAL_EVERY))
    peak, warmup, floor = 5e-3, 20, 5e-4
    for row in rows:
        s = row["step"] - 1  # the rate used by the row's update
        expected = (peak * (s + 1) / warmup if s < warmup else
                    floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * (s - warmup) / (MAX_STEPS - warmup))))
        assert row["lr"] == pytest.approx(expected, rel=1e-12)


def test_command_line_flags_reach_the_config_and_the_final_line(tokens_dir, tmp_path, capsys):
    argv = ["--tokens_dir", str(tokens_dir), "--out_dir", str(tmp_path), "--n_layer", "1", "--d_model", "64",
            "--n_head", "2", "--seq_len", "32", "--micro_batch", "2", "--grad_accum", "2", "--max_steps", "3",
            "--data_mode", "documents", "--no-compile", "--eval_steps", "1", "--lr", "0.002"]
    assert train_module.parse_args(argv) == TrainConfig(
        tokens_dir=str(tokens_dir), out_dir=str(tmp_path), n_layer=1, d_model=64, n_head=2, seq_len=32,
        micro_batch=2, grad_accum=2, max_steps=3, data_mode="documents", compile=False, eval_steps=1, lr=0.002)
    assert train_module.main(argv) == 0
    final = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"final train_loss \d+\.\d{4} val_loss \d+\.\d{4} after 3 steps \(384 tokens\)", final), final
    assert (tmp_path / "train" / "latest").read_text() == "ckpt-3.pt\n"


# ---- data ----------------------------------------------------------------------------------------------

def test_contiguous_windows_are_slices_of_the_raw_stream_and_an_epoch_visits_each_once(tokens_dir):
    raw = raw_stream(tokens_dir, "train")
    source = SequenceSource(tokens_dir, "train", SEQ_LEN, "contiguous")
    expected_starts = np.arange(0, len(raw) - SEQ_LEN, SEQ_LEN)
    assert source.starts.tolist() == expected_starts.tolist()
    shard_ends = np.cumsum([len(shard.tokens) for shard in source.stream.shards])[:-1]
    assert any(start < end < start + SEQ_LEN + 1 for start in expected_starts for end in shard_ends)  # crossings
    layout = BatchLayout(micro_batch=4, grad_accum=2)
    batches = TrainBatches(source, layout, seed=3)
    steps_per_epoch = len(source) // layout.global_batch
    seen = []
    for step in range(steps_per_epoch):
        for micro_step in range(2):
            windows = batches.windows(step, micro_step)
            sequences = batches.sequences(step, micro_step)
            assert sequences.shape == (4, SEQ_LEN + 1)
            for window, sequence in zip(windows, sequences):
                assert sequence.tolist() == raw[expected_starts[window]: expected_starts[window] + SEQ_LEN + 1].tolist()
            seen += windows.tolist()
    assert len(set(seen)) == len(seen) == steps_per_epoch * layout.global_batch
    assert sorted(shuffled_windows(np.arange(len(source)), len(source), seed=3)) == list(range(len(source)))


def test_a_batch_is_a_pure_function_of_seed_and_step(tokens_dir):
    layout = BatchLayout(micro_batch=4, grad_accum=1)
    first = TrainBatches(SequenceSource(tokens_dir, "train", SEQ_LEN, "contiguous"), layout, seed=0)
    second = TrainBatches(SequenceSource(tokens_dir, "train", SEQ_LEN, "contiguous"), layout, seed=0)
    before = first.sequences(37, 0)
    first.sequences(100_000, 0)  # a far later epoch in between: no hidden position
    assert np.array_equal(first.sequences(37, 0), before)
    assert np.array_equal(second.sequences(37, 0), before)
    other_seed = TrainBatches(second.source, layout, seed=1)
    assert not np.array_equal(other_seed.sequences(37, 0), before)
    # the data position a checkpoint stores is the step's first slot
    assert first.state(37)["next_slot"] == 37 * 4 and first.state(37)["seed"] == 0


@pytest.mark.parametrize("world_size,micro_batch", [(2, 4), (3, 2)])
def test_rank_slices_are_disjoint_and_make_up_the_single_process_batch(tokens_dir, world_size, micro_batch):
    source = SequenceSource(tokens_dir, "train", SEQ_LEN, "contiguous")
    grad_accum = 2
    single = TrainBatches(source, BatchLayout(micro_batch, grad_accum * world_size), seed=5)
    ranks = [TrainBatches(source, BatchLayout(micro_batch, grad_accum, rank, world_size), seed=5)
             for rank in range(world_size)]
    per_rank_epoch = [set() for _ in ranks]
    for step in range(len(source) // single.layout.global_batch):
        expected = sorted(w for m in range(grad_accum * world_size) for w in single.windows(step, m).tolist())
        slices = [[w for m in range(grad_accum) for w in batches.windows(step, m).tolist()] for batches in ranks]
        assert sorted(w for part in slices for w in part) == expected
        for seen, part in zip(per_rank_epoch, slices):
            seen.update(part)
    assert sum(len(seen) for seen in per_rank_epoch) == len(set().union(*per_rank_epoch))  # disjoint


def test_document_mode_starts_every_sequence_on_a_separator(tokens_dir):
    raw = raw_stream(tokens_dir, "train")
    separator = json.loads((tokens_dir / "manifest.json").read_text())["tokenizer"]["separator_id"]
    separators = np.flatnonzero(raw == separator)
    expected, position = [], 0
    for start in separators:  # greedy: next window at the first separator >= previous start + SEQ_LEN
        if start >= position and start + SEQ_LEN + 1 <= len(raw):
            expected.append(int(start))
            position = start + SEQ_LEN
    source = SequenceSource(tokens_dir, "train", SEQ_LEN, "documents")
    assert source.starts.tolist() == expected
    assert any(np.count_nonzero(raw[s: s + SEQ_LEN] == separator) > 1 for s in expected)  # packed short documents
    batches = TrainBatches(source, BatchLayout(micro_batch=8, grad_accum=1), seed=0)
    for step in range(len(source) // 8 + 2):  # past the first epoch
        sequences = batches.sequences(step, 0)
        assert (sequences[:, 0] == separator).all()


# ---- model ---------------------------------------------------------------------------------------------

def test_124m_preset_parameter_count_and_flops():
    with torch.device("meta"):
        model = GPT(preset_config("gpt2-124m", vocab_size=50_257, max_seq_len=1024))
    vocab, d, layers, hidden = 50_304, 768, 12, 2_048  # GPT-2's vocabulary padded; SwiGLU 8/3 * 768
    per_layer = 3 * d * d + d * d + 3 * d * hidden + 2 * d  # qkv, out proj, gate/up/down, two RMSNorm gains
    expected = vocab * d + layers * per_layer + d  # tied embedding once, final norm
    assert model.config.vocab_size == vocab
    assert model.num_params() == expected == 123_587_328
    assert flops_per_token(model.config, expected, 1024) == 6 * 123_587_328 + 12 * 12 * 768 * 1024


def test_weights_are_tied_and_nothing_has_a_bias():
    model = GPT(preset_config("tiny", vocab_size=300, max_seq_len=32))
    assert model.lm_head.weight is model.wte.weight and model.config.vocab_size == 320
    assert not [name for name, _ in model.named_parameters() if "bias" in name]
    assert all(m.bias is None for m in model.modules() if isinstance(m, torch.nn.Linear))
    assert {name.rsplit(".", 1)[-1] for name, p in model.named_parameters() if p.dim() < 2} == {"weight"}
    assert sum(1 for _, p in model.named_parameters() if p.dim() < 2) == 2 * 2 + 1  # norm gains only


def test_init_scales_the_residual_projections_by_depth():
    torch.manual_seed(0)
    model = GPT(preset_config("mini", vocab_size=1024, max_seq_len=32, n_layer=8))
    residual_std = 0.02 / math.sqrt(2 * 8)
    for name, param in model.named_parameters():
        if name.endswith(("attn.proj.weight", "mlp.down.weight")):
            assert param.std().item() == pytest.approx(residual_std, rel=0.05), name
        elif param.dim() == 2:
            assert param.std().item() == pytest.approx(0.02, rel=0.05), name
        else:
            assert torch.equal(param, torch.ones_like(param)), name


def test_attention_is_causal():
    torch.manual_seed(0)
    model = GPT(preset_config("tiny", vocab_size=128, max_seq_len=16)).eval()
    idx = torch.randint(0, 128, (2, 16))
    changed = idx.clone()
    changed[:, 10] = (idx[:, 10] + 1) % 128
    with torch.no_grad():
        before, _ = model(idx)
        after, _ = model(changed)
    assert torch.equal(before[:, :10], after[:, :10])
    assert not torch.allclose(before[:, 10:], after[:, 10:])
