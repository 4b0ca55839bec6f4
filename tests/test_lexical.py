"""Lexical ranking: stemmed German and English tokens, numbers, BM25 and its files."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.index.lexical import LexicalIndex, tokenize


def test_german_stemming_matches_inflected_forms():
    assert tokenize("Die Kunden kauften Häuser", "de") == ["kund", "kauft", "haus"]
    assert tokenize("Kunden", "de") == tokenize("Kunde", "de")
    assert tokenize("Häuser", "de") == tokenize("Haus", "de")
    assert tokenize("gestartet", "de") == tokenize("gestartete", "de")


def test_english_stemming_and_stop_words():
    assert tokenize("The carrier is investing", "en") == tokenize("carriers invest", "en")
    assert tokenize("the of and is", "en") == []
    assert tokenize("der die das und ist", "de") == []


def test_lower_case_and_umlauts():
    assert tokenize("SÜDAFRIKA", "de") == tokenize("Südafrika", "de")


@pytest.mark.parametrize(
    "a, la, b, lb",
    [
        ("1,5 Milliarden", "de", "1.5 billion", "en"),
        ("132,6 Millionen", "de", "132.6", "en"),
        ("1.000 Euro", "de", "1000", "en"),
        ("1.500 Stellen", "de", "1,500 jobs", "en"),
        ("1.234.567", "de", "1,234,567", "en"),
        ("0,125 Prozent", "de", "0.125 percent", "en"),
        ("1,500 Kilo", "de", "1.500 kilos", "en"),  # 1.5 in both
    ],
)
def test_numbers_are_one_token_across_languages(a, la, b, lb):
    assert tokenize(a, la)[0] == tokenize(b, lb)[0]


def test_dates_split_into_numbers():
    assert tokenize("2024-01-16", "en") == ["2024", "01", "16"]


DOCS = [
    ("Der Deutsche Wetterdienst meldet für Berlin am Freitag 28 Grad.", "de"),
    ("Vodacom versorgt nach eigenen Angaben 132,6 Millionen Kunden in 48 afrikanischen Ländern.", "de"),
    ("The Port of Hamburg handled 8.7 million containers in 2022.", "en"),
    ("Vodafone und Safaricom hatten M-Pesa im Jahr 2007 gestartet.", "de"),
    ("", "de"),  # an empty passage still needs its row
]


@pytest.fixture(scope="module")
def index():
    return LexicalIndex.build([tokenize(t, lang) for t, lang in DOCS])


@pytest.mark.parametrize(
    "query, language, best",
    [
        ("Wie viele Kunden hat Vodacom?", "de", 1),
        ("Wann wurde M-Pesa gestartet?", "de", 3),
        ("How many containers did the port handle?", "en", 2),
        ("Wetter in Berlin", "de", 0),
        ("132.6 million", "en", 1),
    ],
)
def test_bm25_ranks_the_right_document(index, query, language, best):
    scores = index.scores(tokenize(query, language))
    assert scores.shape == (len(DOCS),)
    assert int(np.argmax(scores)) == best
    assert scores[best] > 0 and np.sum(scores == scores[best]) == 1


def test_unknown_words_score_zero(index):
    assert not index.scores(tokenize("Eiffelturm Paris", "de")).any()
    assert not index.scores([]).any()


def test_save_and_load_roundtrip(index, tmp_path):
    index.save(tmp_path / "bm25")
    assert (tmp_path / "bm25").is_dir()
    assert not list((tmp_path / "bm25").glob("*.pkl")) and not list((tmp_path / "bm25").glob("*.pickle"))
    loaded = LexicalIndex.load(tmp_path / "bm25")
    for query, language in (("Kunden Vodacom", "de"), ("containers port 2022", "en"), ("M-Pesa 2007", "de")):
        tokens = tokenize(query, language)
        np.testing.assert_allclose(loaded.scores(tokens), index.scores(tokens), rtol=1e-6)
    mapped = LexicalIndex.load(tmp_path / "bm25", mmap=True)
    np.testing.assert_allclose(mapped.scores(tokenize("Kunden", "de")), index.scores(tokenize("Kunden", "de")), rtol=1e-6)
