"""Fitting helpers for benchmarks/fit_answer_policy.py: the listwise quote-weight fit and the
refusal-threshold sweep. They fit on the development split only (benchmarks/dev_set.py)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

L2 = 1e-5
MAX_FALSE_ABSTAIN = 0.05  # similarity-only refusal: at most this share of answerable questions refused


def listwise_loss(weights: np.ndarray, items: list[dict]) -> tuple[float, np.ndarray]:
    """Negative log of the softmax mass on a question's positive sentences, averaged, and its
    gradient (each item: `x` feature rows of its candidate sentences, `y` which hold the answer)."""
    total, grad = 0.0, np.zeros_like(weights)
    for item in items:
        z = item["x"] @ weights
        z -= z.max()
        p = np.exp(z)
        p /= p.sum()
        pos = p[item["y"]].sum()
        total -= np.log(pos)
        q = np.where(item["y"], p / pos, 0.0)  # posterior over positives
        grad -= item["x"].T @ (q - p)
    n = len(items)
    return total / n + L2 * weights @ weights, grad / n + 2 * L2 * weights


def fit_listwise(items: list[dict], start: np.ndarray) -> np.ndarray:
    """Quote weights that put the most softmax mass on the sentences holding the answer."""
    usable = [i for i in items if i["y"].any()]
    return minimize(listwise_loss, start, args=(usable,), jac=True, method="L-BFGS-B").x


def sweep(answerable: np.ndarray, unanswerable: np.ndarray) -> list[dict]:
    """For thresholds across the scores: answerable refused, unanswerable refused, balanced accuracy."""
    rows = []
    for threshold in np.unique(np.round(np.quantile(np.concatenate([answerable, unanswerable]),
                                                    np.linspace(0.01, 0.99, 99)), 3)):
        false_abstain = float((answerable < threshold).mean())
        correct_abstain = float((unanswerable < threshold).mean()) if len(unanswerable) else 0.0
        rows.append({"threshold": float(threshold), "false_abstain": round(false_abstain, 4),
                     "abstained_unanswerable": round(correct_abstain, 4),
                     "balanced_accuracy": round((1 - false_abstain + correct_abstain) / 2, 4)})
    return rows


def recommend(rows: list[dict]) -> dict:
    """The best balanced accuracy among thresholds refusing at most MAX_FALSE_ABSTAIN."""
    allowed = [r for r in rows if r["false_abstain"] <= MAX_FALSE_ABSTAIN]
    return max(allowed or rows, key=lambda r: r["balanced_accuracy"])
