"""Two answer models read together: would their readings, combined, order and refuse better?

Offline, from the readings `fit_answer_policy.py --keep-readings FILE` kept for each model on the
same development corpora and code (the same sentences read, so they line up question by
question). Each variant's policy is a logistic model held out by article (fit_answer_policy's
folds), over the first model's READER_FEATURES ("first"), the second's ("second"), or the first's
with the second's "holds" and "span_margin" added ("both"). Per language pair, at the refusal bar
that refuses at most a given share of its answerable questions: the first quote (the product's
order, cross_language_lead 3) and the share of unanswerable questions refused.

    .venv/bin/python benchmarks/reader_ensemble.py FIRST.pkl SECOND.pkl [--read 4]

Reading with two models costs two passes of the answer model, the larger part of an answer's
latency (benchmarks/README.md, "Answer latency"). Writes results/reader_ensemble.json.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
from _common import table, write_result
from fit_answer_policy import best_probability, held_out_probabilities

from assistant.answer.reading import reading_order
from assistant.config import READER_FEATURES

SAME_LANGUAGE = READER_FEATURES.index("same_language")
MODEL_FEATURES = [READER_FEATURES.index("holds"), READER_FEATURES.index("span_margin")]
REFUSED_ANSWERABLE = (0.03, 0.05, 0.07)
CROSS_LANGUAGE_LEAD = 3.0


def combined(first: list[dict], second: list[dict], kind: str) -> list[dict]:
    """The first model's items with the features of `kind`; refuses readings that do not line up."""
    by_id = {item["row"]["id"]: item for item in second}
    items = []
    for item in first:
        other = by_id[item["row"]["id"]]
        if other["articles"] != item["articles"]:
            raise SystemExit(f"the two readings read other sentences for {item['row']['id']}: keep both with the same code")
        x = {"first": item["x"], "second": other["x"],
             "both": np.hstack([item["x"], other["x"][:, MODEL_FEATURES]])}[kind]
        items.append({**{k: v for k, v in item.items() if k != "p"}, "x": x.astype(float)})
    return items


def first_quote_right(item: dict, bar: float, read: int) -> bool:
    if best_probability(item) < bar:
        return False
    order = reading_order(item["p"], bool(item["x"][:read, SAME_LANGUAGE].any()), CROSS_LANGUAGE_LEAD)
    return bool(item["y"][order[0]])


def pair_rows(items: list[dict], kind: str, read: int) -> list[dict]:
    rows = []
    for pair in sorted({i["row"]["pair"] for i in items}):
        answerable = [i for i in items if i["row"]["pair"] == pair and i["row"]["answer"]]
        unanswerable = [i for i in items if i["row"]["pair"] == pair and not i["row"]["answer"]]
        for share in REFUSED_ANSWERABLE:
            bar = max(t for t in np.linspace(0, 0.6, 601) if np.mean([best_probability(i) < t for i in answerable]) <= share)
            rows.append({"pair": pair, "refused_answerable_at_most": share, "readings": kind, "bar": round(float(bar), 3),
                         "first_quote": round(float(np.mean([first_quote_right(i, bar, read) for i in answerable])), 3),
                         "refused_unanswerable": round(float(np.mean([best_probability(i) < bar for i in unanswerable])), 3),
                         "answerable": len(answerable), "unanswerable": len(unanswerable)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path, help="readings of the first (shipped) model")
    parser.add_argument("second", type=Path, help="readings of the second model, same corpora and code")
    parser.add_argument("--read", type=int, default=4, help="sentences read per question")
    args = parser.parse_args()
    with open(args.first, "rb") as handle:
        first = pickle.load(handle)
    with open(args.second, "rb") as handle:
        second = pickle.load(handle)
    rows = []
    for kind in ("first", "second", "both"):
        items = combined(first, second, kind)
        held_out_probabilities(items, args.read)
        rows += pair_rows(items, kind, args.read)
    rows.sort(key=lambda r: (r["pair"], r["refused_answerable_at_most"]))
    print(table(rows, list(rows[0])))
    print(f"wrote {write_result('reader_ensemble', {'first': str(args.first), 'second': str(args.second), 'read': args.read, 'rows': rows})}")


if __name__ == "__main__":
    main()
