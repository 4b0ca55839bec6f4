"""Does another shape of the span-margin feature rank and refuse better? The answer policy
(fit_answer_policy.py) combines the answer model's readings linearly; its span margin enters
clipped at +-20 with a small weight, so a sure span and a weak one differ little. This refits the
policy held out (5 folds by article, as the fit does) on kept development readings with the
margin reshaped, and prints per language pair: how often the likeliest sentence read holds the
answer, and the first quote / refusals at a few refusal bars.

    .venv/bin/python benchmarks/span_margin_shape.py --readings FILE   # from fit_answer_policy.py --keep-readings

Writes results/span_margin_shape.json.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import pickle
import sys
from pathlib import Path

import numpy as np
from _common import REPO, write_result

sys.path.insert(0, str(REPO))

import fit_answer_policy as fit  # noqa: E402

from assistant.answer.reading import MARGIN_CLIP  # noqa: E402
from assistant.config import READER_FEATURES, load_reader_policy  # noqa: E402

MARGIN = READER_FEATURES.index("span_margin")
NO_SPAN = -MARGIN_CLIP  # the reader's features clip "no span" (-inf) there
PAIRS = ("de-de", "en-de", "de-en", "en-en")


def reshaped(items: list[dict], shape: str) -> list[dict]:
    items = copy.deepcopy(items)
    for item in items:
        x = item["x"]
        if not len(x) or shape == "as shipped":
            continue
        margin, has_span = x[:, MARGIN], (x[:, MARGIN] > NO_SPAN).astype(float)
        if shape == "clipped to [-5, 8]":
            x[:, MARGIN] = np.clip(margin, -5, 8)
        elif shape == "clipped to [0, 10], has span":
            x = np.column_stack([x, has_span])
            x[:, MARGIN] = np.clip(margin, 0, 10)
        elif shape == "tanh(margin / 3), has span":
            x = np.column_stack([x, has_span])
            x[:, MARGIN] = np.tanh(margin / 3)
        item["x"] = x
    return items


def likeliest_holds(items: list[dict], cross_language_lead: float | None) -> dict:
    out = {}
    for pair in PAIRS:
        asked = [i for i in items if i["row"]["pair"] == pair and i["row"]["answer"] and len(i.get("p", []))]
        first = [fit.reading_order(i["p"], fit.any_in_question_language(i["x"][:len(i["p"])]), cross_language_lead)[0]
                 for i in asked]
        out[pair] = {"n": len(asked), "holds": round(sum(bool(i["y"][j]) for i, j in zip(asked, first)) / len(asked), 4)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=Path, required=True)
    parser.add_argument("--read", type=int, default=None, help="sentences read (default: the shipped policy's)")
    args = parser.parse_args()
    with args.readings.open("rb") as handle:
        items = pickle.load(handle)
    policy = load_reader_policy()
    read = args.read or policy.candidates
    results = {}
    for shape in ("as shipped", "clipped to [-5, 8]", "clipped to [0, 10], has span", "tanh(margin / 3), has span"):
        shaped = reshaped(items, shape)
        fit.held_out_probabilities(shaped, read)
        bars = {}
        for bar in (0.06, policy.refuse_below, 0.09, 0.11):
            figures = fit.figures(shaped, dataclasses.replace(policy, refuse_below=bar))
            bars[str(bar)] = {pair: {key: figures[pair][key] for key in
                                     ("first_quote", "refused_answerable", "refused_unanswerable", "refused_near_miss")}
                              for pair in PAIRS}
        results[shape] = {"likeliest_read_holds_the_answer": likeliest_holds(shaped, policy.cross_language_lead),
                          "at_refusal_bars": bars}
        print(shape, results[shape]["likeliest_read_holds_the_answer"])
        print("   at the shipped bar:", bars[str(policy.refuse_below)])
    print(f"wrote {write_result('span_margin_shape', {'readings': str(args.readings), 'read': read, 'shapes': results})}")


if __name__ == "__main__":
    main()
