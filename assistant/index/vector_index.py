"""Nearest-neighbour search over passage vectors, behind one small protocol.

`VectorIndex` is what retrieval talks to; `FaissIndex` is the default implementation. Up to
`Settings.exact_search_max_vectors` passages it is exact inner-product search (IndexFlatIP):
at 200k passages one query scans 300 MB, a few ms to tens of ms on two cores. Above it an
inverted-file index (IndexIVFFlat) is built: k-means cells (`ivf_lists`, default sqrt(n))
trained on a sample, and a query scans only the `ivf_probe` nearest cells. It keeps the full
vectors (1.5 KiB a passage, same as flat) and builds in seconds to a minute at 1M, where HNSW
took about 6 min on two cores (benchmarks/scale.py measures build time, memory, latency and
recall@10 against exact).

A search restricted to some passages (the chat's "search only these articles") is pushed down
into FAISS as an id selector, so it uses the same index as an unrestricted one (an IVF index
then probes every cell, so the restricted search is exact).

`vectors(ids)` gives the stored passage vectors back (FAISS reconstructs them; an IVF index gets
a direct id -> list map the first time), so the index is the one copy of the passage vectors.

`Settings.vector_store` picks the implementation of new builds: "faiss" (this module) or
"milvus" (`milvus_index.MilvusIndex`, a collection in milvus-lite or a Milvus server). The
choice is written into the manifest, and `vector_stores.load_vector_index` opens whatever a
generation was built with, whatever the settings of the reader.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

IVF_TRAIN_PER_LIST = 50  # k-means training sample: this many vectors per cell (FAISS warns below 39)
IVF_TRAIN_ITERATIONS = 10  # k-means rounds; FAISS's default 25 tripled build time for no recall gain


class VectorIndex(Protocol):
    """Row i of the index is passage i; vectors are L2-normalised, scores are cosines."""

    @property
    def size(self) -> int: ...

    @property
    def dimension(self) -> int: ...

    @property
    def kind(self) -> str: ...

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Ids and scores of the k nearest passages, best first (only `allowed_ids` if given)."""
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of these passages, float32, one row an id in the order given."""
        ...

    def save(self, path: Path) -> None:
        """Write the index into a generation folder (`path` = folder / the class's FILE)."""
        ...


def ivf_lists_for(n: int, lists: int = 0) -> int:
    return int(lists) if lists > 0 else max(16, int(math.sqrt(max(n, 1))))


class FaissIndex:
    """A FAISS flat or IVF-flat index (see the module docstring for the choice)."""

    FILE = "passages.faiss"

    def __init__(self, index, probe: int | None = None):
        self.index = index
        self._direct_map_lock = threading.Lock()
        self._direct_map = not hasattr(index, "nlist")  # only an IVF index needs one
        if probe is not None and hasattr(index, "nprobe"):
            index.nprobe = max(1, min(int(probe), index.nlist))

    @classmethod
    def build(cls, vectors: np.ndarray, exact_max: int, ivf_lists: int = 0, ivf_probe: int = 32,
              seed: int = 1234) -> "FaissIndex":
        """Exact index up to `exact_max` vectors, IVF-flat above."""
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if len(vectors) <= exact_max:
            index = faiss.IndexFlatIP(dim)
            if len(vectors):
                index.add(vectors)
            return cls(index)
        lists = min(ivf_lists_for(len(vectors), ivf_lists), len(vectors) // IVF_TRAIN_PER_LIST or 1)
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        sample = min(len(vectors), lists * IVF_TRAIN_PER_LIST)
        rng = np.random.default_rng(seed)
        train = vectors[np.sort(rng.choice(len(vectors), sample, replace=False))] if sample < len(vectors) else vectors
        index.cp.seed = seed
        index.cp.niter = IVF_TRAIN_ITERATIONS
        index.train(train)
        index.add(vectors)
        return cls(index, ivf_probe)

    @classmethod
    def load(cls, path: Path, probe: int | None = None) -> "FaissIndex":
        """Read an index; `probe` (Settings.ivf_probe) overrides the cells scanned by an IVF index."""
        import faiss

        return cls(faiss.read_index(str(path)), probe)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    @property
    def kind(self) -> str:
        name = type(self.index).__name__
        return {"IndexFlatIP": "flat", "IndexIVFFlat": "ivf-flat", "IndexHNSWFlat": "hnsw"}.get(name, name)

    @property
    def probe(self) -> int | None:
        return int(self.index.nprobe) if hasattr(self.index, "nprobe") else None

    def search(self, query: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        limit = self.size if allowed_ids is None else min(self.size, len(allowed_ids))
        k = min(k, limit)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        params = None
        if allowed_ids is not None:
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed_ids, dtype=np.int64))
            # An IVF index probes every cell here: the allowed passages may lie in cells a
            # plain search would skip, and the selector keeps the others from being scored.
            params = (faiss.SearchParametersIVF(sel=selector, nprobe=self.index.nlist) if self.probe is not None
                      else faiss.SearchParameters(sel=selector))
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k,
                                        params=params)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        import faiss

        ids = np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))
        if len(ids) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if ids.min() < 0 or ids.max() >= self.size:
            raise IndexError(f"passage ids outside 0..{self.size - 1}")
        if not self._direct_map:
            with self._direct_map_lock:  # an IVF index finds a vector by id only through this map
                if not self._direct_map:
                    faiss.extract_index_ivf(self.index).make_direct_map()
                    self._direct_map = True
        return np.asarray(self.index.reconstruct_batch(ids), dtype=np.float32).reshape(len(ids), self.dimension)
