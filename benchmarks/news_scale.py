"""News corpus at scale: index 100, 1,000, 5,000, 20,000 real news articles (10kGNAD German, BBC
and Reuters-21578 English; `news_corpus.py` builds the data folder) and measure indexing, disk,
memory, answer latency, an incremental update and answer quality on the questions of
`news_questions.jsonl` at each size.

    .venv/bin/python benchmarks/news_scale.py [--data data/news] [--sizes 100 1000 5000 20000] [--baseline-sample 2000]

A size of `all` means every article of the data folder but 10 (those 10 are the update's new
articles). The data built from the mirrors here holds 21,848 articles (3,153 from 10kGNAD's
test.csv and BBC, then 18,695 Reuters stories), so every default size fits.

Each question is asked at the sizes whose articles hold its source (the first N of the order),
and only there: the 40 questions about the first 100 articles at every size, a question about
the article at rank 4,000 at 5,000 and 20,000. Its `added_at` column names the smallest of 100 /
1,000 / 5,000 / 20,000 that holds it (checked against the order here; quality is also broken down
by it), and each size records how many questions it asked. A question whose article is in no
size run is reported and not asked; one whose article is not in the data folder stops the run.

For each size (the models loaded before any clock starts):

- indexing: `update_index(rebuild=True)` on a fresh copy of the first N articles, in a process
  of its own as `assistant index` runs it; wall time and corpus passages a second, beside plain
  `SentenceTransformer.encode` in float32 (batch 32) of the same passages in the same run: all
  of them, or a seeded sample of `--baseline-sample` passages when there are more (the rate is
  then an estimate, marked "sample" in the table);
- disk: every file of the index generation folder, bytes and bytes a passage;
- memory: peak RSS of that indexing process (VmHWM: the model and its engine included, nothing
  else of this benchmark), and the RSS of a fresh process that opens the index
  (`Assistant(...)`, the model included) and answers one question;
- latency: `Assistant.ask` warm, one at a time, over the questions asked at that size (p50, p95);
- quality: those questions through `run_eval` (what `assistant eval` runs): first quote holds
  the answer, any quote does, short answer holds it, abstained; by language and by `added_at`;
- update: 10 new articles added and 10 removed, then `Assistant.index()` (incremental).

Results go to benchmarks/results/news_scale.json after every size (a long run that is stopped
keeps what finished).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import REPO, RESULTS, machine, pct, table, write_result

sys.path.insert(0, str(Path(__file__).resolve().parent))
from news_corpus import DEFAULT_OUT, read_order  # noqa: E402

QUESTIONS = REPO / "benchmarks" / "news_questions.jsonl"
UPDATE_ARTICLES = 10
ADDED_AT_SIZES = (100, 1000, 5000, 20000)  # the sizes a question's `added_at` names


# The start of both scripts below: a memory field of /proc/self/status in bytes (VmRSS, VmHWM).
STATUS = r"""
import json, os, sys, time
from pathlib import Path
def status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
"""

FRESH_PROCESS = STATUS + r"""
started = time.perf_counter()
from assistant import Assistant
assistant = Assistant(sys.argv[1], sys.argv[2])
assistant.embedder.encode_queries(["warm-up"])
opened = time.perf_counter() - started
rss_open = status("VmRSS")
assistant.ask(sys.argv[3])
print(json.dumps({"open_s": opened, "rss_open": rss_open, "rss_after_answer": status("VmRSS"),
                  "peak": status("VmHWM")}))
"""


INDEX_PROCESS = STATUS + r"""
from assistant.environment import settings_from_env
from assistant.index.indexer import update_index
from assistant.models.embedding import Embedder
settings = settings_from_env(os.environ).with_paths(Path(sys.argv[1]), Path(sys.argv[2]))
embedder = Embedder(settings)
embedder.encode_passages(["Vorab geladen."])  # the model and its engine, before the clock starts
loaded = status("VmRSS")
started = time.perf_counter()
report = update_index(settings, embedder, rebuild=True, progress=False)
seconds = time.perf_counter() - started
assert report.wrote and not report.skipped, report.skipped
print(json.dumps({"seconds": seconds, "passages": report.embedded_passages, "sentences": report.embedded_sentences,
                  "rss_model_loaded": loaded, "peak": status("VmHWM"), "engine": embedder.precision}))
"""


def run_script(script: str, args: list, what: str, timeout: float, **env: str) -> dict:
    """Run `script` in a Python process of its own (the repository importable, `env` added) and
    return the JSON object it prints last."""
    done = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO), **env}, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def index_in_fresh_process(sources: Path, index: Path) -> dict:
    """`update_index(rebuild=True)` in a process of its own, as `assistant index` runs: its
    time (the model loaded first) and its peak resident memory, model included."""
    return run_script(INDEX_PROCESS, [sources, index], "indexing process", timeout=6 * 3600)


def fresh_process_rss(sources: Path, index: Path, question: str) -> dict:
    return run_script(FRESH_PROCESS, [sources, index, question], "fresh process", timeout=1200, ASSISTANT_WARM="0")


def disk_by_file(generation: Path, passages: int) -> list[dict]:
    rows = []
    for path in sorted(p for p in generation.rglob("*") if p.is_file()):
        size = path.stat().st_size
        rows.append({"file": str(path.relative_to(generation)), "bytes": size, "bytes/passage": size / passages})
    return rows


def plain_rate(plain, view, sample: int, seed: int = 11) -> dict:
    """Plain float32 SentenceTransformer.encode of the index's passages (or a seeded sample)."""
    count = view.passage_count
    ids = np.arange(count)
    if count > sample:
        ids = np.sort(np.random.default_rng(seed).choice(count, sample, replace=False))
    texts = [view.passage_text(int(i)) for i in ids]
    started = time.perf_counter()
    plain.encode(texts, prompt_name="passage", batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                 show_progress_bar=False)
    seconds = time.perf_counter() - started
    return {"passages": len(texts), "seconds": seconds, "passages_per_s": len(texts) / seconds,
            "sample": count > sample}


def copy_articles(data: Path, files: list[str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in files:
        shutil.copyfile(data / "articles" / name, folder / name)


def questions_at(eval_set, files: set[str]):
    """The rows of `eval_set` whose sources are all among `files` (the articles of one size)."""
    return dataclasses.replace(eval_set, rows=[row for row in eval_set.rows if set(row.sources) <= files])


def check_questions(eval_set, order: list[dict], sizes: list[int]) -> list[str]:
    """Notes on the questions against the order; exits when a question's article is not in it."""
    rank = {row["file"]: int(row["rank"]) for row in order}
    missing = sorted({src for row in eval_set.rows for src in row.sources} - set(rank))
    if missing:
        sys.exit(f"error: questions about articles that are not in the data folder: {missing[:3]}")
    notes = []
    for row in eval_set.rows:
        last = max((rank[src] for src in row.sources), default=0)
        if not row.sources:
            notes.append(f"{row.id}: no source given; asked at every size")
        elif last > max(sizes):
            notes.append(f"{row.id}: its article is at rank {last:,}, beyond the largest size {max(sizes):,}; "
                         f"not asked")
        stated = row.extra.get("added_at")
        expected = next((size for size in ADDED_AT_SIZES if last <= size), None)
        if stated is not None and row.sources and stated != expected:
            notes.append(f"{row.id}: added_at {stated} but its article is at rank {last:,} (added at {expected})")
    return notes


def measure_size(n: int, order: list[dict], data: Path, work: Path, embedder, plain, all_questions, args,
                 save) -> dict:
    """Measure one size, on the questions whose articles it holds; `save(result)` is called after
    every stage, so a stopped run keeps what finished."""
    from assistant import Assistant
    from assistant.environment import settings_from_env
    from assistant.evaluation.runner import run_eval
    from assistant.index import store

    files = [row["file"] for row in order]
    sources, index = work / f"sources-{n}", work / f"index-{n}"
    shutil.rmtree(sources, ignore_errors=True)
    shutil.rmtree(index, ignore_errors=True)
    copy_articles(data, files[:n], sources)
    settings = settings_from_env(os.environ).with_paths(sources, index)
    load = os.getloadavg()[0]
    eval_set = questions_at(all_questions, set(files[:n]))
    asked_by_added = {}
    for row in eval_set.rows:
        key = str(row.extra.get("added_at", "-"))
        asked_by_added[key] = asked_by_added.get(key, 0) + 1
    print(f"[{time.strftime('%H:%M:%S')}] {n} articles: {len(eval_set.rows)} of {len(all_questions.rows)} questions "
          f"have their article inside (by added_at: {asked_by_added})", flush=True)

    print(f"[{time.strftime('%H:%M:%S')}] {n} articles: indexing ...", flush=True)
    indexed = index_in_fresh_process(sources, index)
    index_s, passages, sentences = indexed["seconds"], indexed["passages"], indexed["sentences"]
    generation = store.current_generation(index)
    disk = disk_by_file(generation, passages)
    total_disk = sum(r["bytes"] for r in disk)
    print(f"  indexed {n} articles, {passages} passages, {sentences} sentences in {index_s:.1f} s "
          f"({passages / index_s:.2f} passages/s; load {load:.1f}); disk {total_disk / 2**20:.1f} MiB", flush=True)
    result = {
        "articles": n, "german": sum(r["language"] == "de" for r in order[:n]),
        "english": sum(r["language"] == "en" for r in order[:n]),
        "passages": passages, "sentences": sentences, "loadavg_before_index": load,
        "loadavg_after_index": os.getloadavg()[0],
        "index_seconds": index_s, "index_passages_per_s": passages / index_s,
        "disk_bytes": total_disk, "disk_bytes_per_passage": total_disk / passages, "disk": disk,
        "rss_before_index": indexed["rss_model_loaded"], "rss_peak_index": indexed["peak"],
        "index_process": "fresh (assistant index)", "engine": indexed["engine"],
        "questions": len(eval_set.rows), "questions_by_added_at": asked_by_added,
    }
    save(result)

    assistant = Assistant(settings=settings, embedder=embedder)

    by = ["lang"] + (["added_at"] if "added_at" in eval_set.columns else [])
    run = run_eval(assistant, eval_set, progress=False, by=by)
    s = run.summary
    questions = [row.question for row in eval_set.rows]
    for q in questions[:5]:
        assistant.ask(q)
    latencies = []
    for q in questions:
        started = time.perf_counter()
        assistant.ask(q)
        latencies.append((time.perf_counter() - started) * 1000)
    print(f"  quality: first quote {s['first_quote_hit']}, any {s['any_quote_hit']}, short answer "
          f"{s['short_answer_hit']}, abstained {s['false_abstain']}; latency p50 {pct(latencies, 50):.0f} ms, "
          f"p95 {pct(latencies, 95):.0f} ms", flush=True)
    by_lang = s.get("by", {}).get("lang", {})
    result.update({
        "latency_ms": {"p50": pct(latencies, 50), "p95": pct(latencies, 95), "max": max(latencies),
                       "all": [round(x, 1) for x in latencies],
                       "ids": [row.id for row in eval_set.rows]},  # the sets differ by size: compare on ids
        "quality": {k: s.get(k) for k in ("first_quote_hit", "any_quote_hit", "short_answer_hit", "false_abstain",
                                          "retrieval_hit@1", "retrieval_hit@k", "mrr", "source_hit",
                                          "exact_quote_rate", "latency_p50_ms", "latency_p95_ms")},
        "quality_by_lang": {lang: {k: g.get(k) for k in ("questions", "first_quote_hit", "any_quote_hit",
                                                         "short_answer_hit", "false_abstain", "source_hit")}
                            for lang, g in by_lang.items()},
        "quality_by_added_at": {size: {k: g.get(k) for k in ("questions", "first_quote_hit", "any_quote_hit",
                                                             "short_answer_hit", "false_abstain", "source_hit")}
                                for size, g in s.get("by", {}).get("added_at", {}).items()},
        "misses": [{"id": r["id"], "verdict": r["verdict"], "first_source": (r["quotes"] or [{}])[0].get("source")}
                   for r in run.results if r["verdict"] != "correct"],
    })
    save(result)

    fresh = fresh_process_rss(sources, index, questions[0])
    print(f"  fresh process: opened in {fresh['open_s']:.1f} s, RSS {fresh['rss_open'] / 2**20:.0f} MiB, "
          f"after one answer {fresh['rss_after_answer'] / 2**20:.0f} MiB", flush=True)
    result["fresh_process"] = fresh
    save(result)

    # incremental update: the next 10 articles of the order in, 10 of the first n out (none that
    # a question is about)
    needed = {src for row in all_questions.rows for src in row.sources}
    added = files[n:n + UPDATE_ARTICLES]
    removed = [f for f in reversed(files[:n]) if f not in needed][:UPDATE_ARTICLES]
    copy_articles(data, added, sources)
    for name in removed:
        (sources / name).unlink()
    started = time.perf_counter()
    update = assistant.index()
    update_s = time.perf_counter() - started
    assert sorted(update.added) == sorted(added) and sorted(update.removed) == sorted(removed), update.summary()
    print(f"  update (+{len(added)} / -{len(removed)}): {update_s:.1f} s, embedded {update.embedded_passages} "
          f"passages", flush=True)
    result["update"] = {"added": len(added), "removed": len(removed), "seconds": update_s,
                        "embedded_passages": update.embedded_passages}
    save(result)

    baseline = plain_rate(plain, assistant.snapshot.view, args.baseline_sample)
    print(f"  plain float32 encode: {baseline['passages']} passages in {baseline['seconds']:.1f} s "
          f"({baseline['passages_per_s']:.2f}/s{', sample' if baseline['sample'] else ''})", flush=True)
    result["plain_float32"] = baseline
    result["index_over_plain"] = (passages / index_s) / baseline["passages_per_s"]
    save(result)
    del assistant
    return result


def summary_rows(results: list[dict]) -> list[dict]:
    """One row a size; a stage that did not finish (a stopped run) shows as "-"."""
    rows = []
    for r in results:
        q, base = r.get("quality") or {}, r.get("plain_float32")
        fresh, latency, update = r.get("fresh_process"), r.get("latency_ms"), r.get("update")
        rows.append({
            "articles": r["articles"], "questions": r.get("questions", "-"), "passages": r["passages"],
            "index s": r["index_seconds"],
            "passages/s": r["index_passages_per_s"],
            "plain f32/s": f"{base['passages_per_s']:.3g}{' (sample)' if base['sample'] else ''}" if base else "-",
            "MiB": r["disk_bytes"] / 2**20, "KB/passage": r["disk_bytes_per_passage"] / 1000,
            "peak RSS MiB": r["rss_peak_index"] / 2**20,
            "fresh RSS MiB": fresh["rss_after_answer"] / 2**20 if fresh else "-",
            "p50 ms": latency["p50"] if latency else "-", "p95 ms": latency["p95"] if latency else "-",
            "update s": update["seconds"] if update else "-",
            "first quote": q.get("first_quote_hit", "-"), "any quote": q.get("any_quote_hit", "-"),
            "short": q.get("short_answer_hit", "-"), "abstained": q.get("false_abstain", "-"),
            "load": r["loadavg_before_index"],
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_OUT, help="data folder of news_corpus.py")
    parser.add_argument("--sizes", nargs="+", default=["100", "1000", "5000", "20000"],
                        help="corpus sizes in articles; `all`: every article but the update's 10")
    parser.add_argument("--baseline-sample", type=int, default=2000,
                        help="at most this many passages for the plain float32 encode rate")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--work", type=Path, default=None, help="keep sources and indexes here (default: a temp dir)")
    parser.add_argument("--name", default="news_scale", help="results/<name>.json")
    parser.add_argument("--append", action="store_true",
                        help="keep the other sizes already in results/<name>.json (a long size run on its own)")
    args = parser.parse_args()

    order = read_order(args.data)
    sizes = [len(order) - UPDATE_ARTICLES if s == "all" else int(s) for s in args.sizes]
    too_big = [n for n in sizes if n + UPDATE_ARTICLES > len(order)]
    if too_big:
        sys.exit(f"error: the data folder holds {len(order)} articles; sizes {too_big} need "
                 f"{UPDATE_ARTICLES} more for the update (use `all`, or build more with news_corpus.py)")

    from sentence_transformers import SentenceTransformer

    from assistant.environment import settings_from_env
    from assistant.evaluation.data import load_eval_set
    from assistant.index import store
    from assistant.models.embedding import Embedder, default_model_folder

    eval_set = load_eval_set(args.questions)
    assert not eval_set.bad, eval_set.bad
    for note in check_questions(eval_set, order, sizes):
        print(f"note: {note}", file=sys.stderr)
    empty = [n for n in sizes if not questions_at(eval_set, {row["file"] for row in order[:n]}).rows]
    if empty:
        sys.exit(f"error: no question is about an article among the first {min(empty)}; sizes {empty} would ask none")
    embedder = Embedder(settings_from_env(os.environ))
    embedder.encode_passages(["Vorab geladen."])  # the model loads before any clock starts
    embedder.encode_queries(["warm-up"])
    plain = SentenceTransformer(str(default_model_folder(settings_from_env(os.environ))), device="cpu", local_files_only=True)
    plain.encode(["warm-up"], prompt_name="passage")
    info = machine()
    print(f"{info.get('cpu_model')}, nproc {info['nproc']}, load average {os.getloadavg()}, index format "
          f"{store.FORMAT_VERSION}, precision {embedder.precision}", flush=True)

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-news-"))
    kept = []
    previous = RESULTS / f"{args.name}.json"
    if args.append and previous.is_file():
        kept = [r for r in json.loads(previous.read_text(encoding="utf-8"))["results"] if r["articles"] not in sizes]
    results: list[dict] = []
    path = previous

    def save(current: dict | None = None) -> None:
        nonlocal path
        every = sorted(kept + results + ([current] if current is not None and current not in results else []),
                       key=lambda r: r["articles"])
        path = write_result(args.name, {
            "data": str(args.data), "questions": str(args.questions), "sizes": sorted(r["articles"] for r in every),
            "index_format": store.FORMAT_VERSION, "precision": embedder.precision,
            "corpus": json.loads((args.data / "corpus.json").read_text()) if (args.data / "corpus.json").exists() else None,
            "loadavg": list(os.getloadavg()), "command": " ".join(sys.argv), "results": every,
            "table": summary_rows(every)})

    try:
        for n in sizes:
            results.append(measure_size(n, order, args.data, work, embedder, plain, eval_set, args, save))
            save()
            if args.work is None:
                shutil.rmtree(work / f"sources-{n}", ignore_errors=True)
                shutil.rmtree(work / f"index-{n}", ignore_errors=True)
        results = sorted(kept + results, key=lambda r: r["articles"])
        rows = summary_rows(results)
        print()
        print(table(rows, list(rows[0])))
        for r in results:
            print(f"\n{r['articles']} articles, disk by file:")
            print(table(r["disk"], ["file", "bytes", "bytes/passage"]))
        print(f"\nload average at the end {os.getloadavg()}; wrote {path}")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
