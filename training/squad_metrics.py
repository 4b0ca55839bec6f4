"""SQuAD answer normalisation, exact match and token F1 (as in evaluate-v2.0.py), on the
product's normaliser (assistant/normalise.py) so the reader's training figures and the
evaluation compare answers the same way.

It differs from the official script in three ways that only matter for numbers and non-ASCII
text: numbers are written one way ("1,5" = "1.5", not "15"), Unicode punctuation is dropped
as ASCII punctuation is, and a hyphen splits words ("Vodafone-Konzern" = "vodafone konzern").
"""

from __future__ import annotations

from typing import Sequence

from assistant.evaluation.metrics import bag_f1
from assistant.normalise import tokens

_ARTICLES = frozenset(("a", "an", "the"))  # dropped, as the official script does


def normalize_answer(text: str, language: str | None = None) -> str:
    """Case folded, punctuation and English articles dropped, numbers written one way."""
    return " ".join(t for t in tokens(text, language) if t not in _ARTICLES)


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
