"""Which vector store a generation uses: build the one the settings name, open the one a
manifest names, and free what a generation holds outside its folder before it is deleted.

The implementations (vector_index.FaissIndex, milvus_index.MilvusIndex) know nothing of each
other or of the store; this module alone picks between them (Milvus imported only when used).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .vector_index import FaissIndex, VectorIndex

if TYPE_CHECKING:
    from ..config import Settings


def build_vector_index(settings: "Settings", vectors: np.ndarray, passages: np.ndarray) -> VectorIndex:
    """The vector index of a new build, in the store the settings name. `passages` (article,
    start, end rows) go along as fields of each vector where the store keeps them (Milvus)."""
    if settings.vector_store == "milvus":
        from .milvus_index import MilvusIndex

        return MilvusIndex.build(vectors, passages, settings.resolved_milvus_uri, settings.exact_search_max_vectors,
                                 settings.ivf_lists, settings.ivf_probe, token=settings.milvus_token)
    return FaissIndex.build(vectors, settings.exact_search_max_vectors, settings.ivf_lists, settings.ivf_probe)


def store_of(manifest: dict) -> tuple[str, str]:
    """(vector store, Milvus URI as the settings gave it) of a generation's manifest; indexes
    written before the choice existed are FAISS."""
    return manifest.get("vector_store", "faiss"), manifest.get("milvus_uri", "")


def load_vector_index(generation: Path, manifest: dict, probe: int | None = None,
                      milvus_token: str = "") -> VectorIndex:
    """Open the vector index of a generation folder in the store its manifest names
    (`milvus_token`: Settings.milvus_token, for a Milvus server)."""
    store, _ = store_of(manifest)
    if store == "milvus":
        from .milvus_index import MilvusIndex

        return MilvusIndex.load(generation / MilvusIndex.FILE, probe, milvus_token)
    if store != "faiss":
        raise ValueError(f"unknown vector store {store!r} in the manifest")
    return FaissIndex.load(generation / FaissIndex.FILE, probe)


def drop_vector_index(folder: Path, milvus_token: str = "") -> bool:
    """Free what a generation (or a killed build) holds outside its folder, before the folder
    is deleted: its Milvus collection. False when that failed (keep the folder, try again)."""
    from .milvus_index import MilvusIndex

    if not (folder / MilvusIndex.FILE).exists():
        return True
    return MilvusIndex.drop(folder / MilvusIndex.FILE, milvus_token)
