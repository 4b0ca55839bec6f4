"""The development split's figures per language pair, each with its n and a 95% interval, from
the reports that `assistant eval --report DIR --by pair` wrote for the corpora of dev_set.py.

The same pipeline as the hidden sets (`assistant eval`); a refusal of an answerable question
counts as a miss. Figures: first quote / any quote holds the answer and the answer passage
first (of answerable questions), answerable refused, unanswerable (left-out article) refused,
near misses (dev_set.py's near-miss corpora: the article indexed without the answer) refused,
bold short answers shown and right (contains an answer) when shown.

    .venv/bin/python benchmarks/dev_report.py LABEL REPORT_DIR [REPORT_DIR ...]

Writes benchmarks/results/dev_LABEL.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

from _common import table, write_result


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of hits/n."""
    if n == 0:
        return (0.0, 0.0)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(centre - half, 3), round(centre + half, 3))


def share(flags: list[bool]) -> dict:
    hits, n = sum(flags), len(flags)
    return {"value": round(hits / n, 3) if n else None, "n": n, "ci95": wilson(hits, n)}


def pair_figures(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"] and not r["extra"].get("near_miss")]
    near_misses = [r for r in rows if not r["answerable"] and r["extra"].get("near_miss")]
    shown = [r for r in answerable if r["short_answer"] is not None]
    return {
        "first_quote": share([bool(r["first_quote_hit"]) and not r["abstained"] for r in answerable]),
        "any_quote": share([bool(r["any_quote_hit"]) and not r["abstained"] for r in answerable]),
        "passage_r@1": share([r["retrieval_rank"] == 1 for r in answerable]),
        "refused_answerable": share([r["abstained"] for r in answerable]),
        "refused_unanswerable": share([r["abstained"] for r in unanswerable]),
        "refused_near_miss": share([r["abstained"] for r in near_misses]),
        "short_shown": share([r["short_answer"] is not None for r in answerable]),
        "short_right_when_shown": share([bool(r["short_answer_hit"]) for r in shown]),
        "short_right_of_all": share([bool(r["short_answer_hit"]) for r in answerable]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("label")
    parser.add_argument("reports", nargs="+", type=Path)
    args = parser.parse_args()
    by_pair: dict[str, list[dict]] = defaultdict(list)
    for report in args.reports:
        with open(report / "results.jsonl", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                by_pair[row["extra"].get("pair", "?")].append(row)
    figures = {pair: pair_figures(rows) for pair, rows in sorted(by_pair.items())}
    names = list(next(iter(figures.values())))
    print(table([{"pair": p, **{k: f"{v['value']} (n={v['n']}, {v['ci95'][0]}-{v['ci95'][1]})" for k, v in f.items()}}
                 for p, f in figures.items()], ["pair", *names]))
    path = write_result(f"dev_{args.label}", {"reports": [str(r) for r in args.reports], "pairs": figures})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
