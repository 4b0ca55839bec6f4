"""SQuAD answer normalisation, exact match and token F1 (as in evaluate-v2.0.py), on the
product's normaliser (assistant/normalise.py) so the reader's training figures and the
evaluation compare answers the same way.

It differs from the official script in ways that only matter for numbers, non-ASCII and
German text: numbers are written one way ("1,5" = "1.5", not "15"), Unicode punctuation is
dropped as ASCII punctuation is, a hyphen splits words ("Vodafone-Konzern" = "vodafone konzern"),
and German articles are dropped as English ones are (as MLQA's evaluation does for German).
"""

from __future__ import annotations

from typing import Sequence

from assistant.evaluation.metrics import bag_f1
from assistant.normalise import normalise


def normalize_answer(text: str, language: str | None = None) -> str:
    """Case folded, punctuation and articles dropped, numbers written one way (normalise.py)."""
    return normalise(text, language)


def exact(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)  # as the official script: "no answer" matches only "no answer"
    return bag_f1(pred, ref)


def best_exact(prediction: str, golds: Sequence[str]) -> float:
    return max((exact(prediction, g) for g in golds), default=0.0)


def best_f1(prediction: str, golds: Sequence[str]) -> float:
    return max((f1(prediction, g) for g in golds), default=0.0)
