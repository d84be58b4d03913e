"""The project's own n-gram estimator: interpolated modified Kneser-Ney (Chen & Goodman 1998), written as ARPA.

KenLM's estimator `lmplz` is not used: it is not on any package registry, and building it needs KenLM's C++
source and Boost, which cannot be fetched here (no internet beyond the package registries). The query side
is KenLM itself (the `ufal-kenlm` wheel), which loads the ARPA file written here. The estimate follows the
method lmplz implements:

- Sentences are padded as `<s> w1 .. wk </s>`; every n-gram (n <= order) ending at a predicted word is counted.
- Highest order: raw counts. Lower orders: adjusted (continuation) counts, the number of distinct words seen
  before the n-gram, except for n-grams that start with `<s>`, which nothing can precede: their raw count.
- Discounts per order from the counts of adjusted counts t1..t4: Y = t1 / (t1 + 2 t2), D1 = 1 - 2Y t2/t1,
  D2 = 2 - 3Y t3/t2, D3+ = 3 - 4Y t4/t3. Where a t_k is 0 or a discount falls outside (0, k] (tiny data),
  lmplz's `--discount_fallback` values (0.5, 1, 1.5) are used for that order.
- p(w | h) = (a(hw) - D(a(hw))) / sum_v a(hv) + gamma(h) p(w | h'), gamma(h) = (D1 N1(h.) + D2 N2(h.) +
  D3+ N3+(h.)) / sum_v a(hv), h' = h without its first word; unigrams interpolate with the uniform
  distribution over the vocabulary (every predicted word, `</s>` and `<unk>`; `<s>` is never predicted).
  `<unk>` gets gamma(empty) / |V|. Each listed n-gram's ARPA probability is the interpolated one and each
  context's backoff is its gamma, so ARPA backoff arithmetic reproduces the interpolated model exactly.

No pruning. Pure functions over token lists (no I/O but `write_arpa`), kept in Python dicts: an order-5 model
of a few million tokens fits in a few GB.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # lmplz's --discount_fallback defaults
NEVER_LOG10 = -99.0  # the ARPA convention for <s>, which is context only and never predicted

Ngram = tuple[str, ...]


@dataclass(frozen=True)
class NgramModel:
    """An interpolated model: log10 p and log10 backoff of every listed n-gram, per order (index n - 1)."""

    order: int
    log10_probs: tuple[dict[Ngram, float], ...]
    log10_backoffs: tuple[dict[Ngram, float], ...]  # contexts only (orders 1 .. order - 1); absent means 0
    discounts: tuple[tuple[float, float, float], ...]  # (D1, D2, D3+) per order


def count_ngrams(sentences: Iterable[Sequence[str]], order: int) -> list[Counter]:
    """Raw counts of every n-gram (n <= order) ending at a predicted word of `<s> sentence </s>`."""
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    counts: list[Counter] = [Counter() for _ in range(order)]
    for tokens in sentences:
        padded = (BOS, *tokens, EOS)
        for end in range(1, len(padded)):
            for n in range(1, min(order, end + 1) + 1):
                counts[n - 1][padded[end - n + 1:end + 1]] += 1
    return counts


def adjusted_counts(raw: Sequence[Counter]) -> list[dict[Ngram, int]]:
    """Kneser-Ney counts: raw at the highest order and for n-grams starting with <s>, else the number of
    distinct left extensions seen one order up."""
    adjusted: list[dict[Ngram, int]] = [dict(raw[-1])]
    for n in range(len(raw) - 1, 0, -1):  # lower order n (index n - 1) from the extensions at order n + 1
        left_extensions: Counter = Counter(ngram[1:] for ngram in raw[n])
        adjusted.insert(0, {ngram: count if ngram[0] == BOS else left_extensions[ngram]
                            for ngram, count in raw[n - 1].items()})
    return adjusted


def modified_discounts(counts: Iterable[int]) -> tuple[float, float, float]:
    """(D1, D2, D3+) from the counts of counts (Chen & Goodman), or the fallback where they are not usable."""
    of = Counter(count for count in counts if count <= 4)
    t1, t2, t3, t4 = (of[k] for k in (1, 2, 3, 4))
    if not (t1 and t2 and t3 and t4):
        return FALLBACK_DISCOUNTS
    y = t1 / (t1 + 2 * t2)
    found = (1 - 2 * y * t2 / t1, 2 - 3 * y * t3 / t2, 3 - 4 * y * t4 / t3)
    if not all(0 < discount <= k for k, discount in enumerate(found, 1)):
        return FALLBACK_DISCOUNTS
    return found


def _discount(count: int, discounts: tuple[float, float, float]) -> float:
    return discounts[min(count, 3) - 1]


def _context_totals(counts: dict[Ngram, int], discounts: tuple[float, float, float]
                    ) -> tuple[dict[Ngram, int], dict[Ngram, float]]:
    """Per context h: the sum of its n-grams' counts and the mass its discounts free (gamma's numerator)."""
    totals: dict[Ngram, int] = defaultdict(int)
    freed: dict[Ngram, float] = defaultdict(float)
    for ngram, count in counts.items():
        totals[ngram[:-1]] += count
        freed[ngram[:-1]] += _discount(count, discounts)
    return totals, freed


def estimate(sentences: Iterable[Sequence[str]], order: int = 5) -> NgramModel:
    """The interpolated modified Kneser-Ney model of tokenized sentences."""
    adjusted = adjusted_counts(count_ngrams(sentences, order))
    if not adjusted[0]:
        raise ValueError("no sentences to estimate a model from")
    probs: list[dict[Ngram, float]] = []  # interpolated probabilities (not logs) per order
    backoffs: list[dict[Ngram, float]] = []
    all_discounts = []
    for n, counts in enumerate(adjusted, 1):
        discounts = modified_discounts(counts.values())
        all_discounts.append(discounts)
        totals, freed = _context_totals(counts, discounts)
        gammas = {context: freed[context] / total for context, total in totals.items()}
        if n == 1:
            vocabulary_size = len(set(counts) | {(UNK,)})
            lower = defaultdict(lambda: 1.0 / vocabulary_size)
        else:
            lower = probs[-1]
            backoffs.append(gammas)
        order_probs = {ngram: (count - _discount(count, discounts)) / totals[ngram[:-1]]
                       + gammas[ngram[:-1]] * lower[ngram[1:]] for ngram, count in counts.items()}
        if n == 1:
            order_probs[(UNK,)] = order_probs.get((UNK,), 0.0) + (0.0 if (UNK,) in counts else
                                                                   gammas[()] / vocabulary_size)
        probs.append(order_probs)
    log10_probs = tuple({ngram: math.log10(p) for ngram, p in order.items()} for order in probs)
    log10_probs[0][(BOS,)] = NEVER_LOG10
    log10_backoffs = tuple({context: math.log10(gamma) for context, gamma in order.items()} for order in backoffs)
    return NgramModel(order, log10_probs, log10_backoffs, tuple(all_discounts))


def _number(value: float) -> str:
    return format(value, ".9g")


def arpa_lines(model: NgramModel) -> list[str]:
    """The model as ARPA text lines, n-grams sorted within each order (the same model gives the same bytes)."""
    lines = ["", "\\data\\"] + [f"ngram {n}={len(order)}" for n, order in enumerate(model.log10_probs, 1)]
    for n, order in enumerate(model.log10_probs, 1):
        lines += ["", f"\\{n}-grams:"]
        backoffs = model.log10_backoffs[n - 1] if n < model.order else None
        for ngram in sorted(order):
            entry = f"{_number(order[ngram])}\t{' '.join(ngram)}"
            if backoffs is not None:
                entry += f"\t{_number(backoffs.get(ngram, 0.0))}"
            lines.append(entry)
    return lines + ["", "\\end\\", ""]


def write_arpa(model: NgramModel, path: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as stream:
        stream.write("\n".join(arpa_lines(model)))
