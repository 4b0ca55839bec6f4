""""Who wrote ...?" answered from bylines and page metadata, never from the article body."""

from __future__ import annotations

import pytest

from conftest import make_corpus

from assistant import Assistant, Settings
from assistant.answer.authorship import asks_for_author

GOLEM = "000_ce0777626153ace7.txt"


@pytest.mark.parametrize("question, expected", [
    ("Who wrote the article about the Vodafone deal?", True),
    ("Wer hat den Artikel über Vodacom geschrieben?", True),
    ("Von wem stammt der Bericht?", True),
    ("Who is the author of the report?", True),
    ("Wer ist der Autor des Artikels?", True),
    ("Wie wird Vodacom geschrieben?", False),  # spelling, not authorship
    ("Wer hat die Fußball-Weltmeisterschaft 2014 gewonnen?", False),  # "wer hat" alone is not authorship
    ("Wer hat den Vertrag unterschrieben?", False),
    ("Who won the 2014 World Cup?", False),
    ("Who is the chief executive of Vodafone?", False),
    ("Wie viele Kunden hat Vodacom?", False),
])
def test_author_questions_are_recognised(question, expected):
    assert asks_for_author(question) is expected


def test_german_author_question_quotes_the_byline_exactly(shipped_assistant):
    answer = shipped_assistant.ask("Wer hat den Golem-Artikel über den Vertrag zwischen Vodafone und Microsoft "
                                   "geschrieben?")
    assert not answer.abstained and answer.short_answer is not None
    article = shipped_assistant.article(GOLEM)
    quote = answer.quotes[0]
    assert quote.source == GOLEM and article.text[quote.start:quote.end] == quote.text == "/ Achim Sawall"
    short = answer.short_answer
    assert short.text == "Achim Sawall" == article.text[short.start:short.end] and short.quote == 1
    assert answer.answer.startswith("Achim Sawall [1]")


def test_article_without_a_byline_does_not_answer_who_wrote_it(shipped_assistant):
    answer = shipped_assistant.ask("Wer hat den Artikel über die Partnerschaft von Telekom und Microsoft geschrieben?")
    assert answer.abstained and not answer.quotes


def test_bylines_are_never_quoted_for_other_questions(shipped_assistant):
    article = shipped_assistant.article(GOLEM)
    start, end = article.byline
    for question in ("Who is Achim Sawall?", "Was hat Achim Sawall berichtet?", "Vodafone Microsoft Vertrag"):
        answer = shipped_assistant.ask(question)
        for quote in answer.quotes + answer.related:
            assert quote.source != GOLEM or quote.end <= start or quote.start >= end, question


def test_html_author_from_metadata_is_cited_as_metadata(tmp_path, embedder):
    page = ("<html><head><title>Port record</title><meta name='author' content='Jane Doe'></head><body><article>"
            "<h1>Port record</h1><p>The Port of Hamburg handled 8.7 million containers in 2022, its operator "
            "said on Monday.</p><p>A new rail link to the port is planned to open in 2026.</p></article></body></html>")
    sources = make_corpus(tmp_path / "sources", {"port.html": page})
    assistant = Assistant(settings=Settings().with_paths(sources, tmp_path / "index"), update=True, embedder=embedder)
    answer = assistant.ask("Who wrote the article about the port record?")
    assert not answer.abstained and not answer.quotes
    assert answer.metadata is not None and answer.metadata.value == ("Jane Doe",)
    assert "Jane Doe" in answer.answer and "metadata" in answer.answer
