"""FAISS against Milvus as the passage vector store, side by side on the same vectors.

    .venv/bin/python benchmarks/vector_stores.py [--sizes 300 20000 100000] [--milvus-uri http://host:19530]

For each size: clustered random unit vectors (384 dimensions, as multilingual-e5-small), 10
passages an article. Each store is built and saved into a generation-like folder (as
`assistant index` does: Milvus = embedded milvus-lite in that folder, or the server given),
then reloaded (load_s: opening it and the first search); measured one query at a time, as the assistant asks: the k=30 search
(`Settings.retrieve_candidates`), a search restricted to 3 articles (the chat's article
filter), and `vectors()` of 60 passage ids (what retrieval reads back per question).
Results: benchmarks/results/vector_stores.json.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import pct, table, write_result

DIM = 384


def vectors_for(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((200, DIM)).astype(np.float32)
    v = centres[rng.integers(0, 200, n)] + 0.5 * rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def folder_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def timed(fn, runs: int) -> list[float]:
    out = []
    for i in range(runs):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def measure(name: str, build, load, n: int, queries: np.ndarray, root: Path) -> dict:
    folder = root / f"gen-{name}-{n}"
    folder.mkdir(parents=True)
    t = time.perf_counter()
    index = build()
    index.save(folder / index.FILE)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    index = load(folder / index.FILE)
    index.search(queries[0], 30)  # Milvus connects (and loads the collection) at the first search
    load_s = time.perf_counter() - t
    rng = np.random.default_rng(1)
    articles = [rng.choice(n // 10, 3, replace=False) for _ in queries]
    allowed = [np.concatenate([np.arange(a * 10, a * 10 + 10) for a in sorted(chosen)]) for chosen in articles]
    ids = [rng.choice(n, 60, replace=False) for _ in queries]
    for q in queries[:5]:
        index.search(q, 30)  # warm-up
    search = timed(lambda i: index.search(queries[i], 30), len(queries))
    restricted = timed(lambda i: index.search(queries[i], 30, allowed_ids=allowed[i]), len(queries))
    read = timed(lambda i: index.vectors(ids[i]), len(queries))
    if hasattr(index, "drop"):
        index.drop(folder / index.FILE)  # a server keeps no benchmark collections behind
    return {"store": name, "passages": n, "kind": index.kind, "build_s": round(build_s, 2), "load_s": round(load_s, 3),
            "disk_mib": round(folder_mib(folder), 1), "search_p50_ms": pct(search, 50), "search_p95_ms": pct(search, 95),
            "restricted_p50_ms": pct(restricted, 50), "vectors60_p50_ms": pct(read, 50)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 20_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--milvus-uri", default="", help="a Milvus server; default: embedded milvus-lite")
    args = parser.parse_args()

    from assistant.index.milvus_index import MilvusIndex
    from assistant.index.vector_index import FaissIndex

    rows = []
    root = Path(tempfile.mkdtemp(prefix="vector-stores-"))
    try:
        for n in args.sizes:
            v = vectors_for(n)
            passages = np.array([(i // 10, 0, 100) for i in range(n)], dtype=np.int64)
            queries = vectors_for(args.queries, seed=7)
            rows.append(measure("faiss", lambda: FaissIndex.build(v, exact_max=200_000), FaissIndex.load, n, queries,
                                root))
            rows.append(measure("milvus", lambda: MilvusIndex.build(v, passages, args.milvus_uri, 200_000),
                                MilvusIndex.load, n, queries, root))
            print(table(rows[-2:], list(rows[-1])), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(table(rows, list(rows[0])))
    path = write_result("vector_stores", {"milvus_uri": args.milvus_uri or "embedded milvus-lite", "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
