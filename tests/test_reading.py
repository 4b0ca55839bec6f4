"""answer/reading.py with the shipped answer model: what a sentence is read with, the spans it
finds, the features the policy combines and the probability it ranks by."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from assistant.answer.candidates import rank_candidates, retrieve
from assistant.answer.reading import (
    holds_probability,
    read_candidates,
    read_features,
    reader_input,
    reading_order,
    refuses,
    to_read,
)
from assistant.config import READER_FEATURES

QUESTION = "Wie viele Kunden hat Vodacom?"


def _candidates(snapshot, question=QUESTION):
    retrieved = retrieve(snapshot, question)
    return retrieved, rank_candidates(snapshot, retrieved)


def test_a_sentence_is_read_with_its_title_and_the_sentence_before_it(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    _, candidates = _candidates(snapshot)
    view = snapshot.view
    for c in candidates[:10]:
        item = reader_input(snapshot, c)
        assert item.candidate == view.text(c.article_id, c.start, c.end)
        title = view.articles[c.article_id].title
        assert item.title == ("" if item.candidate.startswith(title.rstrip(".!?")) else title)
        previous = view.sentence(c.sentence_id - 1) if c.sentence_id > 0 else None
        if previous is not None and previous.passage_id == c.passage_id:
            assert item.context == view.text(c.article_id, previous.start, previous.end)
        else:
            assert item.context == ""


def test_the_span_read_lies_in_its_sentence_and_holds_the_answer(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    retrieved, candidates = _candidates(snapshot)
    sentence = next(c for c in candidates if "132,6 Millionen" in snapshot.view.text(c.article_id, c.start, c.end))
    [done], features = read_features(snapshot, retrieved, [sentence])
    assert done.span is not None and features.shape == (1, len(READER_FEATURES))
    assert sentence.start <= done.span.start < done.span.end <= sentence.end
    assert "132,6" in snapshot.view.text(done.article_id, done.span.start, done.span.end)
    assert np.isfinite(features).all()


def test_candidates_read_are_the_first_stages_best_and_ordered_by_probability(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    retrieved, candidates = _candidates(snapshot)
    top = to_read(snapshot, candidates)
    assert len(top) == min(len(candidates), snapshot.settings.reader_policy.candidates)
    ranked = read_candidates(snapshot, retrieved, candidates)
    assert {c.sentence_id for c in ranked} == {c.sentence_id for c in top}
    probabilities = [c.reader_score for c in ranked]
    assert probabilities == sorted(probabilities, reverse=True)
    assert "132,6 Millionen" in snapshot.view.text(ranked[0].article_id, ranked[0].start, ranked[0].end)
    assert not refuses(snapshot, ranked)


def test_the_probability_follows_the_fitted_policy(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    features = np.zeros((2, len(READER_FEATURES)))
    features[1, READER_FEATURES.index("holds")] = 5.0
    p = holds_probability(snapshot, features)
    policy = snapshot.settings.reader_policy
    assert p[0] == 1.0 / (1.0 + np.exp(-policy.bias))
    holds_weight = policy.weights[READER_FEATURES.index("holds")]
    assert (p[1] > p[0]) == (holds_weight > 0)
    stricter = replace(snapshot, settings=replace(snapshot.settings,
                                                  reader_policy=replace(policy, refuse_below=1.01)))
    retrieved, candidates = _candidates(snapshot)
    assert refuses(stricter, read_candidates(stricter, retrieved, candidates))


def test_when_nothing_read_is_in_the_questions_language_the_first_stage_keeps_its_best_first():
    probabilities = np.array([0.1, 0.9, 0.5])
    assert reading_order(probabilities, True, False) == [1, 2, 0]  # same language: the model orders
    assert reading_order(probabilities, False, False) == [0, 1, 2]  # across: first stage's best first
    assert reading_order(probabilities, False, True) == [1, 2, 0]  # unless the policy says otherwise
    assert reading_order(np.zeros(0), False, False) == []


def test_refusal_looks_at_the_likeliest_sentence_whatever_the_order(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    retrieved, candidates = _candidates(snapshot)
    ranked = read_candidates(snapshot, retrieved, candidates)
    likeliest = max(c.reader_score for c in ranked)
    at = replace(snapshot.settings.reader_policy, refuse_below=likeliest)
    above = replace(snapshot.settings.reader_policy, refuse_below=likeliest + 1e-6)
    assert not refuses(replace(snapshot, settings=replace(snapshot.settings, reader_policy=at)), ranked[::-1])
    assert refuses(replace(snapshot, settings=replace(snapshot.settings, reader_policy=above)), ranked[::-1])


@pytest.fixture()
def tiny_assistant(tiny_settings, embedder):
    from assistant import Assistant

    return Assistant(settings=tiny_settings, update=True, embedder=embedder)


def test_a_sentence_that_is_its_articles_title_is_read_without_it(tiny_assistant):
    """An article without a headline is titled by its first sentence; that sentence is read once
    (read twice, the model put the Potsdam sentence first for this question)."""
    snapshot = tiny_assistant.snapshot
    retrieved, candidates = _candidates(snapshot, "Wie warm wird es am Freitag in Berlin?")
    first = next(c for c in candidates if "28 Grad" in snapshot.view.text(c.article_id, c.start, c.end))
    assert snapshot.view.articles[first.article_id].title.startswith("Der Deutsche Wetterdienst")
    assert reader_input(snapshot, first).title == ""
    other = next(c for c in candidates if c.article_id == first.article_id and c.sentence_id != first.sentence_id)
    assert reader_input(snapshot, other).title == snapshot.view.articles[first.article_id].title
    best = read_candidates(snapshot, retrieved, candidates)[0]
    assert "28 Grad" in snapshot.view.text(best.article_id, best.start, best.end)
