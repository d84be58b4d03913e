"""The perplexity stage's GPT backend (trainer/score.py): a tiny trainer.train checkpoint scores documents
exactly as a token-by-token recomputation does, across window boundaries, in the stage and in run_stages."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
import torch.nn.functional as F

from filters.perplexity import PerplexityConfig, PerplexityStage
from jobs import run_stages
from testkit.text_corpus import sample_documents, write_corpus
from tokenizer.config import TokenizeConfig, TokenizeJobConfig, TokenizerConfig
from tokenizer.encode import serial_map, tokenize_corpus
from tokenizer.train import train_tokenizer
from trainer.score import GptScorer, resolve_checkpoint
from trainer.train import TrainConfig, train

SEQ_LEN = 16  # short windows: a sample document spans several
TEXT = ("The members planted beans along the south fence and watered the young leeks before sunrise. "
        "After two cold nights in April, half of the early carrots had to be sown again.")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """(trainer output folder, tokenizer.json) of 6 optimizer steps on the sample texts."""
    root = tmp_path_factory.mktemp("gpt_scorer")
    docs = sample_documents(with_tricky=False)
    write_corpus(root / "corpus", docs, parts=1)
    texts = [d["text"] for d in docs if d["text"]]
    train_tokenizer(texts, len(texts), TokenizerConfig(vocab_size=512)).save(str(root / "tokenizer.json"))
    tokenize_corpus(str(root / "corpus"), str(root / "tokenizer.json"), str(root / "tokens"),
                    TokenizeJobConfig(TokenizeConfig(val_fraction=0.1, shard_tokens=20_000)), serial_map,
                    log=lambda _: None)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(TrainConfig(tokens_dir=str(root / "tokens"), out_dir=str(root / "run"), model="tiny", n_layer=1,
                          n_head=2, d_model=32, seq_len=SEQ_LEN, micro_batch=4, max_steps=6, lr=1e-2, warmup_steps=2,
                          eval_every=0, checkpoint_every=0, log_every=1000))
    finally:
        torch.set_num_threads(threads)
    return root / "run", root / "tokenizer.json"


def token_by_token(scorer: GptScorer, text: str) -> float:
    """exp(mean NLL), each target predicted from its window's start alone, one forward pass per target."""
    ids = [scorer.separator] + scorer.tokenizer.encode(text, add_special_tokens=False).ids
    nll = 0.0
    with torch.no_grad():
        for target in range(1, len(ids)):
            start = (target - 1) // SEQ_LEN * SEQ_LEN
            logits, _ = scorer.model(torch.tensor([ids[start:target]]))
            nll -= F.log_softmax(logits[0, -1].float(), dim=-1)[ids[target]].item()
    return math.exp(nll / (len(ids) - 1))


def test_scores_equal_a_token_by_token_recomputation_across_windows(trained):
    run, tokenizer = trained
    scorer = GptScorer(str(run), str(tokenizer), device="cpu")
    assert resolve_checkpoint(str(run)).name == "ckpt-6.pt"
    assert len(scorer.tokenizer.encode(TEXT, add_special_tokens=False).ids) > 2 * SEQ_LEN  # three windows at least
    short, long_, empty = scorer.perplexities(["Beans.", TEXT, ""])
    assert long_ == pytest.approx(token_by_token(scorer, TEXT), rel=1e-5)
    assert short == pytest.approx(token_by_token(scorer, "Beans."), rel=1e-5)
    assert empty is None
    # a document's value does not depend on the batch it is scored in
    assert scorer.perplexities([TEXT]) == [long_]


def test_the_stage_scores_every_language_and_drops_above_the_threshold(trained, tmp_path):
    run, tokenizer = trained
    settings = ["perplexity.backend='gpt'", f"perplexity.gpt_checkpoint='{run}'",
                f"perplexity.gpt_tokenizer='{tokenizer}'", "perplexity.gpt_device='cpu'"]
    config = PerplexityConfig(backend="gpt", gpt_checkpoint=str(run), gpt_tokenizer=str(tokenizer), gpt_device="cpu")
    expected, other = GptScorer(str(run), str(tokenizer), device="cpu").perplexities([TEXT, "Zqx vbk wjj."])
    assert PerplexityStage(config).measure({"text": TEXT, "lang": "xx"}) == {"perplexity": expected,
                                                                               "perplexity_bucket": None}
    with pytest.raises(ValueError, match="gpt_checkpoint"):
        PerplexityStage(PerplexityConfig(backend="gpt", gpt_tokenizer=str(tokenizer)))
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": t}) + "\n"
                              for i, t in (("a", TEXT), ("b", "Zqx vbk wjj."), ("c", " "))))
    limit = (expected + other) / 2  # between the two: the one above it is dropped, whichever it is
    assert run_stages.main(["--stages", "perplexity", "--input", str(source), "--output", str(tmp_path / "out"),
                            *[arg for s in settings + [f"perplexity.max_perplexity={{default={limit}}}"]
                              for arg in ("--set", s)]]) == 0
    rows = {r["id"]: r for r in pq.read_table(tmp_path / "out" / "documents.parquet").to_pylist()}
    assert (rows["a"]["perplexity"], rows["b"]["perplexity"]) == (expected, other) and expected != other
    above = "perplexity:above_threshold"
    assert (rows["a"]["drop_reason"], rows["b"]["drop_reason"]) == ((above, None) if expected > other else (None, above))
    assert rows["c"]["perplexity"] is None and rows["c"]["drop_reason"] is None
