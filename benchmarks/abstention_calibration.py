"""Calibrate the abstention threshold: when do the articles not answer a question?

Data no one here wrote: XQuAD's 48 German articles are split in two halves by title; only
the first half is indexed. Questions about the indexed half are answerable, questions about
the other half are not (they are about other Wikipedia topics, asked in the same style).
Both German and English questions are used. For every question the answer's `top_score`
(the best quote's score) is recorded with abstention switched off; the script then reports,
for a range of thresholds, the share of answerable questions wrongly refused and the share of
unanswerable ones correctly refused, and the threshold that maximises balanced accuracy while
refusing at most 5% of answerable questions. German questions calibrate the threshold for a
quote in the question's language, English ones (on German text) the cross-language one: late
interaction scores run lower across languages.

    .venv/bin/python benchmarks/abstention_calibration.py [--limit N]
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
from _common import table, write_result
from xquad_quality import parse_args, prepare

from assistant import Assistant
from assistant.config import AbstentionPolicy
from assistant.environment import settings_from_env

MAX_FALSE_ABSTAIN = 0.05


def split_corpus(sources: Path, work: Path) -> tuple[Path, set[str]]:
    """Copy every other article into a half-corpus; returns it and the indexed file names."""
    half = work / "half_sources"
    if half.exists():
        shutil.rmtree(half)
    half.mkdir(parents=True)
    files = sorted(p.name for p in sources.iterdir())
    kept = set(files[::2])
    for name in kept:
        shutil.copy(sources / name, half / name)
    return half, kept


def scores(assistant: Assistant, questions: list[dict], indexed: set[str]) -> tuple[list, list]:
    """(top_score, coverage) of every answerable and every unanswerable question."""
    answerable, unanswerable = [], []
    for row in questions:
        answer = assistant.ask(row["question"])
        (answerable if row["source"] in indexed else unanswerable).append((answer.top_score, answer.coverage))
    return answerable, unanswerable


def coverage_sweep(answerable: np.ndarray, unanswerable: np.ndarray, threshold: float) -> list[dict]:
    """With the score threshold fixed, what a minimum word coverage adds."""
    rows = []
    for minimum in np.round(np.arange(0.60, 0.90, 0.01), 2):
        false_abstain = float(((answerable[:, 0] < threshold) | (answerable[:, 1] < minimum)).mean())
        correct_abstain = float(((unanswerable[:, 0] < threshold) | (unanswerable[:, 1] < minimum)).mean())
        rows.append({"min_word_coverage": float(minimum), "false_abstain": round(false_abstain, 4),
                     "abstained_unanswerable": round(correct_abstain, 4)})
    return rows


def sweep(answerable: np.ndarray, unanswerable: np.ndarray) -> list[dict]:
    rows = []
    for threshold in np.unique(np.round(np.quantile(np.concatenate([answerable, unanswerable]),
                                                    np.linspace(0.01, 0.99, 99)), 3)):
        false_abstain = float((answerable < threshold).mean())
        correct_abstain = float((unanswerable < threshold).mean())
        rows.append({"threshold": float(threshold), "false_abstain": round(false_abstain, 4),
                     "abstained_unanswerable": round(correct_abstain, 4),
                     "balanced_accuracy": round((1 - false_abstain + correct_abstain) / 2, 4)})
    return rows


def recommend(rows: list[dict]) -> dict:
    allowed = [r for r in rows if r["false_abstain"] <= MAX_FALSE_ABSTAIN]
    return max(allowed or rows, key=lambda r: r["balanced_accuracy"])


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    sources, sets = prepare(args.work)
    half, indexed = split_corpus(sources, args.work)
    base = settings_from_env(os.environ).with_paths(half, args.work / "half_index")
    settings = dataclasses.replace(base, abstention=AbstentionPolicy.disabled(base.weights))
    assistant = Assistant(settings=settings, update=True, progress=True)
    report = {}
    for lang, questions in sets.items():
        pairs_answerable, pairs_unanswerable = (np.array(v) for v in scores(assistant, questions[: args.limit], indexed))
        answerable, unanswerable = pairs_answerable[:, 0], pairs_unanswerable[:, 0]
        rows = sweep(answerable, unanswerable)
        coverage_rows = coverage_sweep(pairs_answerable, pairs_unanswerable, recommend(rows)["threshold"])
        report[lang] = {"answerable": len(answerable), "unanswerable": len(unanswerable),
                        "answerable_median": round(float(np.median(answerable)), 4),
                        "unanswerable_median": round(float(np.median(unanswerable)), 4),
                        "recommended": recommend(rows), "sweep": rows, "coverage_sweep": coverage_rows,
                        "scores_and_coverage": {"answerable": pairs_answerable.round(4).tolist(),
                                                "unanswerable": pairs_unanswerable.round(4).tolist()}}
        print(f"questions in {lang}:")
        print(table(rows[::6], ["threshold", "false_abstain", "abstained_unanswerable", "balanced_accuracy"]))
        print(f"recommended: {report[lang]['recommended']}")
        print(table(coverage_rows[::2], ["min_word_coverage", "false_abstain", "abstained_unanswerable"]) + "\n")
    settings_now = settings_from_env(os.environ)
    path = write_result("abstention_calibration", {
        "corpus": "every other XQuAD German article (24 of 48); questions about the other half are unanswerable",
        "max_false_abstain": MAX_FALSE_ABSTAIN, "by_question_language": report,
        "weights": dataclasses.asdict(settings_now.weights),
        "current_setting": dataclasses.asdict(settings_now.abstention)})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
