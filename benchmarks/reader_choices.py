"""Choose how the reader is used, on the development set (held-out training data, dev_set.py).

For every dev question the first stage's candidates are scored once and the reader reads the
best `--max-candidates` of them, with and without the sentence before each as context; the
script then replays the choices offline: how many candidates to read, with or without context,
how much of the first-stage score to add (`reader_prior`), and, on the half corpus, where to
refuse. XQuAD is never used here.

    .venv/bin/python benchmarks/dev_set.py --out benchmarks/.work/dev --half
    .venv/bin/python benchmarks/reader_choices.py --dev benchmarks/.work/dev
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
from _common import REPO, table, write_result

from assistant import Assistant
from assistant.environment import settings_from_env
from assistant.answer.candidates import rank_candidates, retrieve
from assistant.answer.reading import _distinct_top, _window
from assistant.evaluation.metrics import contains_answer
from assistant.models.reader.model import best_span

PRIORS = (0.0, 2.0, 5.0, 10.0, 20.0, 50.0)
COUNTS = (2, 3, 4, 6)


def collect(assistant: Assistant, questions: list[dict], max_candidates: int) -> list[dict]:
    """Per question: first-stage scores, reader margins (with / without context), labels."""
    snapshot = assistant.snapshot
    reader = assistant.reader.model
    out = []
    for row in questions:
        retrieved = retrieve(snapshot, row["question"])
        top = _distinct_top(snapshot, rank_candidates(snapshot, retrieved), max_candidates)
        item = {"lang": row["lang"], "answerable": bool(row["answer"]), "first": [c.score for c in top],
                "label": [contains_answer(snapshot.view.text(c.article_id, c.start, c.end), row["answer"])
                          for c in top]}
        for name, windows in (("context", [_window(snapshot, c) for c in top]), ("alone", [(c.start, c.end) for c in top])):
            texts = [snapshot.view.text(c.article_id, a, b) for c, (a, b) in zip(top, windows)]
            started = time.perf_counter()
            readings = reader.read(row["question"], texts) if texts else []
            item[f"ms_{name}"] = (time.perf_counter() - started) * 1000
            margins = []
            for c, (a, _), reading in zip(top, windows, readings):
                span = best_span(reading, c.start - a, c.end - a)
                margins.append(reading.margin(span) if span is not None else -1e3)
            item[name] = margins
        out.append(item)
    return out


def first_hit(items: list[dict], count: int | None, context: str, prior: float) -> float:
    hits = []
    for item in items:
        if not item["answerable"] or not item["label"]:
            hits.append(False) if item["answerable"] else None
            continue
        if count is None:  # the first stage alone
            hits.append(item["label"][0])
            continue
        n = min(count, len(item["label"]))
        score = np.array(item[context][:n]) + prior * np.array(item["first"][:n])
        hits.append(item["label"][int(np.argmax(score))])
    return float(np.mean([h for h in hits if h is not None]))


def choices(items: list[dict]) -> list[dict]:
    rows = [{"count": "first stage", "context": "-", "prior": "-", **{
        lang: round(first_hit([i for i in items if i["lang"] == lang], None, "", 0), 4) for lang in ("de", "en")}}]
    for count in COUNTS:
        for context in ("context", "alone"):
            for prior in PRIORS:
                rows.append({"count": count, "context": context, "prior": prior, **{
                    lang: round(first_hit([i for i in items if i["lang"] == lang], count, context, prior), 4)
                    for lang in ("de", "en")}})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=REPO / "benchmarks" / ".work" / "dev")
    parser.add_argument("--max-candidates", type=int, default=max(COUNTS))
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    questions = [json.loads(line) for line in open(args.dev / "questions.jsonl", encoding="utf-8")][: args.limit]
    settings = dataclasses.replace(settings_from_env(os.environ).with_paths(args.dev / "sources", args.dev / "index"))
    assistant = Assistant(settings=settings, update=True, progress=True)
    items = collect(assistant, questions, args.max_candidates)
    rows = choices(items)
    print(table(rows, ["count", "context", "prior", "de", "en"]))
    ms = {name: round(float(np.median([i[f"ms_{name}"] for i in items])), 1) for name in ("context", "alone")}
    print(f"median reader time per question for {args.max_candidates} candidates: {ms}")
    path = write_result("reader_choices", {"dev": str(args.dev), "questions": len(items), "rows": rows,
                                           "reader_ms_median": ms})
    (args.dev / "reader_items.json").write_text(json.dumps(items), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
