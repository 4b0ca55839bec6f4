"""Answer latency: median and p95 of `answer_question` (warm) on the shipped articles and on
the XQuAD corpus, with the reader and without it (side by side, same run), split into query
embedding, retrieval, the reader and the rest; and `assistant ask` from a new process: cold
(`--cold`, model load included) and handed to the warm server a first call leaves behind.

    .venv/bin/python benchmarks/answer_latency.py [--questions 100] [--cold 3] [--xquad-index DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from _common import pct, shipped_corpus, table, write_result, xquad_corpus

SHIPPED_QUESTIONS = [
    "What share of Vodacom does Vodafone own?",
    "Wer hat das gesagt?",
    "When was the deal announced?",
    "Wie hoch ist der Preis?",
    "Who is the chief executive?",
    "Was plant die Regierung?",
    "How many people were affected?",
    "What is the weather in Berlin?",
]


def timed(function, sink: list[float]):
    """`function`, appending the milliseconds of each call to `sink`."""
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            sink.append((time.perf_counter() - started) * 1000)
    return wrapper


class Split:
    """Wraps the assistant's embedder, retriever and reader to time the parts of an answer."""

    def __init__(self, assistant):
        self.embed, self.retrieve, self.read = [], [], []
        embedder, retriever, reader = assistant.embedder, assistant.snapshot.retriever, assistant.snapshot.reader
        # answers embed the question once, through one of these
        for name in ("encode_question", "encode_queries"):
            if hasattr(embedder, name):
                setattr(embedder, name, timed(getattr(embedder, name), self.embed))
        retriever.search = timed(retriever.search, self.retrieve)
        if reader is not None:
            reader.read = timed(reader.read, self.read)


def measure(assistant, questions: list[str], warm: int = 5) -> dict:
    for q in questions[:warm]:
        assistant.ask(q)
    split = Split(assistant)
    total, reading = [], []
    for q in questions:
        reads_before, started = len(split.read), time.perf_counter()
        assistant.ask(q)
        total.append((time.perf_counter() - started) * 1000)
        reading.append(sum(split.read[reads_before:]))
    rest = [t - e - r - x for t, e, r, x in zip(total, split.embed, split.retrieve, reading)]
    return {"reader": assistant.snapshot.reader is not None, "answers": len(total),
            "median_ms": pct(total, 50), "p95_ms": pct(total, 95),
            "embed_median_ms": pct(split.embed, 50), "retrieve_median_ms": pct(split.retrieve, 50),
            "reader_median_ms": pct(reading, 50), "rest_median_ms": pct(rest, 50), "max_ms": max(total)}


def _ask(exe: str, args: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return time.perf_counter() - started


def cold_start(sources: Path, index: Path, question: str, repeats: int) -> dict:
    """`assistant ask --cold` (a new process loads the model) and `assistant ask` handed to the
    warm server that the first warm call starts (that first call is reported on its own)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ASSISTANT_WARM": "1"}
    exe = str(Path(sys.executable).parent / "assistant")
    corpus = ["--sources", str(sources), "--index", str(index), "--json"]
    cold = [_ask(exe, ["ask", question, "--cold", *corpus], env) for _ in range(repeats)]
    first = _ask(exe, ["ask", question, *corpus], env)
    warm = [_ask(exe, ["ask", q, *corpus], env) for q in SHIPPED_QUESTIONS[1:repeats + 1]]
    subprocess.run([exe, "stop"], capture_output=True, env=env, timeout=60)
    code = ("import time; t=time.perf_counter(); import assistant.cli; a=time.perf_counter();"
            "import torch; b=time.perf_counter(); import sentence_transformers; c=time.perf_counter();"
            "print(a-t, b-a, c-b)")
    imports = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    cli_s, torch_s, st_s = (float(x) for x in imports.stdout.split())
    return {"ask_seconds_median": float(np.median(cold)), "runs": cold, "first_warm_call_s": first,
            "warm_ask_seconds_median": float(np.median(warm)), "warm_runs": warm, "import_cli_s": cli_s,
            "import_torch_s": torch_s, "import_sentence_transformers_after_torch_s": st_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100, help="XQuAD questions timed")
    parser.add_argument("--cold", type=int, default=3, help="cold `assistant ask` runs")
    parser.add_argument("--xquad-index", type=Path, default=None, help="reuse an index of the XQuAD corpus")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()

    import torch

    from assistant import Assistant
    from assistant.environment import settings_from_env
    from assistant.models.embedding import Embedder

    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench-answer-"))
    try:
        embedder = Embedder(settings_from_env(os.environ))
        sources = shipped_corpus(work / "shipped-sources")
        corpus = xquad_corpus(work / "xquad")
        questions = [json.loads(line)["question"] for line in (corpus / "questions.jsonl").open(encoding="utf-8")]
        rng = np.random.default_rng(3)
        picked = [questions[i] for i in rng.choice(len(questions), min(args.questions, len(questions)), replace=False)]
        rows = []
        for reader in (True, False):
            settings = replace(settings_from_env(os.environ), reader=reader)
            assistant = Assistant(settings=settings.with_paths(sources, work / "shipped-index"), update=True,
                                  embedder=embedder)
            view = assistant.snapshot.view
            rows.append({"corpus": f"shipped ({len(view.articles)} articles, {view.passage_count} passages)",
                         **measure(assistant, SHIPPED_QUESTIONS * 6)})
            index = args.xquad_index or work / "xquad" / "index"
            assistant = Assistant(settings=settings.with_paths(corpus / "sources", index), update=True,
                                  embedder=embedder)
            view = assistant.snapshot.view
            rows.append({"corpus": f"XQuAD de ({len(view.articles)} articles, {view.passage_count} passages)",
                         **measure(assistant, picked)})
            print(table(rows, list(rows[0])), flush=True)
        print(f"targets: median <= 120 ms, p95 <= 250 ms with the reader; torch threads {torch.get_num_threads()}, "
              f"reader threads {settings_from_env(os.environ).reader_threads}, precision {embedder.precision}")
        cold = None
        if args.cold:
            cold = cold_start(sources, work / "shipped-index", SHIPPED_QUESTIONS[0], args.cold)
            print(f"\n`assistant ask --cold` (index present): median {cold['ask_seconds_median']:.2f} s "
                  f"(runs {', '.join(f'{x:.2f}' for x in cold['runs'])}); first warm call (starts the server) "
                  f"{cold['first_warm_call_s']:.2f} s, then median {cold['warm_ask_seconds_median']:.2f} s "
                  f"(runs {', '.join(f'{x:.2f}' for x in cold['warm_runs'])}); imports: assistant.cli "
                  f"{cold['import_cli_s']:.2f} s, torch {cold['import_torch_s']:.2f} s, "
                  f"sentence_transformers {cold['import_sentence_transformers_after_torch_s']:.2f} s")
        path = write_result("answer_latency", {"rows": rows, "cold_start": cold, "precision": embedder.precision,
                                               "torch_threads": torch.get_num_threads()})
        print(f"wrote {path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
