"""answer/judging.py on the shipped articles: each judge's quotes and refusal for a question's
candidates."""

from __future__ import annotations

import math
from dataclasses import replace

from conftest import first_stage_candidates

from assistant.answer.candidates import Candidate, ReadSpan
from assistant.answer.judging import AnswerModelJudge, SimilarityJudge, nothing_of_the_kind_asked
from assistant.answer.reading import AnswerModelReading
from assistant.answer.selection import is_the_headline

QUESTION = "Wie viele Kunden hat Vodacom?"


def ranked(snapshot, question: str = QUESTION):
    return first_stage_candidates(snapshot, question)


def text(snapshot, c) -> str:
    return snapshot.view.text(c.article_id, c.start, c.end)


def test_both_judges_quote_the_answer_first_and_only_the_answer_model_reads(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    retrieved, candidates = ranked(snapshot)
    for judge, read in ((SimilarityJudge.of(snapshot), False), (AnswerModelJudge(AnswerModelReading.of(snapshot)), True)):
        judged = judge.judge(retrieved, candidates, 3)
        assert not judged.abstained and judged.margin > 0 and judged.read is read
        assert 1 <= len(judged.picked) <= 3 and "132,6 Millionen" in text(snapshot, judged.picked[0])
        assert judged.coverage == 1.0  # "Vodacom", the figure's sentence's passage names it
        if read:
            assert judged.picked[0].span is not None and len(judged.confirms) == len(judged.picked)


def test_no_candidates_is_a_refusal_with_nothing_to_show(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    retrieved, _ = ranked(snapshot)
    for judge in (SimilarityJudge.of(snapshot), AnswerModelJudge(AnswerModelReading.of(snapshot))):
        judged = judge.judge(retrieved, [], 3)
        assert judged.abstained and judged.picked == [] and judged.margin == -math.inf


def test_a_refusal_shows_the_closest_sentences_likeliest_first_without_headlines(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    reading = AnswerModelReading.of(snapshot)
    strict = replace(reading, policy=replace(reading.policy, refuse_below=1.01))  # nothing is likely enough
    retrieved, candidates = ranked(snapshot)
    judged = AnswerModelJudge(strict).judge(retrieved, candidates, 2)
    assert judged.abstained and judged.read and judged.margin < 0 and judged.sides == 0
    assert 1 <= len(judged.picked) <= 2 and not any(is_the_headline(snapshot.view, c) for c in judged.picked)
    scores = [c.reader_score for c in judged.picked]
    assert scores == sorted(scores, reverse=True)
    assert judged.margin == max(c.reader_score for c in strict.read_candidates(retrieved, candidates)) - 1.01


def test_a_when_question_without_a_time_in_any_sentence_read_is_not_answered():
    with_span = Candidate(0, 0, 0, 0, 10, 1.0, span=ReadSpan(2, 6, 1.0))
    without = Candidate(1, 0, 0, 11, 20, 1.0)
    assert nothing_of_the_kind_asked("Wann wurde die Telekom gegründet?", [without, without])
    assert not nothing_of_the_kind_asked("Wann wurde die Telekom gegründet?", [without, with_span])
    assert not nothing_of_the_kind_asked("Wer leitet die Telekom?", [without])  # asks for no time or figure


def test_a_question_naming_a_year_far_from_every_article_read_is_refused_with_the_closest_sentences(shipped_assistant):
    """Every sentence read is from an article whose years (2007 to 2024) are all far from 1995: a
    refusal, however likely the model finds the Vodacom sentence; asked about 2024 it is answered."""
    snapshot = shipped_assistant.snapshot
    judge = AnswerModelJudge(AnswerModelReading.of(snapshot))
    question = "Wie viele Kunden hatte Vodacom 1995?"
    retrieved, candidates = ranked(snapshot, question)
    judged = judge.judge(retrieved, candidates, 2)
    assert judged.abstained and judged.read and judged.margin == -math.inf
    assert judged.picked and "132,6 Millionen" in text(snapshot, judged.picked[0])  # still shown as the closest
    retrieved, candidates = ranked(snapshot, "Wie viele Kunden hatte Vodacom 2024?")  # the article's year
    assert not judge.judge(retrieved, candidates, 2).abstained
