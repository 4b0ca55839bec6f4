"""The vector index: exact below the size threshold, IVF-flat above; the probe setting applied
when an index is loaded; restricted searches pushed down into FAISS."""

from __future__ import annotations

import numpy as np

from assistant.index.vector_index import FaissIndex, ivf_lists_for


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    v = centres[rng.integers(0, 20, n)] + 0.3 * rng.standard_normal((n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def exact_top(queries: np.ndarray, vectors: np.ndarray, k: int) -> np.ndarray:
    return (queries @ vectors.T).argsort(1)[:, ::-1][:, :k]


def test_exact_below_threshold_finds_itself():
    v = unit_vectors(500)
    index = FaissIndex.build(v, exact_max=1000)
    assert index.kind == "flat" and index.size == 500 and index.dimension == 32
    ids, scores = index.search(v[7], 5)
    assert ids[0] == 7 and abs(scores[0] - 1.0) < 1e-5


def test_ivf_above_threshold_high_recall_and_probe_set_when_loaded(tmp_path):
    v = unit_vectors(5000)
    index = FaissIndex.build(v, exact_max=1000, ivf_probe=8)
    assert index.kind == "ivf-flat" and index.index.nlist == ivf_lists_for(5000) and index.probe == 8
    index.save(tmp_path / "i.faiss")
    assert FaissIndex.load(tmp_path / "i.faiss").probe == 8  # stored with the index
    loaded = FaissIndex.load(tmp_path / "i.faiss", probe=3)  # Settings.ivf_probe wins when given
    assert loaded.probe == 3
    queries = unit_vectors(50, seed=1)
    truth = exact_top(queries, v, 10)
    recall = np.mean([len(set(index.search(q, 10)[0]) & set(t)) / 10 for q, t in zip(queries, truth)])
    assert recall >= 0.9


def test_restricted_search_returns_only_allowed_ids_and_is_exact_on_both_kinds():
    v = unit_vectors(3000)
    allowed = np.arange(100, 3000, 7)
    queries = unit_vectors(20, seed=2)
    truth = allowed[exact_top(queries, v[allowed], 5)]
    for index in (FaissIndex.build(v, exact_max=10_000), FaissIndex.build(v, exact_max=100, ivf_probe=1)):
        for q, t in zip(queries, truth):
            ids, _ = index.search(q, 5, allowed_ids=allowed)
            assert set(ids) <= set(allowed.tolist())
            assert list(ids) == list(t), index.kind  # an IVF index probes every cell here


def test_small_empty_and_few_allowed():
    empty = FaissIndex.build(np.zeros((0, 4), np.float32), 10)
    assert empty.search(np.ones(4, np.float32), 3)[0].size == 0
    v = unit_vectors(3, dim=4)
    index = FaissIndex.build(v, 10)
    assert len(index.search(v[0], 10)[0]) == 3
    assert list(index.search(v[0], 10, allowed_ids=np.array([2]))[0]) == [2]
    assert index.search(v[0], 10, allowed_ids=np.array([], dtype=np.int64))[0].size == 0
