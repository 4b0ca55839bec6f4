"""The Embedder's own encoding path against plain SentenceTransformer.encode, precision
choice, duplicate texts, and the thread settings it restores."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from assistant.config import Settings
from assistant.models.embedding import (PRECISIONS, Embedder, ModelError, cached_precision, default_model_folder,
                                        measure_precision, resolve_precision)

TEXTS = ["Der Deutsche Wetterdienst meldet für Berlin am Freitag 28 Grad.",
         "The Port of Hamburg handled 8.7 million containers in 2022, its operator said on Monday. " * 3,
         "½ Preis, z. B. für Dr. Weber."]


@pytest.fixture(scope="module")
def reference():
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(default_model_folder(Settings())), device="cpu", local_files_only=True)
    return (model.encode(TEXTS, prompt_name="passage", normalize_embeddings=True),
            model.encode(TEXTS[:1], prompt_name="query", normalize_embeddings=True))


def test_float32_path_matches_sentence_transformers(reference):
    embedder = Embedder(Settings(embed_precision="float32"))
    passages, query = reference
    assert np.min(np.sum(embedder.encode_passages(TEXTS) * passages, axis=1)) > 0.99999
    assert float(embedder.encode_queries(TEXTS[:1])[0] @ query[0]) > 0.99999


def test_default_precision_stays_close(embedder, reference):
    passages, _ = reference
    vectors = embedder.encode_passages(TEXTS)
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.min(np.sum(vectors * passages, axis=1)) > 0.998


def test_duplicates_are_embedded_once_and_returned_in_place(embedder):
    vectors = embedder.encode_passages([TEXTS[0], TEXTS[2], TEXTS[0]])
    assert np.array_equal(vectors[0], vectors[2]) and vectors.shape == (3, embedder.dimension)
    assert embedder.encode_passages([]).shape == (0, embedder.dimension)


def _run_together(target, count: int, timeout: float = 300.0) -> None:
    """Run `target` on `count` threads that start at once; fail on an error or a hang."""
    barrier, errors = threading.Barrier(count), []

    def run():
        try:
            barrier.wait(timeout)
            target()
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    assert not errors, errors


def test_query_threads_are_restored(embedder):
    import torch

    before = torch.get_num_threads()
    embedder.encode_queries(["Wie warm wird es?"])
    assert torch.get_num_threads() == before
    # Several questions at once: each sets the process-wide count and puts it back, one at a time.
    _run_together(lambda: [embedder.encode_queries([f"Frage {i}?"]) for i in range(5)], count=4)
    assert torch.get_num_threads() == before


def test_two_first_questions_load_the_model_once(monkeypatch):
    loads, real = [], Embedder._load

    def counting_load(self):
        loads.append(threading.current_thread().name)
        return real(self)

    monkeypatch.setattr(Embedder, "_load", counting_load)
    fresh = Embedder(Settings())
    vectors = []
    _run_together(lambda: vectors.append(fresh.encode_queries(["Wie warm wird es?"])), count=3)
    assert len(loads) == 1
    assert len(vectors) == 3 and all(np.array_equal(v, vectors[0]) for v in vectors)


def test_precision_setting():
    assert resolve_precision("float32") == "float32" and resolve_precision("BF16") == "bfloat16"
    assert resolve_precision("auto") == "auto"  # measured when the model loads
    with pytest.raises(ModelError):
        resolve_precision("int3")


def test_the_engine_is_measured_once_per_machine_and_kept(tmp_path, embedder):
    model = Embedder(Settings(embed_precision="float32")).model  # float32 weights: both precisions timed
    figures = measure_precision(model[0].auto_model, model.tokenizer, repeats=1)
    assert figures["choice"] in PRECISIONS and min(figures["seconds"].values()) > 0
    assert figures["choice"] == ("bfloat16" if figures["bfloat16_speedup"] >= 1.15 else "float32")
    calls = []

    def measure():
        calls.append(1)
        return figures

    assert cached_precision(tmp_path, "model-a", measure) == figures["choice"]
    assert cached_precision(tmp_path, "model-a", measure) == figures["choice"] and len(calls) == 1
    cached_precision(tmp_path, "model-b", measure)  # another model is measured on its own
    assert len(calls) == 2
    (tmp_path / "embedding-engine.json").write_text("{not json", encoding="utf-8")
    assert cached_precision(tmp_path, "model-a", measure) == figures["choice"] and len(calls) == 3
    assert embedder.precision in PRECISIONS  # the session's model was loaded with "auto"


def test_sentences_pooled_in_their_passage_pass(embedder):
    passage = "Der Hamburger Hafen meldet einen Rekord. Das Wetter in Berlin bleibt warm."
    cut = passage.index(" Das")
    vectors, pooled = embedder.encode_in_context([passage, TEXTS[0]], [[(0, cut), (cut + 1, len(passage))], []])
    assert vectors.shape == (2, embedder.dimension) and pooled[1].shape == (0, embedder.dimension)
    assert pooled[0].shape == (2, embedder.dimension)
    assert np.allclose(np.linalg.norm(pooled[0], axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ embedder.encode_passages([passage])[0]) > 0.999  # the passage's own vector
    alone = embedder.encode_passages([passage[:cut], passage[cut + 1:]])
    similarity = pooled[0] @ alone.T
    assert similarity[0, 0] > similarity[0, 1] and similarity[1, 1] > similarity[1, 0]
