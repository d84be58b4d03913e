"""The perplexity stage's GPT backend on CPU: documents and tokens per CPU second on real pages.

    python benchmarks/perplexity_gpt_cpu.py --checkpoint out/demo --tokenizer out/demo/tokenizer/tokenizer.json \
        --data ../shared/data [--docs 300]

Scores the gold main text of the extraction development set's pages (real pages, ../shared/data/extraction/dev)
with `trainer.score.GptScorer` on one CPU thread (each window alone: the deterministic CPU path), and prints
documents and tokens per CPU second with the model's size. `make demo` writes the checkpoint used in
benchmarks/RESULTS.md ("Perplexity (issue 20)").
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from benchmarks.measure import Timer, machine_line  # noqa: E402
from benchmarks.pii_eval import web_documents  # noqa: E402
from trainer.score import GptScorer  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", required=True, help="a trainer.train checkpoint or output folder")
    parser.add_argument("--tokenizer", required=True, help="the tokenizer.json of the model's shards")
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--docs", type=int, default=300, help="pages scored (the first by id)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    pages = sorted(web_documents(args.data, sources=("extraction_gold",))["extraction_gold"])[:args.docs]
    texts = [text for _, text in pages]
    scorer = GptScorer(args.checkpoint, args.tokenizer, device="cpu")
    tokens = sum(len(e.ids) for e in scorer.tokenizer.encode_batch(texts, add_special_tokens=False))
    with Timer() as timer:
        values = scorer.perplexities(texts)
    scored = [v for v in values if v is not None]
    config = scorer.model.config
    print(machine_line())
    print(f"model: {scorer.model.num_params():,} parameters ({config.n_layer} layers, d_model {config.d_model}, "
          f"windows of {config.max_seq_len} tokens); {len(texts)} pages, {tokens:,} tokens")
    print(f"{len(texts) / timer.cpu_s:,.1f} docs per CPU second, {tokens / timer.cpu_s:,.0f} tokens per CPU second "
          f"({timer.cpu_s:.1f} CPU s, {timer.wall_s:.1f} s wall); median perplexity "
          f"{sorted(scored)[len(scored) // 2]:,.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
