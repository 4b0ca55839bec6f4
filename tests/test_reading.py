"""answer/reading.py with the shipped answer model: what a sentence is read with, the spans it
finds, the features the policy combines and the probability it ranks by."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from conftest import first_stage_candidates

from assistant.answer.candidates import Candidate
from assistant.answer.reading import AnswerModelReading, holds_probability, reader_input, reading_order
from assistant.answer.selection import is_the_headline
from assistant.config import READER_FEATURES

QUESTION = "Wie viele Kunden hat Vodacom?"


def _candidates(snapshot, question=QUESTION):
    return first_stage_candidates(snapshot, question)


def _reading(snapshot, policy=None) -> AnswerModelReading:
    reading = AnswerModelReading.of(snapshot)
    return reading if policy is None else replace(reading, policy=policy)


def test_a_sentence_is_read_with_its_title_and_the_sentence_before_it(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    _, candidates = _candidates(snapshot)
    view = snapshot.view
    for c in candidates[:10]:
        item = reader_input(view, c)
        assert item.candidate == view.text(c.article_id, c.start, c.end)
        # the sentence the title was made of (an article's first) is read without it, as trained
        first = c.sentence_id == 0 or view.sentence(c.sentence_id - 1).article_id != c.article_id
        assert item.title == ("" if first else view.articles[c.article_id].title)
        previous = view.sentence(c.sentence_id - 1) if c.sentence_id > 0 else None
        if previous is not None and previous.passage_id == c.passage_id:
            assert item.context == view.text(c.article_id, previous.start, previous.end)
        else:
            assert item.context == ""


def sentence_candidate(snapshot, file: str, n: int) -> Candidate:
    """The n-th sentence (from 0) of an indexed article as a first-stage candidate."""
    view = snapshot.view
    article_id = int(view.article_ids([file])[0])
    sentences = view.sentences_of(view.passages_of_articles([article_id]))
    return Candidate(int(sentences.ids[n]), int(sentences.passage_ids[n]), article_id, int(sentences.starts[n]),
                     int(sentences.ends[n]), score=0.5)


CUT_TITLE = pytest.mark.xfail(strict=True, reason=(
    "a title cut short ends in '…', which selection.is_the_title does not strip, and can be under half "
    "its sentence: the first sentence is read twice (with itself as its title). Left so: the answer "
    "model was trained so (training/answer_data.py gives every sentence its article's title), and "
    "reading such sentences without the cut title measured slightly worse end to end on the "
    "development split (2026-12-08: de-de first quote 0.625 -> 0.623, unanswerable refused 354 -> 350 "
    "of 576; benchmarks/README.md, 'A title cut from the first sentence')"))


@pytest.mark.parametrize("file", [
    "000_ce0777626153ace7.txt",  # a headline line: the title whole
    pytest.param("001_1885b208a7ea917e.txt", marks=CUT_TITLE),  # no headline: the first sentence, cut
    pytest.param("002_3699eb8ecc81ec22.txt", marks=CUT_TITLE),
])
def test_the_sentence_an_articles_title_is_made_of_is_its_headline(shipped_assistant, file):
    snapshot = shipped_assistant.snapshot
    first, second = sentence_candidate(snapshot, file, 0), sentence_candidate(snapshot, file, 1)
    title = snapshot.view.articles[first.article_id].title
    view = snapshot.view
    assert not is_the_headline(view, second) and reader_input(view, second).title == title
    assert is_the_headline(view, first), (title, reader_input(view, first).candidate)
    assert reader_input(view, first).title == ""


def test_the_span_read_lies_in_its_sentence_and_holds_the_answer(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    retrieved, candidates = _candidates(snapshot)
    sentence = next(c for c in candidates if "132,6 Millionen" in snapshot.view.text(c.article_id, c.start, c.end))
    [done], features = _reading(snapshot).read_features(retrieved, [sentence])
    assert done.span is not None and features.shape == (1, len(READER_FEATURES))
    assert sentence.start <= done.span.start < done.span.end <= sentence.end
    assert "132,6" in snapshot.view.text(done.article_id, done.span.start, done.span.end)
    assert np.isfinite(features).all()


def test_candidates_read_are_the_first_stages_best_and_ordered_by_probability(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    retrieved, candidates = _candidates(snapshot)
    reading = _reading(snapshot)
    top = reading.to_read(candidates)
    assert len(top) == min(len(candidates), snapshot.settings.reader_policy.candidates)
    ranked = reading.read_candidates(retrieved, candidates)
    assert {c.sentence_id for c in ranked} == {c.sentence_id for c in top}
    probabilities = [c.reader_score for c in ranked]
    assert probabilities == sorted(probabilities, reverse=True)
    assert "132,6 Millionen" in snapshot.view.text(ranked[0].article_id, ranked[0].start, ranked[0].end)
    assert not reading.refuses(ranked)


def test_the_probability_follows_the_fitted_policy(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    policy = snapshot.settings.reader_policy
    # one feature at a time (and none): each moves the probability by its own weight
    features = np.vstack([np.zeros(len(READER_FEATURES)), 2.0 * np.eye(len(READER_FEATURES))])
    expected = [policy.bias] + [policy.bias + 2.0 * w for w in policy.weights]
    assert holds_probability(policy, features) == pytest.approx([1 / (1 + math.exp(-z)) for z in expected])
    # the fitted signs: a sentence the model says holds the answer, or that the first stage
    # ranks well, is likelier to hold it
    assert policy.weights[READER_FEATURES.index("holds")] > 0 and policy.weights[READER_FEATURES.index("first_stage")] > 0
    stricter = _reading(snapshot, replace(policy, refuse_below=1.01))
    retrieved, candidates = _candidates(snapshot)
    assert stricter.refuses(stricter.read_candidates(retrieved, candidates))


def test_when_nothing_read_is_in_the_questions_language_the_first_stage_keeps_its_best_first():
    probabilities = np.array([0.1, 0.9, 0.5])
    assert reading_order(probabilities, True, None) == [1, 2, 0]  # same language: the model orders
    assert reading_order(probabilities, False, None) == [0, 1, 2]  # across: first stage's best first
    assert reading_order(probabilities, False, 1.0) == [1, 2, 0]  # unless the policy says otherwise
    assert reading_order(np.zeros(0), False, None) == []


def test_across_languages_the_likeliest_leads_only_when_that_much_likelier():
    probabilities = np.array([0.2, 0.7, 0.5])  # the likeliest is 3.5 times as likely as the first stage's best
    assert reading_order(probabilities, False, 3.0) == [1, 2, 0]
    assert reading_order(probabilities, False, 4.0) == [0, 1, 2]
    assert reading_order(probabilities, True, 4.0) == [1, 2, 0]  # in the question's language it always does
    assert reading_order(np.array([0.6, 0.3]), False, 3.0) == [0, 1]  # the best is already first


def test_a_cross_language_lead_below_one_is_refused():
    from assistant.config import ConfigError, shipped_reader_policy

    with pytest.raises(ConfigError, match="cross_language_lead must be at least 1"):
        replace(shipped_reader_policy(), cross_language_lead=0.5)


def test_refusal_looks_at_the_likeliest_sentence_whatever_the_order(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    retrieved, candidates = _candidates(snapshot)
    ranked = _reading(snapshot).read_candidates(retrieved, candidates)
    likeliest = max(c.reader_score for c in ranked)
    at = replace(snapshot.settings.reader_policy, refuse_below=likeliest)
    above = replace(snapshot.settings.reader_policy, refuse_below=likeliest + 1e-6)
    assert not _reading(snapshot, at).refuses(ranked[::-1])
    assert _reading(snapshot, above).refuses(ranked[::-1])


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
    assert reader_input(snapshot.view, first).title == ""
    other = next(c for c in candidates if c.article_id == first.article_id and c.sentence_id != first.sentence_id)
    assert reader_input(snapshot.view, other).title == snapshot.view.articles[first.article_id].title
    best = _reading(snapshot).read_candidates(retrieved, candidates)[0]
    assert "28 Grad" in snapshot.view.text(best.article_id, best.start, best.end)
