"""BM25 in the first stage: scoring every passage (what index/retrieval.py does) against
bm25s's own top-k retrieval, at archive sizes.

The first stage needs the BM25 score of every dense candidate too (not only BM25's own best),
and divides by the best score, so it asks bm25s for all scores (`LexicalIndex.scores`) and
takes its top k with a partition. This measures what that costs at 20,000 and 100,000
passages, side by side with `bm25s.BM25.retrieve(k=...)` on the same index and queries.

Passages are paragraphs of the training data in ../shared/data/train (German and English),
repeated with a running number appended until the size is reached (the vocabulary of real
text, postings as long as a big archive's); queries are training questions.

    .venv/bin/python benchmarks/lexical_scoring.py [--sizes 20000 100000] [--queries 200]

Writes results/lexical_scoring.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
from _common import REPO, table, write_result

sys.path.insert(0, str(REPO))

from assistant.config import Settings  # noqa: E402
from assistant.index.lexical import LexicalIndex, tokenize  # noqa: E402
from assistant.index.retrieval import top_k  # noqa: E402
from training.retriever_data import required_file  # noqa: E402
from training.splits import read_json  # noqa: E402

FILES = (("germanquad_test_twothirds.json.gz", "de"), ("squad1.1_train_part_ermeba.json.gz", "en"))
CANDIDATES = Settings().retrieve_candidates  # what the first stage takes from each ranking


def corpus() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(paragraph, language) and (question, language) pairs from the training files."""
    paragraphs, questions = [], []
    for name, language in FILES:
        for article in read_json(required_file(name))["data"]:
            for para in article["paragraphs"]:
                paragraphs.append((para["context"], language))
                questions += [(qa["question"], language) for qa in para["qas"]]
    return paragraphs, questions


def timed(call, queries: list[list[str]]) -> list[float]:
    out = []
    for tokens in queries:
        start = time.perf_counter()
        call(tokens)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    paragraphs, questions = corpus()
    tokenized = [tokenize(text, language) for text, language in paragraphs]
    step = max(1, len(questions) // args.queries)
    queries = [tokenize(q, language) for q, language in questions[::step]][: args.queries]
    rows = []
    for size in args.sizes:
        documents = [tokenized[i % len(tokenized)] + [f"n{i}"] for i in range(size)]
        start = time.perf_counter()
        index = LexicalIndex.build(documents)
        built = time.perf_counter() - start

        def every_score(tokens: list[str]) -> None:
            scores = index.scores(tokens)
            if scores.max() > 0:
                top_k(scores / scores.max(), CANDIDATES)

        def bm25s_top_k(tokens: list[str]) -> None:
            known = [t for t in tokens if t in index.retriever.vocab_dict]
            if known:
                index.retriever.retrieve([known], k=CANDIDATES, show_progress=False, n_threads=1)

        for name, call in (("every score + partition (shipped)", every_score), ("bm25s retrieve(k)", bm25s_top_k)):
            call(queries[0])  # warm
            ms = timed(call, queries)
            rows.append({"passages": size, "method": name, "median_ms": round(statistics.median(ms), 2),
                         "p95_ms": round(float(np.percentile(ms, 95)), 2), "build_s": round(built, 1)})
    print(table(rows, ["passages", "method", "median_ms", "p95_ms", "build_s"]))
    print(f"wrote {write_result('lexical_scoring', {'queries': len(queries), 'candidates': CANDIDATES, 'rows': rows})}")


if __name__ == "__main__":
    main()
