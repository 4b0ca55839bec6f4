"""Calibrate the abstention threshold: when do the articles not answer a question?

Data no one here wrote: XQuAD's 48 German articles are split in two halves by title; only
the first half is indexed. Questions about the indexed half are answerable, questions about
the other half are not (they are about other Wikipedia topics, asked in the same style).
Both German and English questions are used. For every question the answer's `top_score`
(the best quote's score) is recorded with abstention switched off; the script then reports,
for a range of thresholds, the share of answerable questions wrongly refused and the share of
unanswerable ones correctly refused, and the threshold that maximises balanced accuracy while
refusing at most 5% of answerable questions.

    .venv/bin/python benchmarks/abstention_calibration.py [--limit N]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
from _common import REPO, table, write_result
from xquad_quality import prepare

from assistant.answer import answer_question
from assistant.config import Settings
from assistant.engine import Engine

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


def scores(engine: Engine, questions: list[dict], indexed: set[str]) -> tuple[list[float], list[float]]:
    answerable, unanswerable = [], []
    for row in questions:
        score = answer_question(engine, row["question"]).top_score
        (answerable if row["source"] in indexed else unanswerable).append(score)
    return answerable, unanswerable


def sweep(answerable: np.ndarray, unanswerable: np.ndarray) -> list[dict]:
    rows = []
    for threshold in np.round(np.arange(0.80, 1.00, 0.005), 3):
        false_abstain = float((answerable < threshold).mean())
        correct_abstain = float((unanswerable < threshold).mean())
        rows.append({"threshold": float(threshold), "false_abstain": round(false_abstain, 4),
                     "abstained_unanswerable": round(correct_abstain, 4),
                     "balanced_accuracy": round((1 - false_abstain + correct_abstain) / 2, 4)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions per language")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / ".work" / "xquad")
    args = parser.parse_args()
    sources, sets = prepare(args.work)
    half, indexed = split_corpus(sources, args.work)
    settings = dataclasses.replace(Settings().with_paths(half, args.work / "half_index"), abstain_threshold=-1.0)
    engine, _ = Engine.open(settings, progress=True)
    per_language, all_answerable, all_unanswerable = {}, [], []
    for lang, questions in sets.items():
        a, u = scores(engine, questions[: args.limit], indexed)
        all_answerable += a
        all_unanswerable += u
        per_language[lang] = {"answerable": len(a), "unanswerable": len(u),
                              "answerable_median": round(float(np.median(a)), 4),
                              "unanswerable_median": round(float(np.median(u)), 4)}
    rows = sweep(np.array(all_answerable), np.array(all_unanswerable))
    allowed = [r for r in rows if r["false_abstain"] <= MAX_FALSE_ABSTAIN]
    best = max(allowed or rows, key=lambda r: r["balanced_accuracy"])
    print(table(rows[::2], ["threshold", "false_abstain", "abstained_unanswerable", "balanced_accuracy"]))
    print(json.dumps(per_language, indent=1))
    print(f"recommended threshold: {best['threshold']} (false abstain {best['false_abstain']}, "
          f"unanswerable refused {best['abstained_unanswerable']})")
    path = write_result("abstention_calibration", {"per_language": per_language, "sweep": rows, "recommended": best,
                                                   "current_setting": Settings().abstain_threshold})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
