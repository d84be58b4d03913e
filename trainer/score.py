"""The bundled GPT as a perplexity scorer: the `perplexity` stage's `backend = "gpt"` (model-based perplexity
pruning: the pipeline's own reference model ranks web text, beyond cc_net's n-gram models).

A document is scored the way the trainer reads it: its tokens (the tokenizer the shards were made with,
special tokens encoded as text) after the separator `<|endoftext|>` that starts every document in the shards.
Long documents are cut into windows of the model's `max_seq_len` input tokens; each window predicts its next
tokens from its own start (no context carried across windows). The perplexity is exp of the mean negative
log-likelihood (nats) over every predicted token, the same number as KenLM's 10 ** (-log10 p / tokens).

Determinism: on CPU each window runs alone, shape (1, its length), so a document's value depends on that
document only, never on which others share its batch (CPU kernels may round differently for other shapes);
on a GPU the windows of a batch are padded into one (B, max_seq_len) call in bf16 autocast for speed, and
values there are not bit-stable across batch compositions (GPU matmuls are not). Imports torch, the model and
the `tokenizers` library only: the stage loads this module by name, on first use (filters/perplexity.py).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

from trainer.model import GPT, GPTConfig

SEPARATOR_TOKEN = "<|endoftext|>"  # tokenizer.config.SEPARATOR_TOKEN: id 0 of every tokenizer this project trains
IGNORED = -100  # F.cross_entropy's ignore_index: padding positions of a GPU batch


def resolve_checkpoint(path: str) -> Path:
    """A checkpoint file, or a trainer output folder (its train/latest, or latest, names the checkpoint)."""
    candidate = Path(path)
    for folder in (candidate / "train", candidate):
        if (folder / "latest").is_file():
            return folder / (folder / "latest").read_text(encoding="utf-8").strip()
    if not candidate.is_file():
        raise FileNotFoundError(f"GPT checkpoint not found: {path} (a ckpt-N.pt or a trainer output folder)")
    return candidate


def windows(ids: Sequence[int], length: int) -> list[tuple[list[int], list[int]]]:
    """(inputs, targets) of each window: up to `length` inputs from ids[s], each with the token after it as its
    target (the last token of the document is a target only)."""
    return [(list(ids[s:min(s + length, len(ids) - 1)]), list(ids[s + 1:s + length + 1]))
            for s in range(0, len(ids) - 1, length)]


class GptScorer:
    """Perplexity of texts under a `trainer.train` checkpoint."""

    def __init__(self, checkpoint: str, tokenizer_path: str, device: str = "auto", batch_windows: int = 16) -> None:
        self.device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device)
        state = torch.load(resolve_checkpoint(checkpoint), map_location=self.device, weights_only=True)
        self.model = GPT(GPTConfig(**state["model_config"])).to(self.device)
        self.model.load_state_dict(state["model"])
        self.model.eval()
        self.tokenizer = Tokenizer.from_file(tokenizer_path)
        self.tokenizer.encode_special_tokens = True
        separator = self.tokenizer.token_to_id(SEPARATOR_TOKEN)
        if separator is None:
            raise ValueError(f"{tokenizer_path} has no {SEPARATOR_TOKEN!r}: not a tokenizer this project trained")
        self.separator = separator
        self.batch_windows = batch_windows

    @torch.no_grad()
    def _window_nll(self, batch: list[tuple[list[int], list[int]]]) -> list[float]:
        """Summed negative log-likelihood (nats) of each window's targets."""
        if self.device.type == "cpu":
            return [float(F.cross_entropy(self.model(torch.tensor([inputs]))[0][0].float(), torch.tensor(targets),
                                          reduction="sum")) for inputs, targets in batch]
        length = max(len(inputs) for inputs, _ in batch)
        inputs = torch.zeros((len(batch), length), dtype=torch.long)
        targets = torch.full((len(batch), length), IGNORED, dtype=torch.long)
        for row, (window, following) in enumerate(batch):
            inputs[row, :len(window)] = torch.tensor(window)
            targets[row, :len(following)] = torch.tensor(following)
        inputs, targets = inputs.to(self.device), targets.to(self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16):
            logits, _ = self.model(inputs)
        nll = F.cross_entropy(logits.float().transpose(1, 2), targets, ignore_index=IGNORED, reduction="none")
        return nll.sum(dim=1).tolist()

    def perplexities(self, texts: Sequence[str]) -> list[float | None]:
        """exp(mean NLL per predicted token) of each text; None for a blank text (as the n-gram backend)."""
        encoded = self.tokenizer.encode_batch([text if text.strip() else "" for text in texts],
                                              add_special_tokens=False)
        jobs = [(doc, window) for doc, encoding in enumerate(encoded) if encoding.ids
                for window in windows([self.separator] + encoding.ids, self.model.config.max_seq_len)]
        nll = [0.0] * len(texts)
        for start in range(0, len(jobs), self.batch_windows):
            batch = jobs[start:start + self.batch_windows]
            for (doc, _), value in zip(batch, self._window_nll([window for _, window in batch]), strict=True):
                nll[doc] += value
        return [math.exp(nll[doc] / len(encoding.ids)) if encoding.ids else None
                for doc, encoding in enumerate(encoded)]
