"""FAISS index choice by size: exact below the threshold, IVF-flat above, and the IVF
settings surviving a write and read."""

from __future__ import annotations

import numpy as np

from assistant.vector_index import build_vector_index, ivf_lists_for, kind, search


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    v = centres[rng.integers(0, 20, n)] + 0.3 * rng.standard_normal((n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_exact_below_threshold_finds_itself():
    v = unit_vectors(500)
    index = build_vector_index(v, exact_max=1000)
    assert kind(index) == "flat"
    ids, scores = search(index, v[7], 5)
    assert ids[0] == 7 and abs(scores[0] - 1.0) < 1e-5


def test_ivf_above_threshold_high_recall_and_probe_survives_io(tmp_path):
    import faiss

    v = unit_vectors(5000)
    index = build_vector_index(v, exact_max=1000, ivf_probe=8)
    assert kind(index) == "ivf-flat" and index.nlist == ivf_lists_for(5000) and index.nprobe == 8
    faiss.write_index(index, str(tmp_path / "i.faiss"))
    index = faiss.read_index(str(tmp_path / "i.faiss"))
    assert index.nprobe == 8
    queries = unit_vectors(50, seed=1)
    exact = (queries @ v.T).argsort(1)[:, ::-1][:, :10]
    recall = np.mean([len(set(search(index, q, 10)[0]) & set(t)) / 10 for q, t in zip(queries, exact)])
    assert recall >= 0.9


def test_small_and_empty():
    assert search(build_vector_index(np.zeros((0, 4), np.float32), 10), np.ones(4, np.float32), 3)[0].size == 0
    v = unit_vectors(3, dim=4)
    assert len(search(build_vector_index(v, 10), v[0], 10)[0]) == 3
