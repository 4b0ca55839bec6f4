"""Would one model pass do? The first stage's choice of sentences with and without the sentence
vectors of the second indexing pass, on the development split (never XQuAD).

Indexing runs the model twice over the same tokens (benchmarks/README.md, "Indexing
throughput"): once over each passage, pooling every sentence in its passage's context
(`in_context`), and once over every sentence alone (`as_passage`). Dropping the second pass would
about double the indexing rate. Here the quote weights (answer/candidates.py FEATURES) are
refitted listwise, as fit_answer_policy.py fits them, with all five features and without
`as_passage`, each held out by article (5 folds), and the shipped weights are scored as they are.
Per language pair: the first stage's best sentence holds the answer (top 1), and one of its best
4 (what the answer model reads: `ReaderPolicy.candidates`) or 8 does.

    .venv/bin/python benchmarks/sentence_vectors_ablation.py [--dev benchmarks/.work/dev]

Writes results/sentence_vectors_ablation.json.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from _common import REPO, table, write_result
from _fitting import fit_listwise
from fit_answer_policy import FOLDS, first_stage, folds_by_article, group_of, load_questions, open_corpus

from assistant.config import FEATURES
from assistant.environment import settings_from_env

DEPTHS = (1, 4, 8)


def hits(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[bool, ...]:
    """Does the best sentence, one of the best 4, one of the best 8 hold the answer?"""
    order = np.argsort(-(x @ weights))
    return tuple(bool(y[order[:depth]].any()) for depth in DEPTHS)


def held_out(items: list[dict], columns: list[int]) -> list[tuple[dict, tuple[bool, ...]]]:
    """Each item scored by weights fitted listwise on the other folds (grouped by article)."""
    fold_of = folds_by_article(items)
    out = []
    for fold in range(FOLDS):
        train = [dict(i, x=i["x"][:, columns]) for i in items if fold_of[group_of(i["row"])] != fold]
        weights = fit_listwise(train, np.full(len(columns), 0.3))
        out += [(i, hits(i["x"][:, columns], i["y"], weights)) for i in items if fold_of[group_of(i["row"])] == fold]
    return out


def figures(scored: list[tuple[dict, tuple[bool, ...]]], variant: str) -> list[dict]:
    pairs = sorted({i["row"]["pair"] for i, _ in scored})
    rows = []
    for pair in pairs:
        mine = [h for i, h in scored if i["row"]["pair"] == pair]
        rows.append({"variant": variant, "pair": pair, "n": len(mine),
                     **{f"top{d}": round(float(np.mean([h[k] for h in mine])), 3) for k, d in enumerate(DEPTHS)}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=REPO / "benchmarks" / ".work" / "dev")
    args = parser.parse_args()
    settings = settings_from_env(os.environ)
    corpora = [d for d in sorted(args.dev.iterdir()) if (d / "questions.jsonl").exists()]
    if not corpora:
        raise SystemExit(f"no development corpora in {args.dev}: run benchmarks/dev_set.py first")
    items = []
    for corpus in corpora:
        rows = [r for r in load_questions(corpus) if r["answer"]]
        if rows:  # the near-miss corpora hold no answerable question
            items += [i for i in first_stage(open_corpus(corpus, settings), rows) if len(i["x"])]
    shipped = settings.weights.vector()
    every = list(range(len(FEATURES)))
    one_pass = [c for c in every if FEATURES[c] != "as_passage"]
    rows = (figures([(i, hits(i["x"], i["y"], shipped)) for i in items], "shipped weights")
            + figures(held_out(items, every), "refitted, all features")
            + figures(held_out(items, one_pass), "refitted, without as_passage (one pass)"))
    print(table(rows, list(rows[0])))
    print(f"wrote {write_result('sentence_vectors_ablation', {'dev': str(args.dev), 'features': list(FEATURES), 'rows': rows})}")


if __name__ == "__main__":
    main()
