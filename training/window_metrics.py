"""How well the answer model reads held-out windows: does it put the gold sentence first, tell
holding from not holding, and find the span (training's own report; the product's decisions are
fitted on the development split through the real pipeline: benchmarks/fit_answer_policy.py)."""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import numpy as np

from assistant.models.reader.model import Reader, best_span
from training.answer_data import TrainWindow
from training.squad_metrics import best_exact, best_f1


def auc(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """Chance that a random positive scores above a random negative (ties count half)."""
    if not positive or not negative:
        return None
    pos, neg = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def _figures(rows: list[dict]) -> dict:
    by_question: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_question[r["qid"]].append(r)
    ranked = [max(rs, key=lambda r: r["holds"])["gold"] for rs in by_question.values() if any(r["gold"] for r in rs)]
    gold = [r for r in rows if r["gold"]]
    return {
        "windows": len(rows),
        "questions": len(by_question),
        "gold_first": float(np.mean(ranked)) if ranked else None,
        "holds_auc": auc([r["holds"] for r in rows if r["gold"]], [r["holds"] for r in rows if not r["gold"]]),
        "span_em": float(np.mean([r["em"] for r in gold])) if gold else None,
        "span_f1": float(np.mean([r["f1"] for r in gold])) if gold else None,
    }


def evaluate_windows(reader: Reader, windows: Sequence[TrainWindow], batch: int = 64) -> dict:
    """Figures over all windows and per source file."""
    rows = []
    by_question: dict[tuple[str, str], list[int]] = defaultdict(list)
    for k, w in enumerate(windows):
        by_question[(w.qid, w.question)].append(k)
    for (_, question), idx in by_question.items():
        readings = reader.read(question, [windows[k].input for k in idx], batch_size=batch)
        for k, reading in zip(idx, readings):
            w = windows[k]
            span = best_span(reading)
            text = reading.text[span.start:span.end] if span else ""
            gold = w.input.candidate[w.answer[0]:w.answer[1]] if w.answer else None
            rows.append({"qid": w.qid, "source": w.source, "gold": w.holds, "holds": reading.holds,
                         "em": best_exact(text, [gold]) if gold else 0.0, "f1": best_f1(text, [gold]) if gold else 0.0})
    out = {"all": _figures(rows)}
    for source in sorted({r["source"] for r in rows}):
        out[source] = _figures([r for r in rows if r["source"] == source])
    return out
