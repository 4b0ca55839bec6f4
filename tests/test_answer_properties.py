"""Property test of answer_question on the shipped articles: random unicode questions,
very long ones (10,000 characters: refused; 2,000: answered) and punctuation only give a clean
Answer or a clean QuestionError, and every quote is an exact span of its article.
Example counts: 40 random, 5 long, 20 punctuation (each runs the real model)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant import Answer, QuestionError
from assistant.answer.question import content_words

PROFILE = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def check(engine, question: str, **kwargs) -> None:
    try:
        answer = engine.ask(question, **kwargs)
    except QuestionError as exc:
        assert str(exc)
        assert (not question.strip() or (kwargs.get("max_quotes") or 1) < 1 or not content_words(question)
                or len(question.strip()) > engine.settings.max_question_chars), (question, exc)
        return
    assert isinstance(answer, Answer) and isinstance(answer.answer, str) and answer.answer
    assert answer.language in ("de", "en")
    assert answer.abstained == (not answer.quotes and answer.metadata is None)
    for quote in answer.quotes + answer.related:
        article = engine.article(quote.source)
        assert article.text[quote.start:quote.end] == quote.text
        assert 0 <= quote.start < quote.end <= len(article.text)


@settings(max_examples=40, **PROFILE)
@given(st.text(max_size=300))
def test_random_unicode_questions(shipped_assistant, question):
    check(shipped_assistant, question)


@settings(max_examples=5, **PROFILE)
@given(st.text(min_size=1, max_size=20), st.integers(min_value=0, max_value=3))
def test_very_long_questions(shipped_assistant, seed_text, quotes):
    question = (seed_text + " Vodafone Anteil? ") * (10_000 // (len(seed_text) + 17) + 1)
    check(shipped_assistant, question[:10_000], max_quotes=quotes or None)  # refused: too long
    check(shipped_assistant, question[:shipped_assistant.settings.max_question_chars], max_quotes=quotes or None)


@settings(max_examples=20, **PROFILE)
@given(st.text(alphabet=st.sampled_from(list(".,;:!?¿¡\"'„“”«»()[]{}-–—…/\\*#%&@ \n\t")), max_size=200))
def test_punctuation_only(shipped_assistant, question):
    check(shipped_assistant, question)


@pytest.mark.parametrize("question", ["", " ", "\n\t", "\u00a0\u2003", "\x00", "?" * 10_000, "a" * 10_000,
                                      "\ud7ff\ue000\U0010ffff", "😀" * 3000])
def test_edge_questions(shipped_assistant, question):
    check(shipped_assistant, question)
