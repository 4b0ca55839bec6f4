"""answer/short_answer.py on the shipped articles: the bold answer is shown only for a read,
unrefused, single-sided judgement whose best span passes its language's gate."""

from __future__ import annotations

from dataclasses import replace

from conftest import first_stage_candidates

from assistant.answer.judging import AnswerModelJudge
from assistant.answer.reading import AnswerModelReading
from assistant.answer.short_answer import SpanShortAnswer

QUESTION = "How much is Vodafone investing in cloud and AI services over the next decade?"


def judged(snapshot, question: str = QUESTION):
    reading = AnswerModelReading.of(snapshot)
    retrieved, candidates = first_stage_candidates(snapshot, question)
    return reading, retrieved, AnswerModelJudge(reading).judge(retrieved, candidates, 3)


def test_the_short_answer_is_the_best_quotes_span_and_exact(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    reading, retrieved, judgement = judged(snapshot)
    short = SpanShortAnswer(reading).short_answer(judgement, retrieved, QUESTION, with_topic=False)
    assert short is not None and "$1.5 billion" in short.text and short.quote == 1
    best, article = judgement.picked[0], snapshot.view.articles[judgement.picked[0].article_id]
    assert article.text[short.start:short.end] == short.text and best.start <= short.start < short.end <= best.end


def test_no_short_answer_for_a_refusal_a_conflict_an_unread_quote_or_below_the_gate(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    reading, retrieved, judgement = judged(snapshot)
    short_answer = SpanShortAnswer(reading).short_answer
    assert short_answer(judgement, retrieved, QUESTION, False) is not None
    for changed in (replace(judgement, abstained=True), replace(judgement, sides=2), replace(judgement, read=False)):
        assert short_answer(changed, retrieved, QUESTION, False) is None, changed
    best = judgement.picked[0]
    gates = tuple(replace(g, above=best.reader_score + 1e-6) for g in reading.policy.short_answer)
    stricter = SpanShortAnswer(replace(reading, policy=replace(reading.policy, short_answer=gates)))
    assert stricter.short_answer(judgement, retrieved, QUESTION, False) is None
