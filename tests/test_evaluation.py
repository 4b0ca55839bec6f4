"""The evaluation runner: scoring, summary, report, --min, --compare, and agreement with
`assistant ask --json`. Real model and real indexes; tiny corpora in-process, the shipped
articles through the command line."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.evaluation import summary
from assistant.evaluation.data import EvalRow, load_eval_set
from assistant.evaluation.report import render_html, write_report
from assistant.answer.candidates import SimilarityFirstStage
from assistant.evaluation.runner import index_dir_for, run_eval
from assistant.evaluation.summary import (EvalError, breakdown, breakdown_columns, check_bounds, compare_summaries,
                                          parse_bounds, summarise)
from assistant.evaluation.metrics import contains_answer, gold_answer_type

REPO = Path(__file__).resolve().parent.parent
SHIPPED_QUESTIONS = REPO / "eval" / "shipped_questions.jsonl"
SHIPPED_MIN = json.loads((REPO / "eval" / "shipped_min.json").read_text(encoding="utf-8"))
REQUIRED_KEYS = ("questions", "first_quote_hit", "any_quote_hit", "retrieval_hit@1", "retrieval_hit@k", "mrr",
                 "source_hit", "exact_quote_rate", "abstained_unanswerable", "false_abstain", "latency_p50_ms",
                 "latency_p95_ms")
NASTY = "What <b>cargo</b> & <script>alert('x')</script> did the port move?"


def _test_cache() -> Path:
    """A cache folder of this test run (eval indexes and default reports go to the user's cache),
    with the converted model linked in so it is not converted again."""
    from assistant.config import default_cache_dir

    folder = Path(tempfile.mkdtemp(prefix="eval-cache-"))
    if (default_cache_dir(os.environ) / "models").is_dir():
        (folder / "models").symlink_to(default_cache_dir(os.environ) / "models")
    return folder


CACHE = _test_cache()


def cli(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ASSISTANT_CACHE_DIR=str(CACHE))
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- hand-made results


def result(answerable=True, abstained=False, rank=None, quotes=(), related=(), sources=(), f1=0.0,
           latency=100.0, top=0.5, extra=None, answer_type="other", short=None):
    """A results.jsonl row as evaluate_row writes it; `quotes` are (contains_answer, exact, source),
    `short` is the short answer's (holds an answer, token F1)."""
    qs = [{"number": i, "text": "t", "source": src, "start": 0, "end": 1, "score": top, "exact": exact,
           "contains_answer": hit if answerable else None, "expected_source": (src in sources) if sources else None}
          for i, (hit, exact, src) in enumerate(quotes, 1)]
    rel = [{"number": i, "text": "t", "source": "r.txt", "start": 0, "end": 1, "score": top, "exact": exact,
            "contains_answer": None, "expected_source": None} for i, exact in enumerate(related, 1)]
    exact_all = all(q["exact"] for q in qs + rel)
    if answerable:
        first = bool(qs) and bool(qs[0]["contains_answer"])
        any_hit = any(q["contains_answer"] for q in qs)
        source_hit = any(q["source"] in sources for q in qs) if sources else None
        correct = any_hit and exact_all
        verdict = "false_abstain" if abstained else "correct" if first else "later_quote" if any_hit else "wrong"
    else:
        first = any_hit = f1 = source_hit = None
        correct = abstained and exact_all
        verdict = "abstained" if abstained else "answered_unanswerable"
    return {"line": 1, "id": "x", "question": "q", "expected_answers": ["a"] if answerable else [],
            "expected_sources": list(sources), "answerable": answerable, "language": "en",
            "abstained": abstained, "top_score": top, "answer": "", "quotes": qs, "related": rel,
            "retrieval_rank": rank, "passages": [], "first_quote_hit": first, "any_quote_hit": any_hit,
            "answer_f1": f1, "source_hit": source_hit, "exact_quotes": exact_all, "correct": correct,
            "verdict": verdict, "latency_ms": latency, "extra": extra or {},
            "short_answer": "s" if short else None,
            "short_answer_hit": (short or (False, 0.0))[0] if answerable else None,
            "short_answer_f1": (short or (False, 0.0))[1] if answerable else None,
            "answer_type": answer_type if answerable else "unanswerable"}


def test_summary_of_hand_made_results_has_known_values():
    results = [
        # answerable, first quote hits, from the expected source, answer at passage rank 1
        result(rank=1, quotes=[(True, True, "a.txt"), (False, True, "b.txt")], sources=["a.txt"], f1=1.0,
               latency=10, short=(True, 1.0)),
        # answerable, second quote hits, rank 2, quotes from the wrong source
        result(rank=2, quotes=[(False, True, "b.txt"), (True, True, "b.txt")], sources=["a.txt"], f1=0.5,
               latency=20, short=(False, 0.5)),
        # answerable, no quote hits, answer passage at rank 10 (outside k=5); no source given
        result(rank=10, quotes=[(False, True, "c.txt")], f1=0.0, latency=30),
        # answerable but abstained; answer passage never retrieved
        result(abstained=True, rank=None, related=[True], sources=["a.txt"], latency=40),
        # unanswerable, abstained (correct)
        result(answerable=False, abstained=True, related=[True, True], latency=50),
        # unanswerable, answered with one quote that is not an exact span
        result(answerable=False, quotes=[(None, False, "a.txt")], latency=1000),
    ]
    s = summarise(results, retrieval_k=5)
    assert (s["questions"], s["answerable"], s["unanswerable"], s["with_source"]) == (6, 4, 2, 3)
    assert s["quotes"] == 2 + 2 + 1 + 1 + 2 + 1
    assert s["quality"] == pytest.approx(round(3 / 6, 4))  # rows 1, 2 and 5
    assert s["first_quote_hit"] == 0.25
    assert s["any_quote_hit"] == 0.5
    assert s["answer_f1"] == pytest.approx(round((1 + 0.5 + 0 + 0) / 4, 4))
    assert s["short_answer_hit"] == 0.25  # an abstention shows no short answer: a miss
    assert s["short_answer_f1"] == pytest.approx(round((1 + 0.5) / 4, 4))
    assert s["short_answer_precision"] == 0.5  # shown on rows 1 and 2, right on row 1
    assert s["retrieval_hit@1"] == 0.25
    assert s["retrieval_hit@k"] == 0.5 and s["retrieval_k"] == 5
    assert s["mrr"] == pytest.approx(round((1 + 0.5 + 0.1 + 0) / 4, 4))
    assert s["source_hit"] == pytest.approx(round(1 / 3, 4))  # rows 1, 2, 4 have a source; only row 1 cites it
    assert s["citation_precision"] == 0.25  # quotes of answerable rows with sources: a, b, b, b
    assert s["exact_quote_rate"] == pytest.approx(round(8 / 9, 4))
    assert s["abstained_unanswerable"] == 0.5
    assert s["false_abstain"] == 0.25
    assert s["latency_p50_ms"] == 35.0
    assert s["latency_p95_ms"] == pytest.approx(1000 - 0.25 * 950)  # between 50 and 1000
    assert s["retrieval_hit_by_rank"][:3] == [0.25, 0.5, 0.5] and s["retrieval_hit_by_rank"][9] == 0.75


def test_standard_passage_metrics_come_from_the_judged_passages_of_each_row():
    def passages(*keys):
        return [{"rank": i, "source": k.split(":")[0], "start": int(k.split(":")[1].split("-")[0]),
                 "end": int(k.split("-")[1]), "score": 0.5, "contains_answer": None} for i, k in enumerate(keys, 1)]

    hit_second = {**result(rank=2), "passages": passages("a.txt:0-9", "a.txt:10-19", "b.txt:0-9"),
                  "relevant_passages": ["a.txt:10-19", "c.txt:0-9"]}
    missed = {**result(rank=None), "passages": passages("b.txt:0-9"), "relevant_passages": ["a.txt:0-9"]}
    unjudged = {**result(rank=None), "passages": passages("b.txt:0-9"), "relevant_passages": []}
    unanswerable = {**result(answerable=False, abstained=True), "passages": passages("a.txt:10-19"),
                    "relevant_passages": []}
    s = summarise([hit_second, missed, unjudged, unanswerable], retrieval_k=5)
    assert s["with_relevant_passage"] == 2  # the unjudged and the unanswerable row are not scored
    assert s["passage_recall@1"] == 0.0
    assert s["passage_recall@5"] == s["passage_recall@10"] == pytest.approx(round((1 / 2 + 0) / 2, 4))
    assert s["passage_mrr@10"] == pytest.approx(round((1 / 2 + 0) / 2, 4))
    ideal = 1 + 1 / math.log2(3)  # two relevant passages, at ranks 1 and 2
    assert s["passage_ndcg@10"] == pytest.approx(round((1 / math.log2(3) / ideal + 0) / 2, 4))
    assert summarise([result(rank=1)], retrieval_k=5)["passage_ndcg@10"] is None  # nothing judged


def reader_run(mode: str) -> summary.EvalRun:
    """A hand-made run in one mode: two answered questions, one refused."""
    results = [result(rank=1, quotes=[(True, True, "a.txt")], top=0.9),
               result(rank=1, quotes=[(False, True, "a.txt")], top=0.3),
               result(answerable=False, abstained=True, related=[True], top=0.05)]
    s = summarise(results, retrieval_k=5)
    s["run"] = {"settings": {"abstain_threshold": 1.182, "abstain_threshold_cross_language": 1.073}, "mode": mode}
    if mode == "reader":
        s["run"].update(reader_policy={"refuse_below": 0.0725}, reader_weights_sha256="ab" * 32)
    return summary.EvalRun(s, results, None)


def drawn(page: str) -> list[str]:
    """The threshold labels drawn in the page's plots."""
    return re.findall(r'stroke-dasharray="4 3"/><text [^>]*>([^<]*)</text>', page)


def test_the_report_draws_the_threshold_its_mode_refuses_by():
    reader = render_html(reader_run("reader"))
    assert drawn(reader) == ["refuse below 0.0725"] * 2
    assert "First quote&#x27;s probability (answer model): answered versus abstained" in reader
    assert "ab" * 32 in reader  # the weights' digest, beside the mode and the policy
    similarity = render_html(reader_run("similarity"))
    assert drawn(similarity) == ["threshold, same language 1.182", "cross-language 1.073"] * 2
    assert "probability" not in similarity


def test_the_report_fits_a_phone_and_keeps_header_words_whole():
    page = render_html(reader_run("reader"))
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    css = re.search(r"<style>(.*)</style>", page, re.S).group(1)
    th_rules = [rule for rule in re.findall(r"([^{}]+)\{([^}]*)\}", css) if "th" in rule[0].strip().split(",")]
    assert th_rules and "overflow-wrap:normal" in th_rules[-1][1]  # the last rule for th wins


def _bounds(data: dict, prefix: str = "") -> dict[str, float]:
    """A bounds file's bounds, flattened ("by.batch.v1.quality"); notes (keys starting "_") left out."""
    flat = {}
    for name, value in data.items():
        if isinstance(value, dict):
            flat.update(_bounds(value, f"{prefix}{name}."))
        elif not name.startswith("_"):
            flat[prefix + name] = value
    return flat


def _git(*args: str) -> str | None:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def test_shipped_bounds_move_down_only_with_a_recorded_reason():
    """eval/shipped_min.json's _rule: every commit that lowered a bound is in _changes with its
    reason, and a bound lowered in the working tree comes with a new _changes entry."""
    recorded = {c["commit"] for c in SHIPPED_MIN["_changes"] if c.get("reason")}
    history = _git("log", "--format=%h", "--reverse", "--", "eval/shipped_min.json")
    if not history or _git("rev-parse", "--is-shallow-repository") != "false\n":
        pytest.skip("needs the git history of eval/shipped_min.json")
    previous: dict[str, float] = {}
    for commit in history.split():
        bounds = _bounds(json.loads(_git("show", f"{commit}:eval/shipped_min.json")))
        lowered = sorted(k for k, v in bounds.items() if k in previous and v < previous[k])
        assert not lowered or any(commit.startswith(r) or r.startswith(commit) for r in recorded), (commit, lowered)
        previous = bounds
    lowered = sorted(k for k, v in _bounds(SHIPPED_MIN).items() if k in previous and v < previous[k])
    at_head = json.loads(_git("show", "HEAD:eval/shipped_min.json")).get("_changes", [])
    assert not lowered or len(SHIPPED_MIN["_changes"]) > len(at_head), f"lowered without a reason: {lowered}"


def test_metrics_that_do_not_apply_are_none():
    s = summarise([result(answerable=False, abstained=True)], retrieval_k=5)
    assert s["first_quote_hit"] is None and s["mrr"] is None and s["source_hit"] is None
    assert s["abstained_unanswerable"] == 1.0 and s["exact_quote_rate"] is None
    assert summary.format_value("mrr", None) == "n/a"
    assert "n/a" in summary.summary_table({**s, "bad_rows": 0})


def test_breakdown_by_a_column_summarises_each_group():
    results = [
        result(rank=1, quotes=[(True, True, "a.txt")], extra={"lang": "de"}, answer_type="number", latency=10),
        result(rank=None, quotes=[(False, True, "a.txt")], extra={"lang": "de"}, answer_type="name", latency=20),
        result(rank=2, quotes=[(True, True, "a.txt")], extra={"lang": "en"}, answer_type="number", latency=30),
        result(answerable=False, abstained=True, extra={"lang": "en"}, latency=40),
        result(rank=1, quotes=[(True, True, "a.txt")], extra={}, latency=50),  # no lang: its own group
    ]
    by = breakdown(results, ["lang", "answer_type"], retrieval_k=5)
    assert list(by["lang"]) == ["de", "en", "(none)"]
    de, en, none = by["lang"]["de"], by["lang"]["en"], by["lang"]["(none)"]
    assert (de["questions"], en["questions"], none["questions"]) == (2, 2, 1)
    assert de["first_quote_hit"] == 0.5 and de["retrieval_hit@1"] == 0.5 and de["abstained_unanswerable"] is None
    assert en["first_quote_hit"] == 1.0 and en["mrr"] == 0.5 and en["abstained_unanswerable"] == 1.0
    assert en["quality"] == 1.0 and en["latency_p50_ms"] == 35.0
    assert by["answer_type"]["number"]["questions"] == 2 and by["answer_type"]["unanswerable"]["questions"] == 1
    # every group's metrics are those of summarise() over that group alone
    assert de == summarise(results[:2], retrieval_k=5)


@pytest.mark.parametrize("answers, kind", [
    (["1,5 Milliarden US-Dollar"], "number"), (["24 million"], "number"), (["Zehntausende"], "number"),
    (["zehnjährige", "10-year"], "number"), (["16. Januar 2024"], "date"), (["April 2024"], "date"), (["2007"], "date"),
    (["January 16, 2024"], "date"), (["Satya Nadella"], "name"), (["Open Telekom Cloud"], "name"), (["TOBi"], "name"),
    (["Ursula von der Leyen"], "name"), (["Festnetz- und Mobilfunk", "fixed and mobile connectivity"], "other"),
    (["Daten für ihre eigenen Zwecke zu nutzen"], "other"), ([], "unanswerable"),
])
def test_answer_type_is_read_from_the_accepted_answers(answers, kind):
    assert gold_answer_type(answers) == kind


def test_breakdown_columns_are_checked_against_the_file(tmp_path):
    plain = load_eval_set(write_jsonl(tmp_path / "p.jsonl", [{"question": "Who runs Vodacom?", "answer": "a"}]))
    assert breakdown_columns(plain, []) == ["answer_type"]  # added when the file has no type column
    typed = load_eval_set(write_jsonl(tmp_path / "t.jsonl", [{"question": "Who runs Vodacom?", "answer": "a", "lang": "en",
                                                               "type": "name"}]))
    assert breakdown_columns(typed, ["lang", "lang"]) == ["lang"]
    assert breakdown_columns(typed, ["type", "answer_type"]) == ["type", "answer_type"]
    with pytest.raises(EvalError, match=r"--by 'category'.*its extra columns: lang, type"):
        breakdown_columns(typed, ["category"])


def test_parse_and_check_bounds():
    assert parse_bounds(["first_quote_hit=0.8", "retrieval_hit@k=0.9"]) == {"first_quote_hit": 0.8,
                                                                             "retrieval_hit@k": 0.9}
    for bad, message in [("first_quote_hit", "METRIC=VALUE"), ("nosuch=1", "unknown metric"),
                         ("mrr=high", "not a number"), ("latency_p95_ms=100", "better when lower"),
                         ("false_abstain=0.1", "better when lower"), ("mrr=nan", "not a number")]:
        with pytest.raises(EvalError, match=message):
            parse_bounds([bad])
    summary = {"mrr": 0.7, "source_hit": None, "quality": 0.9}
    assert check_bounds(summary, {"mrr": 0.7, "quality": 0.5}) == []
    failed = check_bounds(summary, {"mrr": 0.71, "source_hit": 0.1})
    assert len(failed) == 2 and "below the bound 0.71" in failed[0] and "no question" in failed[1]


def test_compare_summaries():
    a = {"questions": 10, "first_quote_hit": 0.5, "latency_p50_ms": 100.0, "mrr": 0.6, "source_hit": None}
    b = {"questions": 10, "first_quote_hit": 0.7, "latency_p50_ms": 150.0, "mrr": 0.6, "source_hit": 0.5}
    rows = {r["metric"]: r for r in compare_summaries(a, b)}
    assert rows["first_quote_hit"]["diff"] == pytest.approx(0.2) and rows["first_quote_hit"]["verdict"] == "better"
    assert rows["latency_p50_ms"]["diff"] == 50.0 and rows["latency_p50_ms"]["verdict"] == "worse"
    assert rows["mrr"]["verdict"] == "same"
    assert rows["source_hit"]["diff"] is None
    assert "any_quote_hit" not in rows  # in neither summary


def test_index_dir_for_a_sources_folder_is_its_own(tmp_path):
    """Next to the sources folder inside the checkout; in the user's cache anywhere else (so
    `--sources /etc` never writes /index-etc); never the default index/."""
    cache = tmp_path / "cache"
    assert index_dir_for(REPO / "xq" / "sources", cache) == REPO / "xq" / "index-sources"
    outside = index_dir_for(Path("/etc"), cache)
    assert outside.parent == cache / "eval-indexes" and outside.name.startswith("etc-")
    assert index_dir_for(tmp_path / "corpus", cache).is_relative_to(cache)
    assert index_dir_for(tmp_path / "corpus", cache) != index_dir_for(tmp_path / "x" / "corpus", cache)
    assert index_dir_for(tmp_path / "corpus", cache).resolve() != (REPO / "index").resolve()
    # `eval --sources .` in the checkout: next to it would be outside the checkout (issue 27, item 9)
    assert index_dir_for(REPO, cache).parent == cache / "eval-indexes"


def test_a_report_inside_the_sources_folder_is_refused(tiny_settings, tiny_questions):
    """Its report.html would be indexed as an article by the next run (issue 27, item 9); refused
    before anything is indexed."""
    sources = tiny_settings.sources_dir
    articles = sorted(p.name for p in sources.iterdir())
    for report in (sources / "report", sources):
        refused = cli("eval", str(tiny_questions), "--sources", str(sources), "--report", str(report))
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert "inside the sources folder" in refused.stderr.strip().splitlines()[-1], refused.stderr
    assert sorted(p.name for p in sources.iterdir()) == articles
    assert not index_dir_for(sources, CACHE).exists()


# --------------------------------------------------------------------------- tiny corpus, in-process


@pytest.fixture()
def tiny_assistant(tiny_settings, embedder):
    from assistant import Assistant

    return Assistant(settings=tiny_settings, update=True, embedder=embedder)


@pytest.fixture()
def tiny_questions(tmp_path) -> Path:
    return write_jsonl(tmp_path / "tiny.jsonl", [
        {"id": "containers", "question": "How many containers did the Port of Hamburg handle in 2022?",
         "answer": ["8.7 million"], "source": "harbour.md"},
        {"id": "hitze", "question": "Wie warm wird es am Freitag in Berlin?", "answer": "28 Grad",
         "source": "wetter.txt"},
        {"id": "wärmer", "question": "Um wie viel Grad wird es in Potsdam wärmer?", "answer": "1.5 Grad"},
        {"id": "nasty", "question": NASTY, "answer": ["<i>nothing & none</i>"], "source": "wetter.txt"},
        {"id": "peru", "question": "What is the capital of Peru?", "answer": []},
        {"id": "bad", "answer": "a row without a question <em>"},
    ])


def test_run_eval_agrees_with_ask(tiny_assistant, tiny_questions, tmp_path):
    eval_set = load_eval_set(tiny_questions)
    run = run_eval(tiny_assistant, eval_set, progress=False)
    assert [r["id"] for r in run.results] == ["containers", "hitze", "wärmer", "nasty", "peru"]
    texts = {a.file: a.text for a in tiny_assistant.sources()}
    view = tiny_assistant.snapshot.view
    for row, r in zip(eval_set.rows, run.results):
        direct = tiny_assistant.ask(row.question)
        assert r["abstained"] == direct.abstained and r["answer"] == direct.answer
        assert r["top_score"] == direct.top_score and r["language"] == direct.language
        assert [(q["text"], q["source"], q["start"], q["end"], q["score"]) for q in r["quotes"]] == \
            [(q.text, q.source, q.start, q.end, q.score) for q in direct.quotes]
        for q in r["quotes"] + r["related"]:
            assert q["exact"] and texts[q["source"]][q["start"]:q["end"]] == q["text"]
        # the retrieval rank is that of the first ranked passage that holds an answer
        if row.answerable and r["retrieval_rank"] is not None:
            hits = SimilarityFirstStage.of(tiny_assistant.snapshot).retrieve(" ".join(row.question.split())).hits
            assert contains_answer(view.passage_text(hits[r["retrieval_rank"] - 1].passage_id), row.answers)
    by_id = {r["id"]: r for r in run.results}
    assert by_id["containers"]["retrieval_rank"] == 1 and by_id["containers"]["any_quote_hit"]
    # answered from the weather article (whether its "28 Grad" sentence is among the quotes is
    # the model's call: it ranks the "1,5 Grad wärmer" sentence first)
    assert by_id["hitze"]["source_hit"]
    assert by_id["hitze"]["any_quote_hit"] == any("28 Grad" in q["text"] for q in by_id["hitze"]["quotes"])
    assert by_id["wärmer"]["any_quote_hit"]  # "1.5 Grad" matches the article's "1,5 Grad"
    assert by_id["nasty"]["verdict"] in ("wrong", "false_abstain") and by_id["nasty"]["retrieval_rank"] is None
    assert by_id["peru"]["first_quote_hit"] is None and by_id["peru"]["answer_f1"] is None
    s = run.summary
    assert s["questions"] == 5 and s["answerable"] == 4 and s["unanswerable"] == 1
    assert s["exact_quote_rate"] == 1.0
    for key in REQUIRED_KEYS:
        assert isinstance(s[key], (int, float)), key
    assert s["model"] == tiny_assistant.embedder.identity and s["run"]["articles"] == 2
    assert s["run"]["questions_sha256"] and s["date"]
    assert s["bad_rows"] == 1 and s["run"]["bad_rows"] == [{"line": 6, "reason": "no question"}]


def test_the_run_records_how_it_answered_and_which_passages_hold_the_answer(tiny_assistant, tiny_questions,
                                                                          tiny_settings, embedder):
    from assistant import Assistant
    from assistant.models.reader.model import WEIGHTS_DIR, WEIGHTS_FILE

    eval_set = load_eval_set(tiny_questions)
    run = run_eval(tiny_assistant, eval_set, progress=False)
    info = run.summary["run"]
    assert info["mode"] == "reader"
    assert info["reader_policy"] == dataclasses.asdict(tiny_settings.reader_policy)
    assert info["reader_weights_sha256"] == hashlib.sha256((WEIGHTS_DIR / WEIGHTS_FILE).read_bytes()).hexdigest()
    texts = {a.file: a.text for a in tiny_assistant.sources()}
    for row, r in zip(eval_set.rows, run.results):
        def expected(source: str) -> bool:
            return not row.sources or source in row.sources  # without sources: the whole corpus is judged

        for key in r["relevant_passages"]:  # each judged passage holds an answer, in an expected source
            source, start, end = re.fullmatch(r"(.+):(\d+)-(\d+)", key).groups()
            assert contains_answer(texts[source][int(start):int(end)], row.answers) and expected(source)
        ranked = {f"{p['source']}:{p['start']}-{p['end']}": p["contains_answer"] for p in r["passages"]}
        assert {k for k, holds in ranked.items() if holds and expected(k.split(":")[0])} <= \
            set(r["relevant_passages"])  # a retrieved passage holding the answer is judged relevant
    assert by_id(run)["containers"]["relevant_passages"] and by_id(run)["peru"]["relevant_passages"] == []
    assert run.summary["passage_recall@1"] > 0 and run.summary["passage_ndcg@10"] > 0

    similarity = Assistant(settings=dataclasses.replace(tiny_settings, reader=False), embedder=embedder)
    info = run_eval(similarity, eval_set, progress=False).summary["run"]
    assert info["mode"] == "similarity" and "reader_policy" not in info and "reader_weights_sha256" not in info


def test_max_quotes_is_passed_through(tiny_assistant, tiny_questions):
    run = run_eval(tiny_assistant, load_eval_set(tiny_questions), max_quotes=1, progress=False)
    assert all(len(r["quotes"]) <= 1 for r in run.results)
    assert run.summary["run"]["max_quotes"] == 1


class _Checker(HTMLParser):
    VOID = {"meta", "br", "line", "rect", "img", "hr", "input", "link", "col"}

    def __init__(self):
        super().__init__()
        self.stack, self.text, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_report_files_and_html(tiny_assistant, tiny_questions, tmp_path):
    run = run_eval(tiny_assistant, load_eval_set(tiny_questions), progress=False)
    folder = tmp_path / "report"
    write_report(run, folder)
    lines = (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["containers", "hitze", "wärmer", "nasty", "peru"]
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert {k: summary[k] for k in REQUIRED_KEYS} == {k: run.summary[k] for k in REQUIRED_KEYS}
    page = (folder / "report.html").read_text(encoding="utf-8")
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == [], "unclosed tags"
    text = "".join(checker.text)
    # the failures: the question nobody can answer and the unanswerable one that was answered
    assert NASTY in text and "<i>nothing & none</i>" in text
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;cargo&lt;/b&gt;" in page
    assert "script" not in checker.tags
    assert ("What is the capital of Peru?" in text) == (not by_id(run)["peru"]["abstained"])
    assert checker.tags.count("svg") == 4
    assert "Bad rows skipped" in text and "line 6: no question" in text
    assert "Failures" in text and f"retrieval_hit@{run.summary['retrieval_k']}" in text


def by_id(run):
    return {r["id"]: r for r in run.results}


def test_render_html_escapes_quotes_from_articles(tiny_assistant, tmp_path):
    run = run_eval(tiny_assistant, load_eval_set(write_jsonl(tmp_path / "q.jsonl", [
        {"question": "Which rail link is planned?", "answer": "no such answer"}])), progress=False)
    run.results[0]["quotes"][0]["text"] = "<img src=x onerror=alert(1)>"
    page = render_html(run)
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


# --------------------------------------------------------------------------- command line


def test_cli_argument_errors_fail_fast(tmp_path):
    q = write_jsonl(tmp_path / "q.jsonl", [{"question": "Who runs Vodacom?", "answer": "a"}])
    for args, message in [([str(q), "--min", "nosuch=1"], "unknown metric"),
                          ([str(q), "--min", "latency_p95_ms=100"], "better when lower"),
                          ([], "question file"),
                          ([str(tmp_path / "none.jsonl")], "no such question file"),
                          ([str(write_jsonl(tmp_path / "bad.jsonl", [{"answer": "x"}]))], "no usable question")]:
        done = cli("eval", *args, "--sources", str(tmp_path / "s"))
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith("error:") and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "index-s").exists()  # failed before opening any index


def test_cli_compare(tmp_path):
    for name, value, latency in (("a", 0.5, 100.0), ("b", 0.75, 80.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(
            {"questions": 4, "first_quote_hit": value, "mrr": 0.5, "latency_p50_ms": latency}), encoding="utf-8")
    done = cli("eval", "--compare", str(tmp_path / "a"), str(tmp_path / "b" / "summary.json"))
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("  ")}
    assert "50.0%" in lines["first_quote_hit"] and "75.0%" in lines["first_quote_hit"]
    assert "+25.0 pts" in lines["first_quote_hit"] and lines["first_quote_hit"].endswith("better")
    assert "-20 ms" in lines["latency_p50_ms"] and lines["latency_p50_ms"].endswith("better")
    assert lines["mrr"].endswith("same")
    missing = cli("eval", "--compare", str(tmp_path / "a"), str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no summary" in missing.stderr


@pytest.mark.model  # `assistant eval` loads the model in its own process
def test_cli_min_fails_and_passes_on_a_tiny_corpus(tiny_settings, tiny_questions, tmp_path):
    sources = str(tiny_settings.sources_dir)
    failing = cli("eval", str(tiny_questions), "--sources", sources, "--min", "any_quote_hit=1.01",
                  "--min", "exact_quote_rate=1")
    assert failing.returncode == 1, failing.stderr
    assert "below minimum: any_quote_hit" in failing.stderr and "exact_quote_rate" not in failing.stderr
    assert "any_quote_hit" in failing.stdout  # the summary table is printed either way
    # with --sources and no --index the corpus gets its own index folder, in the cache (it lies
    # outside the checkout): nothing is written next to it
    assert index_dir_for(tiny_settings.sources_dir, CACHE).is_dir()
    assert f"index of {tiny_settings.sources_dir}: {index_dir_for(tiny_settings.sources_dir, CACHE)}" in failing.stderr
    assert not (tiny_settings.sources_dir.parent / "index-sources").exists()
    # without --report, a report is written all the same, and the command says where
    shown = [line for line in failing.stdout.splitlines() if line.startswith("report: ")]
    assert len(shown) == 1 and "--report DIR writes it elsewhere" in shown[0], failing.stdout
    written = Path(shown[0].split()[1])
    assert written.is_file() and written.is_relative_to(CACHE / "eval-reports")
    assert (written.parent / "summary.json").is_file() and (written.parent / "results.jsonl").is_file()
    passing = cli("eval", str(tiny_questions), "--sources", sources, "--min", "exact_quote_rate=1",
                  "--min", "retrieval_hit@k=0.5")
    assert passing.returncode == 0, passing.stderr
    assert "all 2 minimum(s) met" in passing.stdout


@pytest.mark.model  # `assistant eval` loads the model in its own process
def test_cli_by_columns_in_terminal_json_and_html(tiny_settings, tmp_path):
    questions = write_jsonl(tmp_path / "by.jsonl", [
        {"question": "How many containers did the Port of Hamburg handle in 2022?", "answer": "8.7 million",
         "lang": "en", "category": "<b>cargo</b>"},
        {"question": "Wie warm wird es am Freitag in Berlin?", "answer": "28 Grad", "lang": "de", "category": "weather"},
        {"question": "Um wie viel Grad wird es in Potsdam wärmer?", "answer": "1,5 Grad", "lang": "de"},
        {"question": "What is the capital of Peru?", "answer": [], "lang": "en", "category": "weather"},
    ])
    report = tmp_path / "report"
    done = cli("eval", str(questions), "--sources", str(tiny_settings.sources_dir), "--report", str(report),
               "--by", "lang", "--by", "category")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("note:") == 1 and "extra column(s) 'lang', 'category'" in done.stderr
    # terminal: one table per column (and the answer type, as the file has no type column)
    out = done.stdout
    assert "by lang:" in out and "by category:" in out and "by answer_type:" in out
    lang_table = out[out.index("by lang:"):out.index("by category:")]
    assert "de (2)" in lang_table and "en (2)" in lang_table and "first_quote_hit" in lang_table
    assert "(none) (1)" in out[out.index("by category:"):]
    # summary.json: "by": {"lang": {"de": {...}, "en": {...}}, ...}
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    assert list(summary["by"]) == ["lang", "category", "answer_type"]
    assert set(summary["by"]["lang"]) == {"de", "en"}
    de, en = summary["by"]["lang"]["de"], summary["by"]["lang"]["en"]
    assert (de["questions"], de["answerable"], en["questions"], en["unanswerable"]) == (2, 2, 2, 1)
    for key in REQUIRED_KEYS:
        assert key in de and key in en
    assert set(summary["by"]["answer_type"]) == {"number", "unanswerable"}
    assert summary["run"]["extra_columns"] == ["lang", "category"]
    # results.jsonl carries the extra columns and the answer type
    rows = [json.loads(line) for line in (report / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["extra"] == {"lang": "en", "category": "<b>cargo</b>"} and rows[0]["answer_type"] == "number"
    assert rows[2]["extra"] == {"lang": "de"}
    # report.html: a table per column, values escaped
    page = (report / "report.html").read_text(encoding="utf-8")
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    assert "By lang" in page and "By category" in page and "By answer_type" in page
    assert "<b>cargo</b>" not in page and "&lt;b&gt;cargo&lt;/b&gt;" in page
    # an unknown --by column fails before any index is opened
    bad = cli("eval", str(questions), "--sources", str(tmp_path / "nowhere"), "--by", "langg")
    assert bad.returncode == 2 and "--by 'langg'" in bad.stderr and "lang, category" in bad.stderr


@pytest.fixture(scope="module")
def shipped_report(shipped_settings, tmp_path_factory):
    """The shipped question set run once through the command line, with the shipped bounds."""
    report = tmp_path_factory.mktemp("shipped-report")
    bounds = [arg for name, value in SHIPPED_MIN.items() if not name.startswith("_") and name != "by"
              for arg in ("--min", f"{name}={value}")]
    done = cli("eval", str(SHIPPED_QUESTIONS), "--sources", str(shipped_settings.sources_dir),
               "--index", str(shipped_settings.index_dir), "--report", str(report), *bounds,
               "--by", "batch", "--by", "lang", "--by", "type")
    return done, report


def test_shipped_question_set_meets_its_bounds(shipped_report):
    done, report = shipped_report
    assert done.returncode == 0, done.stdout + done.stderr
    assert "minimum(s) met" in done.stdout
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    for key in REQUIRED_KEYS:
        assert isinstance(summary[key], (int, float)), key
    assert summary["questions"] == len(load_eval_set(SHIPPED_QUESTIONS).rows)
    assert summary["exact_quote_rate"] == 1.0
    assert (report / "report.html").stat().st_size > 1000
    # bounds on groups of rows: the first 31 questions keep the bounds they had on their own
    failed = [f"{column}={value}: {line}" for column, groups in SHIPPED_MIN["by"].items()
              for value, bounds in groups.items()
              for line in check_bounds(summary["by"][column][value], bounds)]
    assert failed == []
    assert set(summary["by"]["lang"]) == {"de", "en"} and "author" in summary["by"]["type"]
    assert "answer_type" not in summary["by"]  # the set has its own type column


@pytest.mark.parametrize("question_id", ["x-vodacom-share", "none-capital"])
def test_eval_results_agree_with_ask_json(shipped_report, shipped_settings, question_id):
    _, report = shipped_report
    results = {}
    for line in (report / "results.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        results[r["id"]] = r
    r = results[question_id]
    done = cli("ask", "--json", r["question"], "--sources", str(shipped_settings.sources_dir),
               "--index", str(shipped_settings.index_dir))
    assert done.returncode == 0, done.stderr
    asked = json.loads(done.stdout)
    assert asked["abstained"] == r["abstained"] and asked["answer"] == r["answer"]
    assert asked["top_score"] == r["top_score"] and asked["language"] == r["language"]
    fields = ("text", "source", "start", "end", "score")
    assert [[q[f] for f in fields] for q in asked["quotes"]] == [[q[f] for f in fields] for q in r["quotes"]]
    assert [[q[f] for f in fields] for q in asked["related"]] == [[q[f] for f in fields] for q in r["related"]]


def test_answerable_means_an_accepted_answer_was_given(tmp_path):
    """0 and "0" are answers (a falsy value is not "no answer"); "", [], null and blanks are none."""
    rows = load_eval_set(write_jsonl(tmp_path / "q.jsonl", [
        {"id": "zero", "question": "How many strikes?", "answer": 0},  # questions with a content word
        {"id": "zero-text", "question": "How many strikes?", "answer": ["0", " "]},  # (answer/question.py)
        {"id": "empty", "question": "Who heads Vodacom?", "answer": ""},
        {"id": "blank-list", "question": "Who heads Vodacom?", "answer": ["", "  "]},
        {"id": "null", "question": "Who heads Vodacom?", "answer": None}])).rows
    assert {r.id: (r.answerable, r.answers) for r in rows} == {
        "zero": (True, ("0",)), "zero-text": (True, ("0",)), "empty": (False, ()), "blank-list": (False, ()),
        "null": (False, ())}
    assert EvalRow(line=1, id="x", question="Q?", answers=("0",), sources=()).answerable


def test_run_eval_loads_the_reader_before_the_first_timed_question(tiny_assistant, tmp_path):
    # Only a question the articles do not answer: no quote is read, so only the warm-up loads it.
    eval_set = load_eval_set(write_jsonl(tmp_path / "q.jsonl", [
        {"id": "peru", "question": "What is the capital of Peru?", "answer": []}]))
    assert tiny_assistant.reader is not None and tiny_assistant.reader._loaded is None
    run_eval(tiny_assistant, eval_set, progress=False)
    assert tiny_assistant.reader._loaded is not None


REPORT_LAYOUT_JS = """() => {
    const clipped = [...document.querySelectorAll('svg')].flatMap(svg => {
        const width = svg.viewBox.baseVal.width;
        return [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBBox()])
            .filter(([, b]) => b.x < -0.5 || b.x + b.width > width + 0.5).map(([text]) => text);
    });
    const page = document.documentElement.scrollWidth;
    const thresholds = [...document.querySelectorAll('svg text')].map(t => t.textContent)
        .filter(t => t.includes('threshold') || t.includes('cross-language') || t.includes('refuse below'));
    // a header word drawn on two lines ("answe" / "r") was broken mid-word
    const broken = [...document.querySelectorAll('th')].flatMap(th => {
        const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
        const words = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const m of node.textContent.matchAll(/\\S+/g)) {
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                if (new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1) words.push(m[0]);
            }
        }
        return words;
    });
    return {page, clipped, thresholds, broken};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_report_fits_a_window_and_a_phone(shipped_report, width, height):
    """The page is no wider than the window (the failures table used to make it 1,352 px at
    1,280), no plot label is cut off, no header word is broken, and the threshold the default mode
    (the answer model) refuses by is drawn on both score plots."""
    from chat_server import CHROMIUM, CHROMIUM_FLAGS
    from playwright.sync_api import sync_playwright

    _, report = shipped_report
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto((report / "report.html").as_uri(), wait_until="load")
        layout = page.evaluate(REPORT_LAYOUT_JS)
        failures = page.locator("table.failures").bounding_box()
        browser.close()
    assert layout["page"] <= width, layout
    assert layout["clipped"] == [] and layout["broken"] == [], layout
    assert layout["thresholds"] == [f"refuse below {Settings().reader_policy.refuse_below:g}"] * 2, layout
    if width >= 1280:
        assert failures["x"] + failures["width"] <= width, failures
