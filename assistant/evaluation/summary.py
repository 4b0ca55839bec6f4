"""Scoring a run's results: the metrics, their breakdown by a column, the tables printed for
them, `--min` bounds and comparing two runs. Pure functions of results and summaries (plain
dicts), so a saved run can be scored again without asking anything; runner.py asks the
questions, report.py writes the files.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from . import metrics
from .data import EvalSet

# Metrics in summary.json: name -> (label, kind, higher_is_better); kind "share" or "ms".
METRICS: dict[str, tuple[str, str, bool]] = {
    "quality": ("correct outcome (answered with the answer / abstained)", "share", True),
    "first_quote_hit": ("first quote contains an answer", "share", True),
    "any_quote_hit": ("some quote contains an answer", "share", True),
    "answer_f1": ("token F1 of the best quote", "share", True),
    "short_answer_hit": ("short answer shown and holds an answer", "share", True),
    "short_answer_f1": ("token F1 of the short answer (0 when none)", "share", True),
    "short_answer_precision": ("short answers shown that hold an answer", "share", True),
    "retrieval_hit@1": ("answer in the top passage", "share", True),
    "retrieval_hit@k": ("answer in the top k passages", "share", True),
    "mrr": ("mean reciprocal rank of the answer passage", "share", True),
    # The standard passage retrieval metrics (as BEIR reports them), over the questions with a
    # passage holding an accepted answer in their expected sources (or the corpus, without one).
    "passage_recall@1": ("Recall@1: answer-holding passages in the top passage", "share", True),
    "passage_recall@5": ("Recall@5: answer-holding passages in the top 5", "share", True),
    "passage_recall@10": ("Recall@10: answer-holding passages in the top 10", "share", True),
    "passage_mrr@10": ("MRR@10 of the answer-holding passages", "share", True),
    "passage_ndcg@10": ("nDCG@10 of the answer-holding passages", "share", True),
    "source_hit": ("cited articles include an expected source", "share", True),
    "citation_precision": ("quotes from an expected source", "share", True),
    "exact_quote_rate": ("quotes that are exact article spans", "share", True),
    "abstained_unanswerable": ("unanswerable questions abstained", "share", True),
    "false_abstain": ("answerable questions abstained", "share", False),
    "latency_p50_ms": ("latency, median", "ms", False),
    "latency_p95_ms": ("latency, 95th percentile", "ms", False),
}
COUNTS = ("questions", "answerable", "unanswerable", "with_source", "with_relevant_passage", "quotes", "bad_rows")
ANSWER_TYPE = "answer_type"  # the breakdown read from the accepted answers (metrics.gold_answer_type)
TYPE_COLUMNS = ("type", ANSWER_TYPE)  # a question file with one of these brings its own answer types
MISSING = "(none)"  # the group of rows that leave a --by column empty
RANK_CURVE = 10  # hit rate by rank 1..RANK_CURVE, for the report's plot


class EvalError(ValueError):
    """A user-facing failure of the eval command (bad arguments, unreadable report)."""


@dataclass
class EvalRun:
    summary: dict  # metrics, counts and run info
    results: list[dict]
    eval_set: EvalSet


def is_failure(result: dict) -> bool:
    return not result["correct"] or result["verdict"] not in ("correct", "abstained")


def passage_key(source: str, start: int, end: int) -> str:
    """A passage as the standard retrieval metrics name it: its article and character range."""
    return f"{source}:{start}-{end}"


def passage_judgements(results: list[dict]) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, float]]]:
    """BEIR's two inputs from results rows: the qrels (the passages the runner judged to hold an
    accepted answer) and each question's retrieved passages, scored by their rank (the product's
    order: rounded scores can tie)."""
    qrels, ranked = {}, {}
    for i, r in enumerate(results):
        qrels[str(i)] = dict.fromkeys(r.get("relevant_passages") or [], 1)
        ranked[str(i)] = {passage_key(p["source"], p["start"], p["end"]): 1.0 / p["rank"] for p in r["passages"]}
    return qrels, ranked


def summarise(results: list[dict], retrieval_k: int) -> dict:
    """The metrics over all results (a share is None when no question applies)."""
    answerable = [r for r in results if r["answerable"]]
    unanswerable = [r for r in results if not r["answerable"]]
    ranks = [r["retrieval_rank"] for r in answerable]
    all_quotes = [q for r in results for q in r["quotes"] + r["related"]]
    sourced_quotes = [q for r in answerable if r["expected_sources"] for q in r["quotes"]]
    latencies = [r["latency_ms"] for r in results]

    def rounded(value):
        return None if value is None else round(value, 4)

    summary = {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "with_source": sum(bool(r["expected_sources"]) for r in answerable),
        "quotes": len(all_quotes),
        "quality": metrics.share(r["correct"] for r in results),
        "first_quote_hit": metrics.share(r["first_quote_hit"] for r in answerable),
        "any_quote_hit": metrics.share(r["any_quote_hit"] for r in answerable),
        "answer_f1": metrics.mean(r["answer_f1"] for r in answerable),
        "short_answer_hit": metrics.share(r["short_answer_hit"] for r in answerable),
        "short_answer_f1": metrics.mean(r["short_answer_f1"] for r in answerable),
        # a bold answer shown on an unanswerable question is a wrong one
        "short_answer_precision": metrics.share(r["answerable"] and bool(r["short_answer_hit"])
                                                for r in results if r["short_answer"] is not None),
        "retrieval_hit@1": metrics.hit_at(ranks, 1),
        "retrieval_hit@k": metrics.hit_at(ranks, retrieval_k),
        "retrieval_k": retrieval_k,
        "mrr": metrics.mrr(ranks),
        **{f"passage_{name}": value
           for name, value in metrics.passage_retrieval(*passage_judgements(answerable)).items()},
        "with_relevant_passage": sum(bool(r.get("relevant_passages")) for r in answerable),
        "source_hit": metrics.share(r["source_hit"] for r in answerable),
        "citation_precision": metrics.share(q["expected_source"] for q in sourced_quotes),
        "exact_quote_rate": metrics.share(q["exact"] for q in all_quotes),
        "abstained_unanswerable": metrics.share(r["abstained"] for r in unanswerable),
        "false_abstain": metrics.share(r["abstained"] for r in answerable),
        "latency_p50_ms": metrics.percentile(latencies, 50),
        "latency_p95_ms": metrics.percentile(latencies, 95),
        "retrieval_hit_by_rank": [rounded(metrics.hit_at(ranks, k)) for k in range(1, RANK_CURVE + 1)]
        if ranks else [],
    }
    return {k: rounded(v) if isinstance(v, float) else v for k, v in summary.items()}


def group_label(result: dict, column: str) -> str:
    """The value of `column` for one result, as a group name: extra columns first, then the
    derived answer type; lists are joined, empty values are MISSING."""
    extra = result.get("extra") or {}
    if column in extra:
        value = extra[column]
    elif column == ANSWER_TYPE:
        value = result.get(ANSWER_TYPE)
    else:
        value = None
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return MISSING
    return value.strip() if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def breakdown(results: list[dict], columns: list[str], retrieval_k: int) -> dict[str, dict[str, dict]]:
    """{column: {value: summary of the results with that value}}; values in sorted order, MISSING last."""
    by = {}
    for column in columns:
        groups: dict[str, list[dict]] = {}
        for r in results:
            groups.setdefault(group_label(r, column), []).append(r)
        order = sorted(groups, key=lambda v: (v == MISSING, v.casefold()))
        by[column] = {value: summarise(groups[value], retrieval_k) for value in order}
    return by


def breakdown_columns(eval_set: EvalSet, requested: list[str]) -> list[str]:
    """The --by columns checked against the file, plus `answer_type` when the file has no type column."""
    known = list(eval_set.columns) + [ANSWER_TYPE]
    columns = []
    for name in requested:
        if name not in known:
            extra = ", ".join(eval_set.columns) or "none"
            raise EvalError(f"--by {name!r}: {eval_set.path} has no such column (its extra columns: {extra}; "
                            f"or {ANSWER_TYPE}, read from the answers)")
        if name not in columns:
            columns.append(name)
    if ANSWER_TYPE not in columns and not any(c in eval_set.columns for c in TYPE_COLUMNS):
        columns.append(ANSWER_TYPE)
    return columns


def format_value(name: str, value) -> str:
    if value is None:
        return "n/a"
    kind = METRICS.get(name, ("", "count", True))[1]
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "ms":
        return f"{value:.0f} ms"
    return f"{value:g}" if isinstance(value, float) else str(value)


def metric_name(name: str, summary: dict) -> str:
    """The metric as shown: "retrieval_hit@k" with its k ("retrieval_hit@8")."""
    return name.replace("@k", f"@{summary.get('retrieval_k', 'k')}") if name == "retrieval_hit@k" else name


def summary_table(summary: dict) -> str:
    counts = ", ".join(f"{summary.get(k, 0)} {k.replace('_', ' ')}" for k in COUNTS[1:])
    lines = [f"{summary['questions']} questions ({counts})", ""]
    width = max(len(n) for n in METRICS)
    for name, (label, _, _) in METRICS.items():
        shown = metric_name(name, summary)
        lines.append(f"  {shown:<{width}}  {format_value(name, summary.get(name)):>9}  {label}")
    return "\n".join(lines)


def breakdown_table(column: str, groups: dict[str, dict]) -> str:
    """Every metric (rows) for each value of `column` (columns, with their question counts)."""
    heads = [f"{value} ({g['questions']})" for value, g in groups.items()]
    width = max(len(n) for n in METRICS)
    cells = [max(len(h), 9) for h in heads]
    lines = [f"by {column}:", "  " + " " * width + "".join(f"  {h:>{w}}" for h, w in zip(heads, cells))]
    first = next(iter(groups.values()), {})
    for name in METRICS:
        values = [format_value(name, g.get(name)) for g in groups.values()]
        lines.append(f"  {metric_name(name, first):<{width}}" + "".join(f"  {v:>{w}}" for v, w in zip(values, cells)))
    return "\n".join(lines)


def parse_bounds(specs: list[str]) -> dict[str, float]:
    """`--min METRIC=VALUE` arguments -> {metric: bound}; only higher-is-better metrics."""
    bounds = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        name = name.strip()
        if not sep:
            raise EvalError(f"--min {spec!r}: expected METRIC=VALUE, e.g. --min first_quote_hit=0.8")
        if name not in METRICS:
            raise EvalError(f"--min {spec!r}: unknown metric {name!r}; one of: {', '.join(METRICS)}")
        if not METRICS[name][2]:
            raise EvalError(f"--min {spec!r}: {name} is better when lower, so a minimum makes no sense")
        try:
            bound = float(value)
        except ValueError as exc:
            raise EvalError(f"--min {spec!r}: {value!r} is not a number") from exc
        if math.isnan(bound):
            raise EvalError(f"--min {spec!r}: the bound is not a number")
        bounds[name] = bound
    return bounds


def check_bounds(summary: dict, bounds: dict[str, float]) -> list[str]:
    """One line per metric below its bound (a metric that does not apply fails too)."""
    failed = []
    for name, bound in bounds.items():
        value = summary.get(name)
        if value is None:
            failed.append(f"{name}: no question it applies to (bound {bound:g})")
        elif value < bound:
            failed.append(f"{name}: {value:g} is below the bound {bound:g}")
    return failed


def load_summary(path: Path) -> dict:
    path = Path(path)
    file = path / "summary.json" if path.is_dir() else path
    try:
        summary = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EvalError(f"no summary at {file} (expected a --report folder or its summary.json)") from exc
    except (OSError, ValueError) as exc:
        raise EvalError(f"cannot read {file}: {exc}") from exc
    if not isinstance(summary, dict):
        raise EvalError(f"{file} is not an evaluation summary")
    return summary


def compare_summaries(a: dict, b: dict) -> list[dict]:
    """Per metric: the two values, B - A, and whether B is better, worse or the same."""
    rows = []
    for name in list(COUNTS) + list(METRICS):
        va, vb = a.get(name), b.get(name)
        if not isinstance(va, (int, float)) and not isinstance(vb, (int, float)):
            continue
        diff = vb - va if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
        verdict = ""
        if name in METRICS and diff is not None:
            better = METRICS[name][2]
            verdict = "same" if abs(diff) < 1e-9 else ("better" if (diff > 0) == better else "worse")
        rows.append({"metric": name, "a": va, "b": vb, "diff": diff, "verdict": verdict})
    return rows


def compare_table(a_path: Path, b_path: Path, rows: list[dict]) -> str:
    width = max([len(r["metric"]) for r in rows] + [6])
    lines = [f"A = {a_path}", f"B = {b_path}", "",
             f"  {'metric':<{width}}  {'A':>9}  {'B':>9}  {'B - A':>10}"]
    for r in rows:
        name = r["metric"]
        if r["diff"] is None:
            diff = "n/a"
        elif METRICS.get(name, ("", "count"))[1] == "share":
            diff = f"{100 * r['diff']:+.1f} pts"
        elif METRICS.get(name, ("", "count"))[1] == "ms":
            diff = f"{r['diff']:+.0f} ms"
        else:
            diff = f"{r['diff']:+g}"
        lines.append(f"  {name:<{width}}  {format_value(name, r['a']):>9}  {format_value(name, r['b']):>9}"
                     f"  {diff:>10}  {r['verdict']}".rstrip())
    return "\n".join(lines)
