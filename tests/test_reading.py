"""answer/reading.py with the shipped reader: when it ranks, and the span it finds.
Kept small: the answer steps are being reworked (issue 17)."""

from __future__ import annotations

from dataclasses import replace

from assistant.answer.candidates import rank_candidates, retrieve
from assistant.answer.reading import read, reader_applies

QUESTION = "Wie viele Kunden hat Vodacom?"


def test_the_reader_ranks_only_when_asked_and_in_the_questions_language(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    top = rank_candidates(snapshot, retrieve(snapshot, QUESTION))[0]  # from the German article
    assert not reader_applies(snapshot, top, "de")  # by default the reader does not rank
    ranking = replace(snapshot, settings=replace(snapshot.settings, reader_ranks=True))
    assert reader_applies(ranking, top, "de") and not reader_applies(ranking, top, "en")
    across = replace(snapshot, settings=replace(snapshot.settings, reader_ranks=True, reader_cross_language=True))
    assert reader_applies(across, top, "en")


def test_the_span_read_lies_in_its_sentence_and_holds_the_answer(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    candidates = rank_candidates(snapshot, retrieve(snapshot, QUESTION))
    sentence = next(c for c in candidates if "132,6 Millionen" in snapshot.view.text(c.article_id, c.start, c.end))
    [done] = read(snapshot, QUESTION, [sentence])
    assert done.span is not None and done.reader_score is not None
    assert sentence.start <= done.span.start < done.span.end <= sentence.end
    assert "132,6" in snapshot.view.text(done.article_id, done.span.start, done.span.end)
