"""Evaluation runner: ask every question of a question file through `answer_question` (the
function behind `assistant ask` and the chat) and score the answers, the retrieved passages,
the citations, abstention and latency.

`assistant eval FILE [--sources DIR] [--index DIR] [--report DIR] [-k N] [--min METRIC=VALUE] [--by COLUMN]`
`assistant eval --compare A B`

`--by COLUMN` (repeatable) breaks every metric down by the values of one of the question file's
extra columns (`lang`, `category`, ...); a breakdown by `answer_type` (number, date, name, other,
unanswerable: read from the accepted answers) is added when the file has no `type` column.

With `--sources DIR` and no `--index`, the corpus is indexed into its own folder next to it,
`<DIR's parent>/index-<DIR's name>` (see `index_dir_for`), never into the default `index/`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import metrics
from ..config import Settings
from .data import EvalRow, EvalSet, load_eval_set

EXIT_BELOW_MIN = 1

# Metrics in summary.json: name -> (label, kind, higher_is_better); kind "share" or "ms".
METRICS: dict[str, tuple[str, str, bool]] = {
    "quality": ("correct outcome (answered with the answer / abstained)", "share", True),
    "first_quote_hit": ("first quote contains an answer", "share", True),
    "any_quote_hit": ("some quote contains an answer", "share", True),
    "answer_f1": ("token F1 of the best quote", "share", True),
    "short_answer_hit": ("short answer shown and holds an answer", "share", True),
    "short_answer_f1": ("token F1 of the short answer (0 when none)", "share", True),
    "retrieval_hit@1": ("answer in the top passage", "share", True),
    "retrieval_hit@k": ("answer in the top k passages", "share", True),
    "mrr": ("mean reciprocal rank of the answer passage", "share", True),
    "source_hit": ("cited articles include an expected source", "share", True),
    "citation_precision": ("quotes from an expected source", "share", True),
    "exact_quote_rate": ("quotes that are exact article spans", "share", True),
    "abstained_unanswerable": ("unanswerable questions abstained", "share", True),
    "false_abstain": ("answerable questions abstained", "share", False),
    "latency_p50_ms": ("latency, median", "ms", False),
    "latency_p95_ms": ("latency, 95th percentile", "ms", False),
}
COUNTS = ("questions", "answerable", "unanswerable", "with_source", "quotes", "bad_rows")
ANSWER_TYPE = "answer_type"  # the breakdown read from the accepted answers (metrics.gold_answer_type)
TYPE_COLUMNS = ("type", ANSWER_TYPE)  # a question file with one of these brings its own answer types
MISSING = "(none)"  # the group of rows that leave a --by column empty
TOP_PASSAGES_KEPT = 10  # ranked passages written per question to results.jsonl
RANK_CURVE = 10  # hit rate by rank 1..RANK_CURVE, for the report's plot


class EvalError(ValueError):
    """A user-facing failure of the eval command (bad arguments, unreadable report)."""


# --------------------------------------------------------------------------- retrieval


# --------------------------------------------------------------------------- one question


def index_dir_for(sources_dir: Path) -> Path:
    """The index folder an eval run uses for a sources folder given without --index."""
    sources_dir = Path(sources_dir)
    if sources_dir.resolve() == Settings().sources_dir.resolve():
        return Settings().index_dir
    name = sources_dir.resolve().name or "sources"
    return sources_dir.resolve().parent / f"index-{name}"


def _is_exact(span, text_of: dict[str, str]) -> bool:
    """Is a quote's or short answer's text the article's text at its offsets?"""
    article_text = text_of.get(span.source)
    return article_text is not None and article_text[span.start:span.end] == span.text


def _quote_dict(q, text_of: dict[str, str], sources: tuple[str, ...], answers: tuple[str, ...],
                answer_language: str) -> dict:
    return {
        "number": q.number, "text": q.text, "source": q.source, "start": q.start, "end": q.end,
        "score": q.score, "title": q.title, "date": q.date, "language": q.language,
        "exact": _is_exact(q, text_of),
        "contains_answer": metrics.contains_answer(q.text, answers, q.language, answer_language) if answers else None,
        "expected_source": (q.source in sources) if sources else None,
    }


def evaluate_row(assistant, row: EvalRow, max_quotes: int | None, text_of: dict[str, str]) -> dict:
    """Ask one question and score it; the dict is one line of results.jsonl."""
    view = assistant.snapshot.view
    started = time.perf_counter()
    answer, hits = assistant.ask_with_passages(row.question, max_quotes=max_quotes)
    latency_ms = (time.perf_counter() - started) * 1000

    passages = []
    rank = None
    for position, hit in enumerate(hits, 1):
        passage = view.passage(hit.passage_id)
        text = view.text(passage.article_id, passage.start, passage.end)
        found = metrics.contains_answer(text, row.answers, view.articles[passage.article_id].language,
                                        answer.language) if row.answerable else None
        if found and rank is None:
            rank = position
        if position <= TOP_PASSAGES_KEPT:
            passages.append({"rank": position, "source": view.articles[passage.article_id].file,
                             "start": passage.start, "end": passage.end,
                             "score": round(hit.score, 4), "contains_answer": found})

    # The expected answers are read as written in the question's language, each text in its article's.
    quotes = [_quote_dict(q, text_of, row.sources, row.answers, answer.language) for q in answer.quotes]
    related = [_quote_dict(q, text_of, row.sources, row.answers, answer.language) for q in answer.related]
    exact = all(q["exact"] for q in quotes + related)
    short = answer.short_answer
    if short is not None:
        exact = exact and _is_exact(short, text_of)
    short_hit = short_f1 = None
    if row.answerable:
        short_language = next((q.language for q in answer.quotes if q.number == short.quote), None) if short else None
        short_hit = short is not None and metrics.contains_answer(short.text, row.answers, short_language,
                                                                  answer.language)
        short_f1 = metrics.best_f1([short.text], row.answers, [short_language], answer.language) \
            if short is not None else 0.0
        first_hit = bool(quotes) and bool(quotes[0]["contains_answer"])
        any_hit = any(q["contains_answer"] for q in quotes)
        f1 = metrics.best_f1([q["text"] for q in quotes], row.answers, [q["language"] for q in quotes],
                             answer.language)
        source_hit = any(q["source"] in row.sources for q in quotes) if row.sources else None
        correct = any_hit and exact
        verdict = ("false_abstain" if answer.abstained else "correct" if first_hit
                   else "later_quote" if any_hit else "wrong")
    else:
        first_hit = any_hit = f1 = source_hit = None
        correct = answer.abstained and exact
        verdict = "abstained" if answer.abstained else "answered_unanswerable"
    if not exact:
        verdict += "+inexact_quote"
    return {
        "line": row.line, "id": row.id, "question": row.question,
        "expected_answers": list(row.answers), "expected_sources": list(row.sources),
        "answer_type": metrics.gold_answer_type(row.answers), "extra": dict(row.extra),
        "answerable": row.answerable, "language": answer.language,
        "abstained": answer.abstained, "top_score": answer.top_score, "answer": answer.answer,
        "quotes": quotes, "related": related,
        "retrieval_rank": rank, "passages": passages,
        "first_quote_hit": first_hit, "any_quote_hit": any_hit, "answer_f1": f1, "source_hit": source_hit,
        "short_answer": None if short is None else short.text,
        "short_answer_hit": short_hit, "short_answer_f1": short_f1,
        "exact_quotes": exact, "correct": correct, "verdict": verdict,
        "latency_ms": round(latency_ms, 2),
    }


def is_failure(result: dict) -> bool:
    return not result["correct"] or result["verdict"] not in ("correct", "abstained")


# --------------------------------------------------------------------------- summary


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
        "retrieval_hit@1": metrics.hit_at(ranks, 1),
        "retrieval_hit@k": metrics.hit_at(ranks, retrieval_k),
        "retrieval_k": retrieval_k,
        "mrr": metrics.mrr(ranks),
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


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_info(assistant, eval_set: EvalSet, max_quotes: int | None) -> dict:
    s = assistant.settings
    view = assistant.snapshot.view
    digest = hashlib.sha256(eval_set.path.read_bytes()).hexdigest()
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
        "model": assistant.embedder.identity,
        "index": str(Path(s.index_dir).resolve()),
        "index_generation": view.generation,
        "sources": str(Path(s.sources_dir).resolve()),
        "articles": len(view.articles),
        "passages": view.passage_count,
        "questions_file": str(eval_set.path.resolve()),
        "questions_sha256": digest,
        "format": eval_set.format,
        "bad_rows": [{"line": b.line, "reason": b.reason} for b in eval_set.bad],
        "extra_columns": list(eval_set.columns),
        "max_quotes": max_quotes if max_quotes is not None else s.max_quotes,
        "settings": {"abstain_threshold": s.abstention.threshold,
                     "abstain_threshold_cross_language": s.abstention.threshold_cross_language,
                     "quote_passages": s.quote_passages,
                     "retrieve_candidates": s.retrieve_candidates},
        "commit": _git_commit(),
    }


# --------------------------------------------------------------------------- running


@dataclass
class EvalRun:
    summary: dict  # metrics, counts and run info
    results: list[dict]
    eval_set: EvalSet


def run_eval(assistant, eval_set: EvalSet, max_quotes: int | None = None, progress: bool = True,
             by: list[str] | None = None) -> EvalRun:
    """Ask and score every good row of `eval_set` with an open `Assistant`; `by`: columns to
    break the metrics down by (see `breakdown_columns`)."""
    columns = breakdown_columns(eval_set, list(by or []))
    from tqdm import tqdm

    text_of = {a.file: a.text for a in assistant.sources()}
    assistant.embedder.encode_queries(["warm-up"])  # load the models before the first timed question
    if assistant.reader is not None:
        assistant.reader.model  # noqa: B018 - else the first question's latency includes loading it
    results = []
    for row in tqdm(eval_set.rows, desc="eval", unit="question", disable=not progress, file=sys.stderr,
                    dynamic_ncols=True):
        results.append(evaluate_row(assistant, row, max_quotes, text_of))
    summary = summarise(results, assistant.settings.quote_passages)
    summary["bad_rows"] = len(eval_set.bad)
    summary["by"] = breakdown(results, columns, assistant.settings.quote_passages)
    info = run_info(assistant, eval_set, max_quotes)
    summary.update({"date": info["date"], "model": info["model"], "index": info["index"], "run": info})
    return EvalRun(summary, results, eval_set)


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


# --------------------------------------------------------------------------- compare


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


# --------------------------------------------------------------------------- command


@dataclass(frozen=True)
class EvalOptions:
    """What `assistant eval` was asked to do (see cli.py)."""

    file: Path | None = None
    report: Path | None = None
    max_quotes: int | None = None
    minimums: tuple[str, ...] = ()  # "METRIC=VALUE"
    by: tuple[str, ...] = ()
    compare: tuple[Path, Path] | None = None
    sources_given: bool = False  # --sources without --index: the corpus gets its own index folder
    index_given: bool = False


def eval_settings(options: EvalOptions, settings: Settings) -> Settings:
    if options.sources_given and not options.index_given:
        return settings.with_paths(index_dir=index_dir_for(settings.sources_dir))
    return settings


def _load_checked(options: EvalOptions) -> EvalSet:
    """The question file, its problems reported on stderr; fails before the index opens."""
    eval_set = load_eval_set(options.file)
    for bad in eval_set.bad:
        print(f"warning: {options.file}: skipped bad row, {bad}", file=sys.stderr)
    for warning in eval_set.warnings:
        print(f"warning: {options.file}: {warning}", file=sys.stderr)
    for note in eval_set.notes:
        print(f"note: {options.file}: {note}", file=sys.stderr)
    if options.report is not None and options.report.exists() and not options.report.is_dir():
        raise EvalError(f"--report {options.report} is a file, not a folder")
    return eval_set


def _warn_unknown_sources(assistant, eval_set: EvalSet) -> None:
    indexed = {a.file for a in assistant.sources()}
    unknown = sorted({src for row in eval_set.rows for src in row.sources} - indexed)
    if unknown:
        print(f"warning: {len(unknown)} expected source(s) are not indexed articles of "
              f"{assistant.settings.sources_dir}: {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}",
              file=sys.stderr)


def run_eval_command(options: EvalOptions, settings: Settings) -> int:
    if options.compare:
        if options.file is not None or options.minimums or options.report is not None or options.by:
            raise EvalError("--compare A B takes no question file, --min, --by or --report")
        a, b = options.compare
        print(compare_table(a, b, compare_summaries(load_summary(a), load_summary(b))))
        return 0
    if options.file is None:
        raise EvalError("give a question file (JSONL or CSV), or --compare A B")
    bounds = parse_bounds(list(options.minimums))
    eval_set = _load_checked(options)
    by = breakdown_columns(eval_set, list(options.by))

    from ..core import Assistant

    assistant = Assistant(settings=eval_settings(options, settings), update=True, progress=True)
    if assistant.last_update is not None:
        print(assistant.last_update.summary(), file=sys.stderr)
    _warn_unknown_sources(assistant, eval_set)
    run = run_eval(assistant, eval_set, max_quotes=options.max_quotes, progress=True, by=by)
    print(summary_table(run.summary))
    for column, groups in run.summary["by"].items():
        print()
        print(breakdown_table(column, groups))
    if options.report is not None:
        from .report import write_report

        write_report(run, options.report)
        print(f"report: {options.report / 'report.html'} (summary.json, results.jsonl)")
    failed = check_bounds(run.summary, bounds)
    for line in failed:
        print(f"below minimum: {line}", file=sys.stderr)
    if failed:
        return EXIT_BELOW_MIN
    if bounds:
        print(f"all {len(bounds)} minimum(s) met")
    return 0
