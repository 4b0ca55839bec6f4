"""Fit the quote-scoring weights (scoring.Weights) on XQuAD, with an honest held-out estimate.

For every German and English XQuAD question, the product's own `quote_features` gives each
candidate sentence its feature row; a sentence is a positive when it holds a gold answer. A
linear listwise model (softmax over a question's candidates, log-likelihood of its positives,
small L2) is fitted

- in 5 folds grouped by Wikipedia article, so each question is scored by weights that never saw
  its article: the held-out first-quote / any-of-3 figures are what to expect on new text;
- then on all questions: the weights to ship, rescaled to the current weights' sum so the
  abstention thresholds stay on the same scale (recalibrate them anyway:
  benchmarks/abstention_calibration.py).

    .venv/bin/python benchmarks/fit_quote_weights.py [--limit N] [--work DIR]

Prints the current weights' figures beside the fitted ones; writes results/fit_quote_weights.json.
"""

from __future__ import annotations

import os

import numpy as np
from scipy.optimize import minimize

from _common import table, write_result
from xquad_quality import parse_args, prepare

from assistant import Assistant
from assistant.environment import settings_from_env
from assistant.answer.candidates import quote_features, retrieve
from assistant.config import FEATURES
from assistant.evaluation.metrics import contains_answer

FOLDS = 5
L2 = 1e-5


def collect(assistant: Assistant, questions: list[dict]) -> list[dict]:
    """Per question: feature rows, which rows hold the answer, the article (for grouping)."""
    out = []
    snapshot = assistant.snapshot
    for row in questions:
        features = quote_features(snapshot, retrieve(snapshot, row["question"]))
        texts = [snapshot.view.text(s.article_id, s.start, s.end) for s in features.sentences]
        labels = np.array([contains_answer(t, row["answer"]) for t in texts], dtype=bool)
        out.append({"x": features.values, "y": labels, "group": row["source"], "lang": row["lang"]})
    return out


def loss(weights: np.ndarray, items: list[dict]) -> tuple[float, np.ndarray]:
    """Negative log of the softmax mass on the positives, averaged, and its gradient."""
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


def fit(items: list[dict]) -> np.ndarray:
    usable = [i for i in items if i["y"].any()]
    start = settings_from_env(os.environ).weights.vector() * 10
    result = minimize(loss, start, args=(usable,), jac=True, method="L-BFGS-B")
    return result.x


def score(weights: np.ndarray, items: list[dict]) -> tuple[int, int]:
    """(first quote holds the answer, any of the top 3 does) counts."""
    first = any3 = 0
    for item in items:
        order = np.argsort(-(item["x"] @ weights), kind="stable")
        first += bool(len(order) and item["y"][order[0]])
        any3 += bool(item["y"][order[:3]].any())
    return first, any3


def cross_validated(items: list[dict]) -> dict[int, np.ndarray]:
    groups = sorted({i["group"] for i in items})
    fold_of = {g: k % FOLDS for k, g in enumerate(groups)}
    weights = {}
    for fold in range(FOLDS):
        train = [i for i in items if fold_of[i["group"]] != fold]
        weights[fold] = fit(train)
    return {id(i): weights[fold_of[i["group"]]] for i in items}


def figures(items: list[dict], weights_of) -> dict[str, dict]:
    out = {}
    for lang in ("de", "en"):
        subset = [i for i in items if i["lang"] == lang]
        counts = [score(weights_of(i), [i]) for i in subset]
        first, any3 = sum(c[0] for c in counts), sum(c[1] for c in counts)
        out[lang] = {"first_quote": round(first / len(subset), 4), "any_of_3": round(any3 / len(subset), 4)}
    return out


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    sources, sets = prepare(args.work)
    assistant = Assistant(settings=settings_from_env(os.environ).with_paths(sources, args.work / "index"), update=True, progress=True)
    items = []
    for lang, questions in sets.items():
        items += [{**i, "lang": lang} for i in collect(assistant, [{**q, "lang": lang} for q in questions[: args.limit]])]
    current = assistant.settings.weights.vector()
    held_out = cross_validated(items)
    fitted = fit(items)
    fitted *= current.sum() / fitted.sum()
    results = {
        "current": figures(items, lambda i: current),
        "held_out_5_fold": figures(items, lambda i: held_out[id(i)]),
        "fitted_on_all": figures(items, lambda i: fitted),
    }
    rows = [{"weights": name, "lang": lang, **vals} for name, by_lang in results.items() for lang, vals in by_lang.items()]
    print(table(rows, ["weights", "lang", "first_quote", "any_of_3"]))
    print("fitted weights (rescaled to the current sum):")
    print("  " + ", ".join(f"{name}={w:.3f}" for name, w in zip(FEATURES, fitted)))
    path = write_result("fit_quote_weights", {"features": list(FEATURES), "current": current.tolist(),
                                              "fitted": [round(float(w), 4) for w in fitted], "results": results})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
