"""Vector codecs: what they keep of real e5 vectors, on disk and back, and clear errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from assistant.config import ConfigError, Settings
from assistant.index.codecs import CodecError, VectorCodec, check_spec

TEXTS = [
    "Der Deutsche Wetterdienst meldet für Berlin am Freitag 28 Grad.",
    "Am Wochenende sollen Gewitter aufziehen, die Feuerwehr rät, Fenster zu schließen.",
    "The Port of Hamburg handled 8.7 million containers in 2022, its operator said.",
    "A new rail link to the port is planned to open in 2026.",
    "Vodafone hält 65 Prozent an Vodacom.",
    "The central bank left interest rates unchanged on Thursday.",
]


@pytest.fixture(scope="module")
def vectors(embedder) -> np.ndarray:
    return embedder.encode_passages(TEXTS, progress=False)


@pytest.mark.parametrize("spec, size, min_cosine", [("SQ8", 384, 0.999), ("SQ4", 192, 0.97), ("SQfp16", 768, 0.9999)])
def test_codes_keep_the_vectors_and_their_ranking(vectors, embedder, spec, size, min_cosine):
    codec = VectorCodec.train(spec, vectors)
    codes = codec.encode(vectors)
    assert codes.dtype == np.uint8 and codes.shape == (len(vectors), size) == (len(vectors), codec.code_size)
    decoded = codec.decode(codes)
    cosines = (decoded * vectors).sum(1) / np.linalg.norm(decoded, axis=1)
    assert cosines.min() >= min_cosine
    question = embedder.encode_queries(["Wie viel Prozent an Vodacom hält Vodafone?"])[0]
    assert int(np.argmax(decoded @ question)) == int(np.argmax(vectors @ question)) == 4


def test_saved_codec_decodes_the_same(tmp_path, vectors):
    codec = VectorCodec.train("SQ4", vectors)
    codec.save(tmp_path / "sentence_vectors.codec")
    again = VectorCodec.load(tmp_path / "sentence_vectors.codec", "SQ4")
    codes = codec.encode(vectors)
    np.testing.assert_array_equal(again.encode(vectors), codes)
    np.testing.assert_array_equal(again.decode(codes), codec.decode(codes))
    assert again.dimension == 384 and again.spec == "SQ4"


def test_empty_input_round_trips(vectors):
    codec = VectorCodec.train("SQ8", vectors)
    assert codec.encode(np.zeros((0, 384), np.float32)).shape == (0, 384)
    assert codec.decode(np.zeros((0, 384), np.uint8)).shape == (0, 384)
    with pytest.raises(CodecError, match="no vectors"):
        VectorCodec.train("SQ8", np.zeros((0, 384), np.float32))


def test_bad_codec_names_are_clear_errors():
    check_spec("none")
    check_spec("PQ64")
    with pytest.raises(CodecError, match="'SQ3' is not a FAISS vector codec"):
        check_spec("SQ3")
    with pytest.raises(ConfigError, match="'zip' is not a FAISS vector codec.*SQ8, SQ4"):
        dataclasses.replace(Settings(), sentence_codec="zip")
