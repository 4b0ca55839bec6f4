"""Titles: the headline, else the first sentence cut at a clause or a whole word, else the file name."""

from __future__ import annotations

import pytest

from assistant.ingest.sources import parse_article
from assistant.ingest.titles import ELLIPSIS, TITLE_MAX_CHARS, article_title, file_title, sentence_title


def test_headline_is_the_title():
    text = "Vodafone: Azure statt eigene Server\n\nVodafone migriert Zehntausende Server auf Azure."
    assert article_title(text, "de", "x.txt") == "Vodafone: Azure statt eigene Server"


def test_short_first_sentence_is_the_whole_title_without_the_next_one():
    text = ("Der Deutsche Wetterdienst meldet für Berlin am Freitag 28 Grad. Dr. Anna Weber vom DWD sagte, es "
            "werde z. B. in Potsdam bis zu 1,5 Grad wärmer.")
    assert article_title(text, "de", "wetter.txt") == "Der Deutsche Wetterdienst meldet für Berlin am Freitag 28 Grad"


def test_long_first_sentence_is_cut_after_a_clause():
    sentence = ("Die Deutsche Telekom und Microsoft haben eine Erweiterung ihrer Partnerschaft angekündigt, um die "
                "Digitalisierung von Großkunden und im Mittelstand voranzutreiben.")
    assert sentence_title(sentence, "de") == ("Die Deutsche Telekom und Microsoft haben eine Erweiterung ihrer "
                                              "Partnerschaft angekündigt" + ELLIPSIS)


@pytest.mark.parametrize("language, sentence", [
    ("en", "Vodafone and Microsoft have announced a significant 10-year strategic partnership for enhancing digital "
           "services and customer experience for over 300 million businesses, public sector entities and consumers."),
    ("de", "Der britische Vodafone-Konzern werde 1,5 Milliarden US-Dollar in KI investieren die mit den Technologien "
           "Azure OpenAI und Copilot von Microsoft entwickelt werde und Rechenzentren durch Azure-Clouddienste ersetzen."),
])
def test_cut_titles_end_in_a_whole_word(language, sentence):
    title = sentence_title(sentence, language)
    assert title.endswith(ELLIPSIS) and len(title) <= TITLE_MAX_CHARS + 1
    words = title[:-1].split()
    assert sentence.startswith(title[:-1])  # a prefix of the sentence ...
    assert sentence[len(title) - 1] in " ,"  # ... that ends where a word ends
    assert words[-1].lower() not in {"and", "for", "the", "und", "die", "mit", "in"}  # no dangling function word


def test_no_word_boundary_gives_the_file_name():
    text = "x" * 300 + "."
    assert article_title(text, "en", "reports/hafen_2024.txt") == "hafen_2024"
    assert file_title("a/b/c.md") == "c"


def test_byline_first_is_not_the_title():
    text = "By Jane Doe\n\nThe port handled 8.7 million containers in 2022, its operator said on Monday."
    article = parse_article("port.txt", text.encode())
    assert article.authors == ("Jane Doe",)
    assert article.title == "The port handled 8.7 million containers in 2022, its operator said on Monday"
