"""answer_question on the shipped articles: right quotes, exact spans, abstention, errors."""

from __future__ import annotations

import pytest

from assistant import QuestionError
from assistant.answer.render import ABSTAIN, FRAMING, quote_line

GOLEM, ENGLISH, TELEKOM = "000_ce0777626153ace7.txt", "001_1885b208a7ea917e.txt", "002_3699eb8ecc81ec22.txt"


def check_quotes(engine, answer) -> None:
    """Every quote (and related quote) is an exact span of its article, with its metadata."""
    for q in [*answer.quotes, *answer.related]:
        article = engine.article(q.source)
        assert article.text[q.start:q.end] == q.text
        assert q.text.strip() == q.text and q.text
        assert q.title == article.title and q.date == article.date
    assert [q.number for q in answer.quotes] == list(range(1, len(answer.quotes) + 1))


def ask(engine, question, **kwargs):
    answer = engine.ask(question, **kwargs)
    check_quotes(engine, answer)
    return answer


def assert_framed(answer, language: str) -> None:
    """The answer text opens with the short answer's line (when there is one), then the framing."""
    lines = answer.answer.split("\n")
    if answer.short_answer is not None:
        assert lines[0].startswith(f"{answer.short_answer.text} [{answer.short_answer.quote}]") and lines[1] == ""
        lines = lines[2:]
    assert lines[0] == FRAMING[language], answer.answer


def describe(answer) -> list[tuple]:
    return [(q.source[:3], q.score, q.text[:90]) for q in answer.quotes or answer.related]


def test_english_question_answered_only_by_the_german_article(shipped_assistant):
    answer = ask(shipped_assistant, "What share of Vodacom does Vodafone own?")
    assert not answer.abstained and answer.language == "en"
    assert all(q.source == GOLEM for q in answer.quotes), describe(answer)
    assert any("65 Prozent" in q.text for q in answer.quotes), describe(answer)
    # Across languages the reader is unsure which figure answers (it was trained on English and
    # German pairs only, not mixed): it shows no short answer rather than a wrong one. A known miss,
    # held by the strict xfail of test_short_answer_is_an_exact_span_inside_the_quote_it_cites: when
    # the model learns it, both tests turn red together.
    assert answer.short_answer is None, answer.short_answer
    assert_framed(answer, "en")


@pytest.mark.parametrize(
    "question, needle",
    [
        ("Wie viele Kunden hat Vodacom?", "132,6 Millionen"),
        ("Wann wurde M-Pesa gestartet?", "2007"),
        ("Wer ist die Berliner Datenschutzbeauftragte?", "Maja Smoltczyk"),
    ],
)
def test_german_questions(shipped_assistant, question, needle):
    answer = ask(shipped_assistant, question)
    assert not answer.abstained and answer.language == "de"
    assert any(needle in q.text for q in answer.quotes), describe(answer)
    assert_framed(answer, "de")
    assert "Quellen:" in answer.answer


def test_english_question_answered_by_the_english_article(shipped_assistant):
    answer = ask(shipped_assistant, "How much is Vodafone investing?")
    assert not answer.abstained and answer.language == "en"
    assert any(q.source == ENGLISH and "$1.5 billion" in q.text for q in answer.quotes), describe(answer)


@pytest.mark.parametrize(
    "question, language",
    [("Wie hoch ist der Eiffelturm?", "de"), ("Who won the 2018 World Cup?", "en")],
)
def test_unanswerable_questions_abstain_in_the_question_language(shipped_assistant, question, language):
    answer = ask(shipped_assistant, question)
    assert answer.language == language
    assert answer.abstained, describe(answer)
    assert answer.quotes == []
    assert answer.answer == ABSTAIN[language]


def test_answer_text_quotes_and_cites(shipped_assistant):
    answer = ask(shipped_assistant, "Wie viele Kunden hat Vodacom?")
    for q in answer.quotes:
        assert quote_line(q) in answer.answer
        assert f"({q.source}, Zeichen {q.start}-{q.end})" in answer.answer
    assert 1 <= len(answer.quotes) <= shipped_assistant.settings.max_quotes
    assert len({q.text for q in answer.quotes}) == len(answer.quotes)


def test_max_quotes(shipped_assistant):
    one = ask(shipped_assistant, "Wann wurde M-Pesa gestartet?", max_quotes=1)
    assert len(one.quotes) == 1
    with pytest.raises(QuestionError):
        shipped_assistant.ask("Wann wurde M-Pesa gestartet?", max_quotes=0)


def test_files_filter(shipped_assistant):
    answer = ask(shipped_assistant, "Welche Partnerschaft hat Microsoft geschlossen?", files=[TELEKOM])
    assert {q.source for q in answer.quotes + answer.related} == {TELEKOM}
    english_only = ask(shipped_assistant, "What share of Vodacom does Vodafone own?", files=[ENGLISH])
    assert all(q.source == ENGLISH for q in english_only.quotes + english_only.related)
    assert not any("65 Prozent" in q.text for q in english_only.quotes)


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", None])
def test_empty_question_raises(shipped_assistant, question):
    with pytest.raises(QuestionError):
        shipped_assistant.ask(question)


def test_very_long_question_is_refused_not_cut(shipped_assistant):
    from assistant.answer.question import QuestionTooLong

    question = ("Wie viele Kunden hat Vodacom in Afrika? " * 300)[:10_000]
    with pytest.raises(QuestionTooLong, match="at most 2,000"):
        shipped_assistant.ask(question)
    answer = ask(shipped_assistant, question[:shipped_assistant.settings.max_question_chars])
    assert not answer.abstained and "132,6" in answer.quotes[0].text, describe(answer)


@pytest.mark.parametrize("question", ["😀🎉", '" OR 1=1 --', "$(id)", "?!", "Wer ist es?"])
def test_questions_without_content_words_are_refused(shipped_assistant, question):
    with pytest.raises(QuestionError, match="no words to search for"):
        shipped_assistant.ask(question)


def test_to_dict_is_json_ready(shipped_assistant):
    import json

    data = json.loads(json.dumps(ask(shipped_assistant, "Wann wurde M-Pesa gestartet?").to_dict()))
    assert {"question", "answer", "abstained", "language", "quotes", "related"} <= set(data)
    for q in data["quotes"]:
        assert {"text", "source", "start", "end", "score"} <= set(q)


@pytest.mark.xfail(strict=True, reason="similarity alone (answer model off) quotes the German article's sentence "
                   "about the $1.5 billion, not the one with 'zehnjährige', since index format 5 dropped late "
                   "interaction (its refitted first quote on the development split is unchanged, 0.717)")
def test_a_german_and_an_english_report_of_the_same_fact_are_both_quoted(assistants):
    # similarity alone keeps a close runner-up from another article (selection.close_support); the
    # answer model quotes a second report only when it is among the sentences it reads
    answer = ask(assistants["off"], "How long is the partnership between Vodafone and Microsoft?")
    assert not answer.abstained
    assert any(q.source == ENGLISH and "10-year" in q.text for q in answer.quotes[:2]), describe(answer)
    assert any(q.source == GOLEM and "zehnjährige" in q.text for q in answer.quotes[:2]), describe(answer)


def _candidates_in_one_passage(snapshot):
    """Three consecutive sentences of one passage of the shipped index, as quote candidates."""
    from assistant.answer.candidates import Candidate

    view = snapshot.view
    passage = next(p for p in range(view.passage_count) if len(view.sentences_of([p])) >= 3)
    return [Candidate(s.id, s.passage_id, s.article_id, s.start, s.end, 1.0) for s in list(view.sentences_of([passage]))[:3]]


def test_tied_neighbouring_sentences_are_quoted_as_one_exact_span(shipped_assistant):
    from dataclasses import replace

    from assistant.answer.selection import join_tied_neighbours

    snapshot = shipped_assistant.snapshot
    margin = snapshot.settings.neighbour_tie_margin
    a, b, c = _candidates_in_one_passage(snapshot)
    text = snapshot.view.articles[a.article_id].text
    tied = [replace(b, score=1.0), replace(a, score=1.0 - margin / 2), c]
    joined = join_tied_neighbours(tied, margin)
    assert len(joined) == 2 and joined[1] is c
    assert (joined[0].start, joined[0].end, joined[0].score) == (a.start, b.end, 1.0)
    assert text[joined[0].start:joined[0].end].startswith(text[a.start:a.end])
    # Not close enough, or not neighbours: left as they are.
    apart = [b, replace(a, score=1.0 - 2 * margin), c]
    assert join_tied_neighbours(apart, margin) == apart
    not_neighbours = [a, c, b]
    assert join_tied_neighbours(not_neighbours, margin) == not_neighbours


# --------------------------------------------------------------------------- the reader (answer/reading.py)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("How much is Vodafone investing in cloud and AI services over the next decade?", "$1.5 billion"),
        # a known miss: the right German sentence is quoted first, but the model does not read
        # "share" as "Prozent" across languages and finds no sure span (model card: limits)
        pytest.param("What share of Vodacom does Vodafone own?", "65 Prozent", marks=pytest.mark.xfail(strict=True)),
        ("Wie heißt die Berliner Datenschutzbeauftragte?", "Maja Smoltczyk"),
        ("How many SMEs in Europe does Vodafone target with Microsoft's services?", "24 million"),
    ],
)
def test_short_answer_is_an_exact_span_inside_the_quote_it_cites(shipped_assistant, question, expected):
    answer = ask(shipped_assistant, question)
    short = answer.short_answer
    assert short is not None and expected in short.text, (short, describe(answer))
    cited = answer.quotes[short.quote - 1]
    assert short.source == cited.source and cited.start <= short.start < short.end <= cited.end
    assert len(short.text) < len(cited.text)  # shorter than the sentence it comes from
    assert shipped_assistant.article(short.source).text[short.start:short.end] == short.text
    assert answer.answer.startswith(f"{short.text} [{short.quote}]")  # the answer comes first


@pytest.fixture(scope="module")
def assistants(shipped_settings, embedder):
    """The shipped index read with the answer model (the default) and without it."""
    from dataclasses import replace

    from assistant import Assistant

    def open_with(**changes):
        return Assistant(settings=replace(shipped_settings, **changes), update=True, embedder=embedder)

    return {"off": open_with(reader=False), "on": open_with(reader=True)}


def test_without_the_answer_model_there_is_no_short_answer(assistants):
    question = "How much is Vodafone investing in cloud and AI services over the next decade?"
    plain, read = ask(assistants["off"], question), ask(assistants["on"], question)
    assert assistants["off"].reader is None and plain.short_answer is None
    assert read.short_answer is not None and read.short_answer.text == "$1.5 billion"
    # read with the question, the article's own "The carrier is investing $1.5 billion ..." comes
    # first, not a sentence about Microsoft's investment
    assert "$1.5 billion" in read.quotes[0].text, describe(read)


def test_the_answer_model_puts_the_answering_sentence_first(assistants):
    # The lead sentence about the partnership ranks high by similarity; read with the question,
    # the sentence holding the figure is the one that answers.
    answer = ask(assistants["on"], "Wie viele Kunden versorgt Vodacom nach eigenen Angaben?")
    assert "132,6 Millionen" in answer.quotes[0].text, describe(answer)


def test_quotes_are_ordered_by_the_answer_models_probability(shipped_assistant):
    answer = ask(shipped_assistant, "Wie viele Kunden hat Vodacom?")
    scores = [q.score for q in answer.quotes]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    keep = shipped_assistant.settings.reader_policy.keep_share
    assert all(s >= keep * scores[0] for s in scores[1:])  # no filler quotes far below the first


@pytest.mark.parametrize(
    "question",
    [
        "Wie viele Mitarbeiter hat Vodafone in Deutschland?",
        "How many employees does Vodafone have in Germany?",
        "Wie hoch ist der Umsatz von Vodafone?",
        "Wann hat Apple Vodafone übernommen?",
        # the model is sure that "Der T-System-Chef betonte, ..." answers it: a job title, not a name
        "Who is the CEO of Deutsche Telekom?",
        "Wie hoch war der Umsatz der Deutschen Telekom im Jahr 2020?",
        "Wie viele Kunden hat Vodafone in Deutschland?",
    ],
)
def test_near_misses_about_the_shipped_articles_get_no_short_answer(shipped_assistant, question):
    answer = ask(shipped_assistant, question)
    assert answer.short_answer is None, (answer.short_answer, describe(answer))


def test_a_refusal_shows_the_closest_sentences_but_no_headline_that_repeats_its_title(shipped_assistant):
    answer = ask(shipped_assistant, "Was kostet ein iPhone 15?")
    assert answer.abstained and not answer.quotes and answer.short_answer is None
    assert 1 < len(answer.related) <= shipped_assistant.settings.max_quotes, describe(answer)
    for q in answer.related:
        assert q.text.rstrip(".") != q.title.rstrip("."), describe(answer)
        assert shipped_assistant.article(q.source).text[q.start:q.end] == q.text


def test_a_headline_that_only_repeats_its_title_is_never_a_further_quote(shipped_assistant):
    # "KI, Cloud und IoT: Vodafone schließt 1,5-Milliarden-Vertrag mit Microsoft" is the Golem
    # article's title: as quote [3] it only repeated the citation beside it
    answer = ask(shipped_assistant, "Wie lange läuft die Partnerschaft von Vodafone und Microsoft?")
    assert not answer.abstained and "zehnjährige" in answer.quotes[0].text, describe(answer)
    for q in answer.quotes[1:]:
        assert q.text.rstrip(".") != q.title.rstrip("."), describe(answer)


@pytest.mark.parametrize("question, answer, fits", [
    ("Who is the CEO of Deutsche Telekom?", "T-System-Chef", False),
    ("Wer ist Chef von T-Systems?", "Adel Al-Saleh", True),
    ("Wer leitet Vodafone?", "Vorstandsvorsitzende", False),
    ("Who runs Microsoft?", "Microsoft CEO", False),
    ("Who runs Microsoft?", "Satya Nadella", True),
    ("Wer ist die Berliner Datenschutzbeauftragte?", "Maja Smoltczyk", True),
])
def test_who_is_answered_by_a_name_not_a_job_title(question, answer, fits):
    from assistant.answer.scoring import fits_the_question

    assert fits_the_question(question, answer) is fits


def test_a_when_question_without_any_time_in_the_sentences_read_is_refused(shipped_assistant):
    # the sentences about the Telekom hold no year: the model finds no span of the kind asked
    answer = ask(shipped_assistant, "Wann wurde die Deutsche Telekom gegründet?")
    assert answer.abstained and answer.short_answer is None, describe(answer)


@pytest.mark.parametrize("count", [0, -1, 11, 2.0, True, "3"])
def test_the_number_of_quotes_is_one_rule_everywhere(shipped_assistant, count):
    """Python's ask() (and so the CLI's -k and the evaluation) refuses what the warm server and
    the /chat API refuse: anything but a whole number from 1 to max_quotes_limit, never cut."""
    from assistant.answer.types import QuestionError

    with pytest.raises(QuestionError, match="the number of quotes must be a whole number from 1 to 10"):
        shipped_assistant.ask("Wie viele Kunden hat Vodacom?", max_quotes=count)
    assert len(shipped_assistant.ask("Wie viele Kunden hat Vodacom?", max_quotes=10).quotes) <= 10
