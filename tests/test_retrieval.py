"""Hybrid passage retrieval on the shipped articles."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.ingest.language import detect_language
from assistant.index.lexical import tokenize

GOLEM, ENGLISH, TELEKOM = "000_ce0777626153ace7.txt", "001_1885b208a7ea917e.txt", "002_3699eb8ecc81ec22.txt"


def search(assistant, question: str, files: list[str] | None = None):
    language = detect_language(question)
    snapshot = assistant.snapshot
    query = assistant.embedder.encode_queries([question])[0]
    articles = snapshot.view.article_ids(files) if files is not None else None
    return snapshot.retriever.search(query, tokenize(question, language), language, articles)


def passage_text(assistant, hit) -> str:
    passage = assistant.snapshot.view.passage(hit.passage_id)
    assert passage.article_id == hit.article_id
    return assistant.snapshot.view.passage_text(hit.passage_id)


def article_of(assistant, hit):
    return assistant.snapshot.view.articles[hit.article_id]


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
def test_answer_passage_is_among_the_passages_quotes_come_from(shipped_assistant, question, file, needle):
    hits = search(shipped_assistant, question)
    top = hits[: shipped_assistant.settings.quote_passages]
    found = [(article_of(shipped_assistant, h).file, needle in passage_text(shipped_assistant, h)) for h in top]
    assert (file, True) in found, [(f, round(h.score, 3), passage_text(shipped_assistant, h)[:60]) for (f, _), h in zip(found, top)]


def test_hits_are_sorted_unique_and_consistent(shipped_assistant):
    hits = search(shipped_assistant, "Wie viele Kunden hat Vodacom?")
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.passage_id for h in hits}) == len(hits)
    for h in hits:
        assert 0.0 <= h.lexical <= 1.0
        assert h.score >= h.dense - 1e-6  # BM25 is only ever added
    assert max(h.lexical for h in hits) == pytest.approx(1.0)


def test_cross_language_passages_get_no_lexical_boost(shipped_assistant):
    """An English question against German passages: BM25 must not move them (see retrieval.py)."""
    settings = shipped_assistant.settings
    for h in search(shipped_assistant, "How many customers does Vodacom have?"):
        language = article_of(shipped_assistant, h).language
        weight = settings.lexical_weight_same_language if language == "en" else settings.lexical_weight_cross_language
        assert h.score == pytest.approx(h.dense + weight * h.lexical, abs=1e-5)


def test_files_filter_restricts_the_search(shipped_assistant):
    hits = search(shipped_assistant, "Wie viele Kunden hat Vodacom?", files=[TELEKOM])
    assert hits
    assert {article_of(shipped_assistant, h).file for h in hits} == {TELEKOM}
    both = search(shipped_assistant, "Microsoft partnership", files=[ENGLISH, TELEKOM])
    assert {article_of(shipped_assistant, h).file for h in both} <= {ENGLISH, TELEKOM}


def test_unknown_file_in_filter_is_an_error(shipped_assistant):
    from assistant import UnknownArticle

    with pytest.raises(UnknownArticle):
        shipped_assistant.snapshot.view.article_ids(["nope.txt"])
    with pytest.raises(UnknownArticle):
        shipped_assistant.ask("Wie viele Kunden hat Vodacom?", files=["nope.txt"])


def test_dense_scores_are_cosines(shipped_assistant):
    query = shipped_assistant.embedder.encode_queries(["Vodacom Kunden"])[0]
    assert np.linalg.norm(query) == pytest.approx(1.0, abs=1e-4)
    hits = shipped_assistant.snapshot.retriever.search(query, [], "de")
    for h in hits[:5]:
        vector = shipped_assistant.snapshot.view.passage_vectors(np.array([h.passage_id]))[0]
        assert h.dense == pytest.approx(float(vector @ query), abs=1e-5)
        assert h.lexical == 0.0
