"""answer_question on the shipped articles: right quotes, exact spans, abstention, errors."""

from __future__ import annotations

import pytest

from assistant.answer import ABSTAIN, FRAMING, QuestionError, answer_question

GOLEM, ENGLISH, TELEKOM = "000_ce0777626153ace7.txt", "001_1885b208a7ea917e.txt", "002_3699eb8ecc81ec22.txt"


def check_quotes(engine, answer) -> None:
    """Every quote (and related quote) is an exact span of its article, with its metadata."""
    for q in [*answer.quotes, *answer.related]:
        article = engine.article(q.source)
        assert article["text"][q.start:q.end] == q.text
        assert q.text.strip() == q.text and q.text
        assert q.title == article["title"] and q.date == article.get("date")
    assert [q.number for q in answer.quotes] == list(range(1, len(answer.quotes) + 1))


def ask(engine, question, **kwargs):
    answer = answer_question(engine, question, **kwargs)
    check_quotes(engine, answer)
    return answer


def describe(answer) -> list[tuple]:
    return [(q.source[:3], q.score, q.text[:90]) for q in answer.quotes or answer.related]


def test_english_question_answered_only_by_the_german_article(shipped_engine):
    answer = ask(shipped_engine, "What share of Vodacom does Vodafone own?")
    assert not answer.abstained and answer.language == "en"
    assert answer.quotes[0].source == GOLEM and "65 Prozent" in answer.quotes[0].text, describe(answer)
    assert answer.answer.startswith(FRAMING["en"])


@pytest.mark.parametrize(
    "question, needle",
    [
        ("Wie viele Kunden hat Vodacom?", "132,6 Millionen"),
        ("Wann wurde M-Pesa gestartet?", "2007"),
        ("Wer ist die Berliner Datenschutzbeauftragte?", "Maja Smoltczyk"),
    ],
)
def test_german_questions(shipped_engine, question, needle):
    answer = ask(shipped_engine, question)
    assert not answer.abstained and answer.language == "de"
    assert any(needle in q.text for q in answer.quotes), describe(answer)
    assert answer.answer.startswith(FRAMING["de"])
    assert "Quellen:" in answer.answer


def test_english_question_answered_by_the_english_article(shipped_engine):
    answer = ask(shipped_engine, "How much is Vodafone investing?")
    assert not answer.abstained and answer.language == "en"
    assert any(q.source == ENGLISH and "$1.5 billion" in q.text for q in answer.quotes), describe(answer)


@pytest.mark.parametrize(
    "question, language",
    [("Wie hoch ist der Eiffelturm?", "de"), ("Who won the 2018 World Cup?", "en")],
)
def test_unanswerable_questions_abstain_in_the_question_language(shipped_engine, question, language):
    answer = ask(shipped_engine, question)
    assert answer.language == language
    assert answer.abstained, describe(answer)
    assert answer.quotes == []
    assert answer.answer == ABSTAIN[language]


def test_answer_text_quotes_and_cites(shipped_engine):
    answer = ask(shipped_engine, "Wie viele Kunden hat Vodacom?")
    for q in answer.quotes:
        assert f'[{q.number}] "{q.text}"' in answer.answer
        assert f"({q.source}, Zeichen {q.start}-{q.end})" in answer.answer
    assert 1 <= len(answer.quotes) <= shipped_engine.settings.max_quotes
    assert len({q.text for q in answer.quotes}) == len(answer.quotes)


def test_max_quotes(shipped_engine):
    one = ask(shipped_engine, "Wann wurde M-Pesa gestartet?", max_quotes=1)
    assert len(one.quotes) == 1
    with pytest.raises(QuestionError):
        answer_question(shipped_engine, "Wann wurde M-Pesa gestartet?", max_quotes=0)


def test_files_filter(shipped_engine):
    answer = ask(shipped_engine, "Welche Partnerschaft hat Microsoft geschlossen?", files=[TELEKOM])
    assert {q.source for q in answer.quotes + answer.related} == {TELEKOM}
    english_only = ask(shipped_engine, "What share of Vodacom does Vodafone own?", files=[ENGLISH])
    assert all(q.source == ENGLISH for q in english_only.quotes + english_only.related)
    assert not any("65 Prozent" in q.text for q in english_only.quotes)


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", None])
def test_empty_question_raises(shipped_engine, question):
    with pytest.raises(QuestionError):
        answer_question(shipped_engine, question)


def test_very_long_question_is_handled(shipped_engine):
    question = ("Wie viele Kunden hat Vodacom in Afrika? " * 300)[:10_000]
    answer = ask(shipped_engine, question)
    assert answer.abstained or any("132,6" in q.text for q in answer.quotes)


def test_to_dict_is_json_ready(shipped_engine):
    import json

    data = json.loads(json.dumps(ask(shipped_engine, "Wann wurde M-Pesa gestartet?").to_dict()))
    assert {"question", "answer", "abstained", "language", "quotes", "related"} <= set(data)
    for q in data["quotes"]:
        assert {"text", "source", "start", "end", "score"} <= set(q)


def test_a_german_and_an_english_report_of_the_same_fact_are_both_quoted(shipped_engine):
    answer = ask(shipped_engine, "How long is the partnership between Vodafone and Microsoft?")
    assert not answer.abstained
    sources = [q.source for q in answer.quotes]
    assert sources[0] == ENGLISH and "10-year" in answer.quotes[0].text, describe(answer)
    assert any(q.source == GOLEM and "zehnjährige" in q.text for q in answer.quotes), describe(answer)


def _candidates_in_one_passage(engine):
    """Three consecutive sentences of one passage of the shipped index, as quote candidates."""
    from assistant.answer import _Candidate

    rows = engine.data.sentences
    first = next(i for i in range(len(rows) - 2) if rows[i][0] == rows[i + 2][0])
    return [_Candidate(i, int(rows[i][1]), int(rows[i][2]), int(rows[i][3]), 1.0) for i in range(first, first + 3)]


def test_tied_neighbouring_sentences_are_quoted_as_one_exact_span(shipped_engine):
    from dataclasses import replace

    from assistant.answer import NEIGHBOUR_TIE_MARGIN, _join_tied_neighbours

    a, b, c = _candidates_in_one_passage(shipped_engine)
    text = shipped_engine.data.articles[a.article_id]["text"]
    tied = [replace(b, score=1.0), replace(a, score=1.0 - NEIGHBOUR_TIE_MARGIN / 2), c]
    joined = _join_tied_neighbours(shipped_engine, tied)
    assert len(joined) == 2 and joined[1] is c
    assert (joined[0].start, joined[0].end, joined[0].score) == (a.start, b.end, 1.0)
    assert text[joined[0].start:joined[0].end].startswith(text[a.start:a.end])
    # Not close enough, or not neighbours: left as they are.
    apart = [b, replace(a, score=1.0 - 2 * NEIGHBOUR_TIE_MARGIN), c]
    assert _join_tied_neighbours(shipped_engine, apart) == apart
    not_neighbours = [a, c, b]
    assert _join_tied_neighbours(shipped_engine, not_neighbours) == not_neighbours
