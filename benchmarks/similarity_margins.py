"""The similarity mode's two quote margins on the development split (never XQuAD).

With the answer model off (ASSISTANT_READER=0) the first stage's best sentences are the quotes
(answer/selection.py `select`): two neighbours in one passage within `neighbour_tie_margin` of each
other are quoted as one span, and a sentence of another article within `support_margin` of the
best quote is moved up to second place. Both were set by hand while looking at XQuAD. Here every
pair of values runs the product's own judge (`SimilarityJudge`) on each development question's
first stage, read once, and reports per language pair: first quote and any quote hold the
answer (a refusal counts as a miss), answerable refused, and the first quote's mean length; and
the values `choose` takes.

    .venv/bin/python benchmarks/similarity_margins.py [--dev benchmarks/.work/dev] [--limit N]

Writes results/similarity_margins.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
from _common import REPO, table, write_result
from fit_answer_policy import load_questions, open_corpus

from assistant.answer.candidates import SimilarityFirstStage
from assistant.answer.judging import SimilarityJudge
from assistant.answer.selection import SimilaritySelection
from assistant.environment import settings_from_env
from assistant.evaluation.metrics import contains_answer

TIE_MARGINS = (0.0, 0.005, 0.01, 0.02, 0.04)
SUPPORT_MARGINS = (0.0, 0.025, 0.05, 0.1)


def judged(assistant, rows: list[dict]) -> list[tuple[dict, object, list]]:
    """Each question's first stage, read once: (row, retrieved, candidates)."""
    stage = SimilarityFirstStage.of(assistant.snapshot)
    out = []
    for row in rows:
        retrieved = stage.retrieve(row["question"])
        out.append((row, retrieved, stage.rank(retrieved)))
    return out


def figures(per_corpus: list[tuple[object, list]], settings, tie: float, support: float) -> dict[str, dict]:
    """Per language pair over every corpus: the quotes `settings.max_quotes` shows with these margins."""
    by_pair: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for view, questions in per_corpus:
        judge = SimilarityJudge(view, SimilaritySelection(settings.abstention, support, tie))
        for row, retrieved, candidates in questions:
            judgement = judge.judge(retrieved, candidates, settings.max_quotes)
            texts = [view.text(c.article_id, c.start, c.end) for c in judgement.picked]
            holds = [contains_answer(t, row["answer"]) for t in texts]
            refused = judgement.abstained or not texts
            f = by_pair[row["pair"]]
            f["first"].append(not refused and holds[0])
            f["any"].append(not refused and any(holds))
            f["refused"].append(refused)
            if texts:
                f["length"].append(len(texts[0]))
    return {pair: {"answerable": len(f["first"]), "first_quote": round(float(np.mean(f["first"])), 4),
                   "any_quote": round(float(np.mean(f["any"])), 4), "refused_answerable": round(float(np.mean(f["refused"])), 4),
                   "first_quote_chars": round(float(np.mean(f["length"])), 1)} for pair, f in sorted(by_pair.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=REPO / "benchmarks" / ".work" / "dev")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions per corpus")
    args = parser.parse_args()
    settings = dataclasses.replace(settings_from_env(os.environ), reader=False)
    corpora = [d for d in sorted(args.dev.iterdir()) if (d / "questions.jsonl").exists()]
    if not corpora:
        raise SystemExit(f"no development corpora in {args.dev}: run benchmarks/dev_set.py first")
    per_corpus = []
    for corpus in corpora:
        rows = [r for r in load_questions(corpus)[: args.limit] if r["answer"]]
        if rows:  # the near-miss corpora hold no answerable question
            assistant = open_corpus(corpus, settings)
            per_corpus.append((assistant.snapshot.view, judged(assistant, rows)))
    rows = [{"neighbour_tie_margin": tie, "support_margin": support, "pair": pair, **f}
            for tie in TIE_MARGINS for support in SUPPORT_MARGINS
            for pair, f in figures(per_corpus, settings, tie, support).items()]
    print(table(rows, list(rows[0])))
    tie, support = choose(rows)
    print(f"chosen: neighbour_tie_margin={tie} (the smallest within a point of the best first quote, every pair "
          f"counting the same: a joined quote is longer), support_margin={support} (the best any quote at that margin)")
    print(f"wrote {write_result('similarity_margins', {'dev': str(args.dev), 'max_quotes': settings.max_quotes, 'rows': rows, 'chosen': {'neighbour_tie_margin': tie, 'support_margin': support}})}")


def mean_of_pairs(rows: list[dict], key: str, **where) -> float:
    return float(np.mean([r[key] for r in rows if all(r[k] == v for k, v in where.items())]))


def choose(rows: list[dict]) -> tuple[float, float]:
    """The tie margin: the smallest whose first quote (mean of the pairs, at each support margin's
    best) is within a point of the best, as fit_answer_policy chooses how many sentences to read;
    then the support margin with the best any quote at that tie margin (the smallest on a tie)."""
    first = {tie: max(mean_of_pairs(rows, "first_quote", neighbour_tie_margin=tie, support_margin=s)
                      for s in SUPPORT_MARGINS) for tie in TIE_MARGINS}
    tie = min(t for t in TIE_MARGINS if first[t] >= max(first.values()) - 0.01)
    support = max(SUPPORT_MARGINS, key=lambda s: (mean_of_pairs(rows, "any_quote", neighbour_tie_margin=tie, support_margin=s), -s))
    return tie, support


if __name__ == "__main__":
    main()
