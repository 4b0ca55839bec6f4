"""Evaluation runner: ask every question of a question file through `answer_question` (the
function behind `assistant ask` and the chat) and score the answers, the retrieved passages,
the citations, abstention and latency.

`assistant eval FILE [--sources DIR] [--index DIR] [--report DIR] [-k N] [--min METRIC=VALUE] [--by COLUMN]`
`assistant eval --compare A B`

`--by COLUMN` (repeatable) breaks every metric down by the values of one of the question file's
extra columns (`lang`, `category`, ...); a breakdown by `answer_type` (number, date, name, other,
unanswerable: read from the accepted answers) is added when the file has no `type` column.

With `--sources DIR` and no `--index`, the corpus is indexed into its own folder (see
`index_dir_for`): next to it (`<DIR's parent>/index-<DIR's name>`) when that lies inside this
checkout, else in the user's cache (`<cache>/eval-indexes/<name>-<hash>`); never into the default
`index/`, never anywhere else unless `--index` names it. Without `--report`, the report goes to a new folder in the user's cache,
and the command prints where.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import metrics
from ..config import Settings
from .data import EvalRow, EvalSet, load_eval_set
from .report import write_report
from .summary import (EvalError, EvalRun, breakdown, breakdown_columns, breakdown_table, check_bounds,
                      compare_summaries, compare_table, load_summary, parse_bounds, passage_key, summarise,
                      summary_table)

EXIT_BELOW_MIN = 1
# Ranked passages written per question to results.jsonl: the standard metrics look at the top 10.
TOP_PASSAGES_KEPT = 10


# --------------------------------------------------------------------------- one question


CHECKOUT = Path(__file__).resolve().parents[2]  # the folder holding the package (a checkout, or site-packages)


def index_dir_for(sources_dir: Path, cache_dir: Path) -> Path:
    """The index folder an eval run uses for a sources folder given without --index: next to it
    inside this checkout, else in the user's cache (`--sources /etc` must not write /index-etc)."""
    sources_dir = Path(sources_dir).resolve()
    if sources_dir == Settings().sources_dir.resolve():
        return Settings().index_dir
    name = sources_dir.name or "sources"
    # Next to it only where that is still inside the checkout: `--sources .` in the checkout
    # would otherwise write `../index-<checkout>`, beside it.
    if sources_dir.parent.is_relative_to(CHECKOUT) and (CHECKOUT / "pyproject.toml").is_file():
        return sources_dir.parent / f"index-{name}"
    digest = hashlib.sha256(str(sources_dir).encode()).hexdigest()[:12]
    return Path(cache_dir) / "eval-indexes" / f"{name}-{digest}"


def default_report_dir(questions: Path, cache_dir: Path) -> Path:
    """Where a run without --report writes its report: a new folder per run in the user's cache."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(cache_dir) / "eval-reports" / f"{Path(questions).stem}-{stamp}"


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


def _ranked_passages(view, hits, row: EvalRow, language: str) -> tuple[int | None, list[dict]]:
    """The rank of the first retrieved passage holding an accepted answer (None: none does), and
    the first TOP_PASSAGES_KEPT passages as results.jsonl keeps them."""
    passages, rank = [], None
    for position, hit in enumerate(hits, 1):
        passage = view.passage(hit.passage_id)
        text = view.text(passage.article_id, passage.start, passage.end)
        found = metrics.contains_answer(text, row.answers, view.articles[passage.article_id].language,
                                        language) if row.answerable else None
        if found and rank is None:
            rank = position
        if position <= TOP_PASSAGES_KEPT:
            passages.append({"rank": position, "source": view.articles[passage.article_id].file,
                             "start": passage.start, "end": passage.end,
                             "score": round(hit.score, 4), "contains_answer": found})
    return rank, passages


def relevant_passages(view, row: EvalRow, language: str, indexed: dict[str, str]) -> list[str]:
    """The passages that hold an accepted answer (the qrels of the standard retrieval metrics,
    judged as `contains_answer` judges quotes): in the expected source articles when the row names
    them, else anywhere in the corpus (every passage read: slow on a large corpus without sources).
    `indexed`: the indexed articles' files."""
    if not row.answerable:
        return []
    if row.sources:
        ids = view.passages_of_articles(view.article_ids([f for f in row.sources if f in indexed]))
    else:
        ids = range(view.passage_count)
    relevant = []
    for passage_id in ids:
        passage = view.passage(int(passage_id))
        article = view.articles[passage.article_id]
        if metrics.contains_answer(view.text(passage.article_id, passage.start, passage.end), row.answers,
                                   article.language, language):
            relevant.append(passage_key(article.file, passage.start, passage.end))
    return relevant


def evaluate_row(assistant, row: EvalRow, max_quotes: int | None, text_of: dict[str, str]) -> dict:
    """Ask one question and score it; the dict is one line of results.jsonl."""
    view = assistant.snapshot.view
    started = time.perf_counter()
    answer, hits = assistant.ask_with_passages(row.question, max_quotes=max_quotes)
    latency_ms = (time.perf_counter() - started) * 1000

    rank, passages = _ranked_passages(view, hits, row, answer.language)

    # The expected answers are read as written in the question's language, each text in its article's.
    quotes = [_quote_dict(q, text_of, row.sources, row.answers, answer.language) for q in answer.quotes]
    related = [_quote_dict(q, text_of, row.sources, row.answers, answer.language) for q in answer.related]
    exact = all(q["exact"] for q in quotes + related)
    short = answer.short_answer
    if short is not None:
        exact = exact and _is_exact(short, text_of)
    exact = exact and all(_is_exact(side, text_of) for side in answer.sides)
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
        "relevant_passages": relevant_passages(view, row, answer.language, text_of),
        "first_quote_hit": first_hit, "any_quote_hit": any_hit, "answer_f1": f1, "source_hit": source_hit,
        "short_answer": None if short is None else short.text,
        "conflict": answer.conflict,  # the articles disagree: one answer per side, no short answer
        "sides": [{"text": s.text, "source": s.source, "start": s.start, "end": s.end, "quote": s.quote}
                  for s in answer.sides],
        "short_answer_hit": short_hit, "short_answer_f1": short_f1,
        "exact_quotes": exact, "correct": correct, "verdict": verdict,
        "latency_ms": round(latency_ms, 2),
    }


# --------------------------------------------------------------------------- the run


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
        "query_model": assistant.embedder.query_identity,  # the passage model + the question adapter
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
        **reader_info(assistant),
    }


def reader_info(assistant) -> dict:
    """What decides the answers besides the index and the settings above: the mode ("reader":
    the answer model orders, refuses and gives the short answer; "similarity": it is off), and
    with the answer model its policy and a digest of its weights, so two runs with other
    weights never look alike."""
    s = assistant.settings
    if assistant.reader is None:
        return {"mode": "similarity"}
    from ..models.reader.model import WEIGHTS_DIR, WEIGHTS_FILE

    weights = Path(s.reader_weights or WEIGHTS_DIR) / WEIGHTS_FILE
    return {"mode": "reader", "reader_policy": dataclasses.asdict(s.reader_policy),
            "reader_weights": str(weights.resolve()),
            "reader_weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}


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
        return settings.with_paths(index_dir=index_dir_for(settings.sources_dir, settings.cache_dir))
    return settings


def _load_checked(options: EvalOptions, settings: Settings) -> EvalSet:
    """The question file, its problems reported on stderr; fails before the index opens."""
    eval_set = load_eval_set(options.file, settings.max_question_chars)
    for bad in eval_set.bad:
        print(f"warning: {options.file}: skipped bad row, {bad}", file=sys.stderr)
    for warning in eval_set.warnings:
        print(f"warning: {options.file}: {warning}", file=sys.stderr)
    for note in eval_set.notes:
        print(f"note: {options.file}: {note}", file=sys.stderr)
    if options.report is not None and options.report.exists() and not options.report.is_dir():
        raise EvalError(f"--report {options.report} is a file, not a folder")
    if options.report is not None and options.report.resolve().is_relative_to(settings.sources_dir.resolve()):
        raise EvalError(f"--report {options.report} is inside the sources folder {settings.sources_dir}, where "
                        "the next index would take its report.html for an article: give a folder outside it")
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
    eval_set = _load_checked(options, settings)
    by = breakdown_columns(eval_set, list(options.by))

    from ..core import Assistant

    settings = eval_settings(options, settings)
    if options.sources_given and not options.index_given:
        print(f"index of {settings.sources_dir}: {settings.index_dir} (--index DIR puts it elsewhere)",
              file=sys.stderr)
    assistant = Assistant(settings=settings, update=True, progress=True)
    if assistant.last_update is not None:
        for line in [*assistant.last_update.skipped_lines(), assistant.last_update.summary()]:
            print(line, file=sys.stderr)
    _warn_unknown_sources(assistant, eval_set)
    run = run_eval(assistant, eval_set, max_quotes=options.max_quotes, progress=True, by=by)
    print(summary_table(run.summary))
    for column, groups in run.summary["by"].items():
        print()
        print(breakdown_table(column, groups))
    report = options.report if options.report is not None else default_report_dir(options.file, settings.cache_dir)
    write_report(run, report)
    print(f"report: {report / 'report.html'} (summary.json, results.jsonl)"
          + ("" if options.report is not None else "; --report DIR writes it elsewhere"))
    failed = check_bounds(run.summary, bounds)
    for line in failed:
        print(f"below minimum: {line}", file=sys.stderr)
    if failed:
        return EXIT_BELOW_MIN
    if bounds:
        print(f"all {len(bounds)} minimum(s) met")
    return 0
