"""The Embedder's own encoding path against plain SentenceTransformer.encode, precision
choice, duplicate texts, and the thread settings it restores."""

from __future__ import annotations

import copy
import json
import threading

import numpy as np
import pytest

from assistant.config import Settings
from assistant.models.embedding import Embedder, ModelError, default_model_folder
from assistant.models.engines import (ENGINES, PROBE_FILE, OpenVinoEngine, TorchEngine, cached_choice, machine_key,
                                      measure, resolve_engine)

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
    embedder = Embedder(Settings(embed_engine="torch-float32"))
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


def test_engine_setting():
    assert resolve_engine("float32") == "torch-float32" and resolve_engine("BF16") == "torch-bfloat16"
    assert resolve_engine("auto") == "auto" and resolve_engine(" OpenVINO ") == "openvino"
    with pytest.raises(ModelError, match="unknown embedding engine 'int3'"):
        Embedder(Settings(embed_engine="int3"))


def test_engines_agree_and_the_fastest_is_measured_once_per_machine(tmp_path, reference):
    """Each engine embeds like float32 torch; the probe keeps the fastest that agrees."""
    float32 = Embedder(Settings(embed_engine="torch-float32", cache_dir=tmp_path))
    tokenizer, transformer, _ = float32._direct
    figures = measure({"torch-float32": lambda: TorchEngine(transformer, bfloat16=False),
                       "torch-bfloat16": lambda: TorchEngine(copy.deepcopy(transformer), bfloat16=True),
                       "openvino": lambda: OpenVinoEngine(transformer, tokenizer, tmp_path / "ov")}, tokenizer, repeats=1)
    assert set(figures["seconds"]) == set(ENGINES) and not figures["failed"], figures
    assert min(figures["agreement"].values()) > 0.999 and figures["choice"] in ENGINES
    assert float32.encode_passages(TEXTS[:1])[0] @ reference[0][0] > 0.99999  # float32 weights left as they were
    openvino = Embedder(Settings(embed_engine="openvino", cache_dir=tmp_path))
    assert np.min(np.sum(openvino.encode_passages(TEXTS) * reference[0], axis=1)) > 0.999
    assert openvino.precision == "openvino"
    calls = []

    def probe():
        calls.append(1)
        return figures

    assert cached_choice(tmp_path, "model-a", probe) == figures["choice"]
    assert cached_choice(tmp_path, "model-a", probe) == figures["choice"] and len(calls) == 1
    cached_choice(tmp_path, "model-b", probe)  # another model is measured on its own
    assert len(calls) == 2
    (tmp_path / "embedding-engine.json").write_text("{not json", encoding="utf-8")
    assert cached_choice(tmp_path, "model-a", probe) == figures["choice"] and len(calls) == 3


def test_a_question_first_is_measured_on_the_embedding_threads(tmp_path):
    """`ask --cold` embeds a question first, on one thread; the warm server indexes first. Both
    must find one engine measurement, made on the embedding threads: when the probe ran inside
    the question's one thread, each kept its own and could choose another engine (the warm and
    the cold answer then differed in a score's last digit)."""
    import torch

    before = torch.get_num_threads()
    try:
        embedder = Embedder(Settings(cache_dir=tmp_path, embed_engine="auto", embed_threads=2, query_threads=1))
        embedder.encode_question("Wie warm wird es in Potsdam?")
        assert torch.get_num_threads() == 2
        key = machine_key()
    finally:
        torch.set_num_threads(before)
    measured = json.loads((tmp_path / PROBE_FILE).read_text(encoding="utf-8"))
    assert list(measured) == [f"{key}|{embedder.identity}"]  # the key ends "threads 2"
    assert embedder.precision == measured[next(iter(measured))]["choice"]


def test_the_session_model_runs_on_a_measured_engine(embedder):
    embedder.encode_queries(["Wie warm wird es?"])
    assert embedder.precision in ENGINES  # "auto" was resolved by the probe (or its cached result)


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
