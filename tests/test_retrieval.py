"""Hybrid passage retrieval on the shipped articles."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.language import detect_language
from assistant.lexical import tokenize

GOLEM, ENGLISH, TELEKOM = "000_ce0777626153ace7.txt", "001_1885b208a7ea917e.txt", "002_3699eb8ecc81ec22.txt"


def search(engine, question: str, files: list[str] | None = None):
    language = detect_language(question)
    query = engine.embedder.encode_queries([question])[0]
    articles = engine.article_ids(files) if files is not None else None
    return engine.retriever.search(query, tokenize(question, language), language, articles)


def passage_text(engine, hit) -> str:
    article_id, start, end = engine.data.passages[hit.passage_id]
    assert article_id == hit.article_id
    return engine.data.articles[article_id]["text"][start:end]


@pytest.mark.parametrize(
    "question, file, needle",
    [
        ("What share of Vodacom does Vodafone own?", GOLEM, "65 Prozent"),  # only in the German article
        ("Wie viele Kunden hat Vodacom?", GOLEM, "132,6 Millionen"),
        ("Wann wurde M-Pesa gestartet?", GOLEM, "2007"),
        ("How much is Vodafone investing?", ENGLISH, "$1.5 billion"),
        ("Wer ist die Berliner Datenschutzbeauftragte?", TELEKOM, "Maja Smoltczyk"),
    ],
)
def test_answer_passage_is_among_the_passages_quotes_come_from(shipped_engine, question, file, needle):
    hits = search(shipped_engine, question)
    top = hits[: shipped_engine.settings.quote_passages]
    found = [(shipped_engine.data.articles[h.article_id]["file"], needle in passage_text(shipped_engine, h)) for h in top]
    assert (file, True) in found, [(f, round(h.score, 3), passage_text(shipped_engine, h)[:60]) for (f, _), h in zip(found, top)]


def test_hits_are_sorted_unique_and_consistent(shipped_engine):
    hits = search(shipped_engine, "Wie viele Kunden hat Vodacom?")
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.passage_id for h in hits}) == len(hits)
    for h in hits:
        assert 0.0 <= h.lexical <= 1.0
        assert h.score >= h.dense - 1e-6  # BM25 is only ever added
    assert max(h.lexical for h in hits) == pytest.approx(1.0)


def test_cross_language_passages_get_no_lexical_boost(shipped_engine):
    """An English question against German passages: BM25 must not move them (see retrieval.py)."""
    settings = shipped_engine.settings
    for h in search(shipped_engine, "How many customers does Vodacom have?"):
        language = shipped_engine.data.articles[h.article_id]["language"]
        weight = settings.lexical_weight_same_language if language == "en" else settings.lexical_weight_cross_language
        assert h.score == pytest.approx(h.dense + weight * h.lexical, abs=1e-5)


def test_files_filter_restricts_the_search(shipped_engine):
    hits = search(shipped_engine, "Wie viele Kunden hat Vodacom?", files=[TELEKOM])
    assert hits
    assert {shipped_engine.data.articles[h.article_id]["file"] for h in hits} == {TELEKOM}
    both = search(shipped_engine, "Microsoft partnership", files=[ENGLISH, TELEKOM])
    assert {shipped_engine.data.articles[h.article_id]["file"] for h in both} <= {ENGLISH, TELEKOM}


def test_unknown_file_in_filter_is_an_error(shipped_engine):
    from assistant.engine import UnknownArticle

    with pytest.raises(UnknownArticle):
        shipped_engine.article_ids(["nope.txt"])


def test_dense_scores_are_cosines(shipped_engine):
    query = shipped_engine.embedder.encode_queries(["Vodacom Kunden"])[0]
    assert np.linalg.norm(query) == pytest.approx(1.0, abs=1e-4)
    hits = shipped_engine.retriever.search(query, [], "de")
    for h in hits[:5]:
        vector = np.asarray(shipped_engine.data.passage_vectors[h.passage_id])
        assert h.dense == pytest.approx(float(vector @ query), abs=1e-5)
        assert h.lexical == 0.0
