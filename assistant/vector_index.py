"""The FAISS index over passage vectors, chosen by corpus size.

Up to `Settings.exact_search_max_vectors` passages the index is exact inner-product search
(IndexFlatIP): at 200k passages one query scans 300 MB, a few ms to tens of ms on two
cores. Above it an inverted-file index (IndexIVFFlat) is built: k-means cells
(`ivf_lists`, default sqrt(n)) trained on a sample, and a query scans only the
`ivf_probe` nearest cells. It keeps the full vectors (1.5 KiB a passage, same as flat) and
builds in seconds to a minute at 1M, where HNSW took about 6 min on two cores
(benchmarks/scale.py measures build time, memory, latency and recall@10 against exact).
"""

from __future__ import annotations

import math

import numpy as np

IVF_TRAIN_PER_LIST = 50  # k-means training sample: this many vectors per cell (FAISS warns below 39)
IVF_TRAIN_ITERATIONS = 10  # k-means rounds; FAISS's default 25 tripled build time for no recall gain


def ivf_lists_for(n: int, lists: int = 0) -> int:
    return int(lists) if lists > 0 else max(16, int(math.sqrt(max(n, 1))))


def build_vector_index(vectors: np.ndarray, exact_max: int, ivf_lists: int = 0, ivf_probe: int = 32,
                       seed: int = 1234):
    """Exact index up to `exact_max` vectors, IVF-flat above (vectors must be L2-normalised)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    if len(vectors) <= exact_max:
        index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(vectors)
        return index
    lists = min(ivf_lists_for(len(vectors), ivf_lists), len(vectors) // IVF_TRAIN_PER_LIST or 1)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_INNER_PRODUCT)
    sample = min(len(vectors), lists * IVF_TRAIN_PER_LIST)
    rng = np.random.default_rng(seed)
    train = vectors[np.sort(rng.choice(len(vectors), sample, replace=False))] if sample < len(vectors) else vectors
    index.cp.seed = seed
    index.cp.niter = IVF_TRAIN_ITERATIONS
    index.train(train)
    index.add(vectors)
    index.nprobe = max(1, min(ivf_probe, lists))
    return index


def kind(index) -> str:
    name = type(index).__name__
    return {"IndexFlatIP": "flat", "IndexIVFFlat": "ivf-flat", "IndexHNSWFlat": "hnsw"}.get(name, name)


def set_probe(index, probe: int) -> None:
    """Cells scanned per query of an IVF index (FAISS stores nprobe with the index too)."""
    if hasattr(index, "nprobe"):
        index.nprobe = max(1, min(int(probe), index.nlist))


def search(index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids and cosine scores of the k nearest passages (fewer when the index is smaller)."""
    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores, ids = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    keep = ids[0] >= 0
    return ids[0][keep].astype(np.int64), scores[0][keep]
