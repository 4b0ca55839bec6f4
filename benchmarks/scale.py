"""Scale: FAISS indexes of 100k and 1M vectors that resemble real passage embeddings, and
passage-store lookups at 1M.

    .venv/bin/python benchmarks/scale.py [--sizes 100000 1000000] [--base-index DIR]

Vectors: real multilingual-e5 passage and sentence vectors of the XQuAD corpus (an index
built with `assistant index`; built into a temporary folder when --base-index is not
given), each synthetic vector = normalise(a x base_i + b x base_j + noise), so the set keeps
the anisotropy and cluster structure of real embeddings. Queries: real e5 query vectors of
XQuAD questions. For every size: exact (IndexFlatIP) and the configured approximate index
(IVF-flat, several nprobe values), build time, memory, search latency median / p95 (one
query at a time, as the assistant searches), recall@10 against exact.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import pct, table, write_result, xquad_corpus, xquad_paragraphs


def rss_mib() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def synthetic(base: np.ndarray, n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    step = 100_000
    for at in range(0, n, step):
        m = min(step, n - at)
        i = rng.integers(0, len(base), m)
        j = rng.integers(0, len(base), m)
        a = rng.uniform(0.6, 1.0, (m, 1)).astype(np.float32)
        block = a * base[i] + (1 - a) * base[j]
        block += rng.standard_normal((m, base.shape[1]), dtype=np.float32) * (noise / np.sqrt(base.shape[1]))
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[at:at + m] = block
    return out


def timed_search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    ids, times = [], []
    for q in queries:
        started = time.perf_counter()
        _, found = index.search(q.reshape(1, -1), k)
        times.append((time.perf_counter() - started) * 1000)
        ids.append(found[0])
    return np.array(ids), times


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def store_lookups(n_passages: int, work: Path, rng: np.random.Generator) -> dict:
    """A generation's passages.npy / sentences.npy at n passages, memory-mapped as store.py
    loads them: per-question lookups by id, and the sentence lookup answer.py does."""
    sentences_per = 5
    passages = np.column_stack([np.arange(n_passages) // 20, np.zeros(n_passages), np.ones(n_passages)]).astype(np.int64)
    np.save(work / "passages.npy", passages)
    p_of_s = np.repeat(np.arange(n_passages), sentences_per)
    sentences = np.column_stack([p_of_s, p_of_s // 20, np.zeros_like(p_of_s), np.ones_like(p_of_s)]).astype(np.int64)
    np.save(work / "sentences.npy", sentences)
    vectors = np.lib.format.open_memmap(work / "vectors.npy", mode="w+", dtype=np.float32, shape=(n_passages, 384))
    vectors[:] = 0.1
    vectors.flush()
    del passages, sentences, vectors
    gc.collect()
    sizes_mib = {name: (work / name).stat().st_size / 2**20 for name in ("passages.npy", "sentences.npy", "vectors.npy")}
    started = time.perf_counter()
    p = np.load(work / "passages.npy", mmap_mode="r")
    s = np.load(work / "sentences.npy", mmap_mode="r")
    v = np.load(work / "vectors.npy", mmap_mode="r")
    open_ms = (time.perf_counter() - started) * 1000
    by_id, isin, sorted_lookup = [], [], []
    for _ in range(50):
        ids = np.sort(rng.choice(n_passages, 30, replace=False))
        started = time.perf_counter()
        np.asarray(p[ids])
        np.asarray(v[ids]) @ np.ones(384, np.float32)
        by_id.append((time.perf_counter() - started) * 1000)
        top = ids[:5]
        started = time.perf_counter()
        np.flatnonzero(np.isin(s[:, 0], list(top)))  # what answer.py does per question today
        isin.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        column = s[:, 0]
        np.concatenate([np.arange(np.searchsorted(column, t), np.searchsorted(column, t, side="right")) for t in top])
        sorted_lookup.append((time.perf_counter() - started) * 1000)
    return {"passages": n_passages, "sentences": n_passages * sentences_per, "open_ms": open_ms,
            "file_mib": sizes_mib,
            "lookup_30_passages_and_vectors_ms_median": pct(by_id, 50), "lookup_ms_p95": pct(by_id, 95),
            "sentences_of_5_passages_isin_ms_median": pct(isin, 50), "isin_ms_p95": pct(isin, 95),
            "sentences_of_5_passages_searchsorted_ms_median": pct(sorted_lookup, 50)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--base-index", type=Path, default=None, help="an index folder of real e5 vectors")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--probes", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--noise", type=float, default=0.35, help="norm of the noise added to each vector")
    parser.add_argument("--threads", type=int, default=1, help="FAISS OpenMP threads (1 was faster under load)")
    parser.add_argument("--skip-store", action="store_true")
    parser.add_argument("--name", default="scale", help="results/NAME.json")
    args = parser.parse_args()

    import faiss

    from assistant.environment import settings_from_env
    from assistant.models.embedding import Embedder
    from assistant.index.indexer import update_index
    from assistant.index.store import load_generation
    from assistant.index.view import IndexView
    from assistant.index.vector_index import FaissIndex, ivf_lists_for

    faiss.omp_set_num_threads(args.threads)
    settings = settings_from_env(os.environ)
    rng = np.random.default_rng(7)
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        base_index = args.base_index
        embedder = Embedder(settings)
        if base_index is None:
            corpus = xquad_corpus(work / "xquad")
            base_index = work / "xquad" / "index"
            update_index(settings.with_paths(corpus / "sources", base_index), embedder, progress=False)
        data = load_generation(base_index)
        n_base = len(data.passages)
        per_passage = {f.name: f.stat().st_size / n_base for f in sorted(data.path.iterdir()) if f.is_file()}
        per_passage["bm25/"] = sum(f.stat().st_size for f in (data.path / "bm25").iterdir()) / n_base
        per_passage = {k: round(v) for k, v in per_passage.items()}
        print(f"index files of the base corpus, bytes per passage ({n_base} passages): {per_passage}")
        view = IndexView(data)
        base = np.concatenate([view.passage_vectors(np.arange(n_base)),
                               view.sentence_vectors(np.arange(len(data.sentences)))]).astype(np.float32)
        _, questions = xquad_paragraphs()
        picked = rng.choice(len(questions), args.queries, replace=False)
        queries = embedder.encode_queries([questions[i][0] for i in picked])
        print(f"base: {len(base)} real e5 vectors from {base_index}; {len(queries)} real query vectors", flush=True)
        rows, results = [], []
        for n in args.sizes:
            vectors = synthetic(base, n, rng, args.noise)
            nearest = (queries @ base.T).max(1)
            rss0 = rss_mib()
            started = time.perf_counter()
            flat = faiss.IndexFlatIP(vectors.shape[1])
            flat.add(vectors)
            flat_build = time.perf_counter() - started
            flat_mem = rss_mib() - rss0
            truth, flat_times = timed_search(flat, queries, 10)
            row = {"vectors": n, "index": "flat (exact)", "build_s": flat_build, "MiB": flat_mem,
                   "B/passage": flat_mem * 2**20 / n, "median_ms": pct(flat_times, 50), "p95_ms": pct(flat_times, 95),
                   "recall@10": 1.0}
            rows.append(row)
            print(table([row], list(row)), flush=True)
            del flat
            gc.collect()
            rss0 = rss_mib()
            started = time.perf_counter()
            ivf = FaissIndex.build(vectors, exact_max=0, ivf_lists=settings.ivf_lists, ivf_probe=settings.ivf_probe).index
            ivf_build = time.perf_counter() - started
            ivf_mem = rss_mib() - rss0
            for probe in args.probes:
                ivf.nprobe = probe
                found, times = timed_search(ivf, queries, 10)
                row = {"vectors": n, "index": f"ivf-flat lists={ivf.nlist} nprobe={probe}", "build_s": ivf_build,
                       "MiB": ivf_mem, "B/passage": ivf_mem * 2**20 / n, "median_ms": pct(times, 50),
                       "p95_ms": pct(times, 95), "recall@10": recall_at(found, truth)}
                rows.append(row)
                print(table([row], list(row)).splitlines()[-1], flush=True)
            results.append({"vectors": n, "ivf_lists": ivf_lists_for(n, settings.ivf_lists),
                            "query_to_nearest_base_cosine_median": float(np.median(nearest))})
            del ivf, vectors
            gc.collect()
        print()
        print(table(rows, list(rows[0])))
        store = None
        if not args.skip_store:
            store = store_lookups(max(args.sizes), work, rng)
            print("\npassage store at", store["passages"], "passages (memory-mapped .npy):")
            for key, value in store.items():
                print(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}")
        path = write_result(args.name, {"noise": args.noise, "faiss_threads": args.threads, "queries": len(queries),
                                      "base_vectors": len(base), "default_ivf_probe": settings.ivf_probe,
                                      "base_index_bytes_per_passage": per_passage,
                                      "rows": rows, "sizes": results, "store": store,
                                      "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
        print(f"wrote {path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
