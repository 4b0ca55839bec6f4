"""Score a reader on held-out (question, context) pairs and choose the no-answer threshold.

Threshold semantics (the same as the product's): a pair is answered when
best span score - no-answer score > threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from tqdm import tqdm

from assistant.models.reader.model import Reader, best_span
from training.qa_data import Example
from training.squad_metrics import best_exact, best_f1


@dataclass(frozen=True)
class Scored:
    kind: str  # gold / impossible / negative
    qid: str
    source: str
    margin: float
    prediction: str
    em: float  # vs the gold answers (0 for unanswerable pairs)
    f1: float


def score_examples(
    reader: Reader, examples: Sequence[Example], batch: int = 32, desc: str = "calibration", on_batch=None
) -> list[Scored]:
    """Best span and margin for every pair, read in length-sorted batches (less padding).
    on_batch(n_chars) is called after each batch (the trainer's thread tuner)."""
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].context) + len(examples[i].question))
    out: list[Scored | None] = [None] * len(examples)
    for lo in tqdm(range(0, len(order), batch), desc=desc, unit="batch", mininterval=5):
        idx = order[lo:lo + batch]
        readings = reader.read_pairs([(examples[i].question, examples[i].context) for i in idx])
        if on_batch is not None:
            on_batch(sum(len(examples[i].context) for i in idx))
        for i, reading in zip(idx, readings):
            ex = examples[i]
            span = best_span(reading)
            text = reading.text[span.start:span.end] if span else ""
            golds = [a for a, _ in ex.answers]
            out[i] = Scored(
                ex.kind, ex.qid, ex.source, reading.margin(span), text,
                best_exact(text, golds) if golds else 0.0, best_f1(text, golds) if golds else 0.0,
            )
    return [s for s in out if s is not None]


def _metrics_at(scored: Sequence[Scored], t: float) -> dict[str, float]:
    answerable = [s for s in scored if s.kind == "gold"]
    impossible = [s for s in scored if s.kind == "impossible"]
    negative = [s for s in scored if s.kind == "negative"]

    def share(items, cond):
        return float(np.mean([cond(s) for s in items])) if items else float("nan")

    def squad2(items, field):
        vals = [(getattr(s, field) if s.margin > t else 0.0) if s.kind == "gold" else float(s.margin <= t) for s in items]
        return float(np.mean(vals)) if vals else float("nan")

    gold_pairs = answerable + impossible
    return {
        "threshold": t,
        "has_answer_accuracy": share(answerable, lambda s: s.margin > t),
        "false_refusal": share(answerable, lambda s: s.margin <= t),
        "impossible_refused": share(impossible, lambda s: s.margin <= t),
        "negative_refused": share(negative, lambda s: s.margin <= t),
        "squad2_em": squad2(gold_pairs, "em"),
        "squad2_f1": squad2(gold_pairs, "f1"),
        "all_pairs_f1": squad2(list(scored), "f1"),
    }


def calibrate(scored: Sequence[Scored], max_false_refusal: float = 0.05) -> dict:
    """Span quality, ranking, and two thresholds: the one with the best F1 over all held-out pairs
    (gold, unanswerable, hard negatives), and the highest one refusing at most 5% of answerable pairs."""
    answerable = [s for s in scored if s.kind == "gold"]
    margins = np.array(sorted({s.margin for s in scored if math.isfinite(s.margin)}))
    candidates = np.concatenate([[margins[0] - 1.0], (margins[:-1] + margins[1:]) / 2, [margins[-1] + 1.0]])
    if len(candidates) > 2000:
        candidates = np.quantile(candidates, np.linspace(0, 1, 2000))
    best = max(candidates, key=lambda t: _metrics_at(scored, float(t))["all_pairs_f1"])
    gold_margins = np.sort([s.margin for s in answerable])
    k = int(math.floor(max_false_refusal * len(gold_margins)))  # this many may fall at or below t
    strict = float(gold_margins[k] - 1e-4) if k < len(gold_margins) else float(gold_margins[-1])
    # Ranking: is the gold paragraph's margin above every hard negative of the same question?
    neg_by_q: dict[str, list[float]] = {}
    for s in scored:
        if s.kind == "negative":
            neg_by_q.setdefault(s.qid.split("#")[0], []).append(s.margin)
    ranked = [s.margin > max(neg_by_q[s.qid]) for s in answerable if s.qid in neg_by_q]
    return {
        "pairs": {k2: sum(s.kind == k2 for s in scored) for k2 in ("gold", "impossible", "negative")},
        "has_answer_em": float(np.mean([s.em for s in answerable])) if answerable else None,
        "has_answer_f1": float(np.mean([s.f1 for s in answerable])) if answerable else None,
        "gold_above_negatives": float(np.mean(ranked)) if ranked else None,
        "at_best_f1": _metrics_at(scored, float(best)),
        "at_max_5pct_false_refusal": _metrics_at(scored, strict),
    }


def by_source(scored: Sequence[Scored], thresholds: dict[str, float]) -> dict[str, dict]:
    """Per training file (so per language): span quality and refusals at the global thresholds."""
    out = {}
    for source in sorted({s.source for s in scored}):
        part = [s for s in scored if s.source == source]
        gold = [s for s in part if s.kind == "gold"]
        out[source] = {
            "pairs": len(part),
            "has_answer_em": float(np.mean([s.em for s in gold])) if gold else None,
            "has_answer_f1": float(np.mean([s.f1 for s in gold])) if gold else None,
            **{f"at_{name}": _metrics_at(part, t) for name, t in thresholds.items()},
        }
    return out
