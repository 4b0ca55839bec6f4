"""Answer latency: median and p95 of `answer_question` (warm) on the shipped articles and on
the XQuAD corpus, split into query embedding, retrieval and the rest; and the cold start of
`assistant ask` (a new process, model load included).

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
from pathlib import Path

import numpy as np

from _common import REPO, pct, table, write_result, xquad_corpus

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


class Split:
    """Wraps the assistant's embedder and retriever to time the two parts of an answer."""

    def __init__(self, assistant):
        self.embed, self.retrieve = [], []
        embedder, retriever = assistant.embedder, assistant.snapshot.retriever
        search = retriever.search

        def timing(encode):
            def timed_encode(*a, **k):
                started = time.perf_counter()
                try:
                    return encode(*a, **k)
                finally:
                    self.embed.append((time.perf_counter() - started) * 1000)
            return timed_encode

        # answers embed the question once, through one of these
        for name in ("encode_question", "encode_queries"):
            if hasattr(embedder, name):
                setattr(embedder, name, timing(getattr(embedder, name)))

        def timed_search(*a, **k):
            started = time.perf_counter()
            try:
                return search(*a, **k)
            finally:
                self.retrieve.append((time.perf_counter() - started) * 1000)

        retriever.search = timed_search


def measure(assistant, questions: list[str], warm: int = 5) -> dict:
    for q in questions[:warm]:
        assistant.ask(q)
    split = Split(assistant)
    total = []
    for q in questions:
        started = time.perf_counter()
        assistant.ask(q)
        total.append((time.perf_counter() - started) * 1000)
    rest = [t - e - r for t, e, r in zip(total, split.embed, split.retrieve)]
    return {"answers": len(total), "median_ms": pct(total, 50), "p95_ms": pct(total, 95),
            "embed_median_ms": pct(split.embed, 50), "retrieve_median_ms": pct(split.retrieve, 50),
            "rest_median_ms": pct(rest, 50), "max_ms": max(total)}


def cold_start(sources: Path, index: Path, question: str, repeats: int) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    exe = str(Path(sys.executable).parent / "assistant")
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run([exe, "ask", question, "--sources", str(sources), "--index", str(index), "--json"],
                              capture_output=True, text=True, env=env, timeout=300)
        runs.append(time.perf_counter() - started)
        assert done.returncode == 0, done.stderr[-2000:]
    code = ("import time; t=time.perf_counter(); import assistant.cli; a=time.perf_counter();"
            "import torch; b=time.perf_counter(); import sentence_transformers; c=time.perf_counter();"
            "print(a-t, b-a, c-b)")
    imports = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    cli_s, torch_s, st_s = (float(x) for x in imports.stdout.split())
    return {"ask_seconds_median": float(np.median(runs)), "runs": runs, "import_cli_s": cli_s,
            "import_torch_s": torch_s, "import_sentence_transformers_after_torch_s": st_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100, help="XQuAD questions timed")
    parser.add_argument("--cold", type=int, default=3, help="cold `assistant ask` runs")
    parser.add_argument("--xquad-index", type=Path, default=None, help="reuse an index of the XQuAD corpus")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()

    import torch

    from assistant import Assistant, Settings
    from assistant.models.embedding import Embedder

    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench-answer-"))
    try:
        settings = Settings()
        embedder = Embedder(settings)
        shipped = settings.with_paths(REPO / "sources", work / "shipped-index")
        assistant = Assistant(settings=shipped, update=True, embedder=embedder)
        view = assistant.snapshot.view
        rows = [{"corpus": f"shipped ({len(view.articles)} articles, {view.passage_count} passages)",
                 **measure(assistant, SHIPPED_QUESTIONS * 6)}]
        print(table(rows, list(rows[0])), flush=True)
        corpus = xquad_corpus(work / "xquad")
        xq = settings.with_paths(corpus / "sources", args.xquad_index or work / "xquad" / "index")
        assistant = Assistant(settings=xq, update=True, embedder=embedder)
        view = assistant.snapshot.view
        questions = [json.loads(line)["question"] for line in (corpus / "questions.jsonl").open(encoding="utf-8")]
        rng = np.random.default_rng(3)
        picked = [questions[i] for i in rng.choice(len(questions), min(args.questions, len(questions)), replace=False)]
        rows.append({"corpus": f"XQuAD de ({len(view.articles)} articles, {view.passage_count} passages)",
                     **measure(assistant, picked)})
        print()
        print(table(rows, list(rows[0])))
        print(f"targets: median <= 30 ms, p95 <= 60 ms; torch threads {torch.get_num_threads()}, "
              f"precision {embedder.precision}")
        cold = None
        if args.cold:
            cold = cold_start(REPO / "sources", work / "shipped-index", SHIPPED_QUESTIONS[0], args.cold)
            print(f"\ncold `assistant ask` (index present): median {cold['ask_seconds_median']:.2f} s "
                  f"(runs {', '.join(f'{x:.2f}' for x in cold['runs'])}); imports: assistant.cli "
                  f"{cold['import_cli_s']:.2f} s, torch {cold['import_torch_s']:.2f} s, "
                  f"sentence_transformers {cold['import_sentence_transformers_after_torch_s']:.2f} s")
        path = write_result("answer_latency", {"rows": rows, "cold_start": cold, "precision": embedder.precision,
                                               "torch_threads": torch.get_num_threads()})
        print(f"wrote {path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
