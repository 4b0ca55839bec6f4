"""Cleaning: web-page leftovers never survive, header dates and titles are read correctly."""

from __future__ import annotations

import pytest

from assistant.ingest.cleaning import clean_article_text, first_date_in_text, markdown_to_text, normalise_whitespace
from assistant.ingest.titles import headline
from conftest import GOLEM

CAPTION = "Microsoft-Chef Satya Nadella (rechts) mit Vodafones Vorstandsvorsitzende Margherita Della Valle (links)."
GOLEM_LEFTOVERS = [
    "Zum Hauptinhalt",
    "Zur Navigation",
    "öffnet im neuen Fenster",
    "Kommentare",
    "News folgen",
    "Relevante Themen",
    "Bild: Microsoft",
]


@pytest.fixture(scope="module")
def golem(shipped_sources):
    return clean_article_text((shipped_sources / GOLEM).read_text(encoding="utf-8"))


def test_golem_leftovers_never_appear_in_the_kept_text(golem):
    for leftover in GOLEM_LEFTOVERS:
        assert leftover not in golem.text, leftover
    assert golem.text.count("Satya Nadella") == 0  # the photo caption, doubled in the file
    assert CAPTION not in golem.text


def test_golem_article_text_is_kept_whole(golem):
    text = golem.text
    assert text.startswith("KI, Cloud und IoT: Vodafone schließt 1,5-Milliarden-Vertrag mit Microsoft\n\n")
    # "bekannt(öffnet im neuen Fenster) ." loses the marker and the space before the full stop.
    assert "Das gab Microsoft am 16. Januar 2024 bekannt. Der britische Vodafone-Konzern" in text
    assert "Kooperation bei KI. Vodafone verabschiedet" in text
    assert "mithilfe von Microsoft seine gemanagte Plattform" in text
    assert "das mit 65 Prozent mehrheitlich dem Vodafone-Konzern gehört." in text
    assert text.endswith("die Elfenbeinküste oder Kamerun.")
    assert golem.date is None
    assert "\n\n\n" not in text


def test_golem_caption_doubled_without_credit_is_kept_once():
    raw = (
        "Titel der Meldung\n\n"
        "Ein Foto zeigt den Hafen von Hamburg am frühen Morgen im Nebel.\n"
        "Ein Foto zeigt den Hafen von Hamburg am frühen Morgen im Nebel.\n\n"
        "Der Hafen meldet einen neuen Rekord beim Umschlag von Containern."
    )
    text = clean_article_text(raw).text
    assert text.count("Ein Foto zeigt den Hafen") == 1
    assert "neuen Rekord" in text


@pytest.mark.parametrize(
    "raw, date, start",
    [
        (" date 2024-01-16 Vodafone and Microsoft have announced", "2024-01-16", "Vodafone and Microsoft"),
        (" date 2020-12 Die Deutsche Telekom und Microsoft", "2020-12", "Die Deutsche Telekom"),
        ("date 2023-05-04\nDer Text beginnt hier.", "2023-05-04", "Der Text beginnt hier."),
        ("Kein Datum hier, date 2020-12 steht mitten im Text.", None, "Kein Datum hier"),
    ],
)
def test_date_header_is_parsed_and_removed(raw, date, start):
    cleaned = clean_article_text(raw)
    assert cleaned.date == date
    assert cleaned.text.startswith(start)
    if date:
        assert "date" not in cleaned.text.split()[0]
        assert date not in cleaned.text


def test_shipped_date_headers(shipped_sources):
    for name, date in (("001_1885b208a7ea917e.txt", "2024-01-16"), ("002_3699eb8ecc81ec22.txt", "2020-12")):
        cleaned = clean_article_text((shipped_sources / name).read_text(encoding="utf-8"))
        assert cleaned.date == date
        assert not cleaned.text.startswith(("date", " "))


def test_golem_byline_is_kept_in_the_text_and_found(golem):
    start, end = golem.byline.span
    assert golem.text[start:end] == "/ Achim Sawall"
    assert golem.byline.authors == ("Achim Sawall",)
    # between the teaser and the article, on a line of its own
    assert golem.text[:start].endswith("Vodafone verabschiedet sich von vielen eigenen Rechenzentren.\n")
    assert golem.text[end:].startswith("\n\nVodafone hat eine zehnjährige Partnerschaft")


def test_real_sentences_that_look_like_furniture_are_kept():
    raw = (
        "Kommentare von Politikern fielen nach der Wahl heftig aus.\n"
        "von hier aus sind es noch zehn Kilometer bis zur Küste.\n"
        "Share prices rose by 4 percent on Monday."
    )
    assert clean_article_text(raw).text == raw


def test_english_web_leftovers_are_removed():
    raw = (
        "Skip to main content\n\nPort of Hamburg grows\n\nThe port handled 8.7 million containers "
        "(opens in a new window) last year.\n\nRelated articles\nAdvertisement\nShare this article"
    )
    text = clean_article_text(raw).text
    assert text == "Port of Hamburg grows\n\nThe port handled 8.7 million containers last year."


def test_normalise_whitespace():
    assert normalise_whitespace("\ufeffa\u00a0b  \r\nc\r\n\r\n\r\n\r\nd  ") == "a b\nc\n\nd"
    # NFC: a decomposed umlaut becomes the composed character the index and questions use.
    assert normalise_whitespace("Mu\u0308ller") == "Müller"


def test_markdown_title_and_text():
    text, title = markdown_to_text(
        "# Port of *Hamburg* handles [record](https://example.com) cargo\n\n"
        "The **port** handled _8.7 million_ containers; see `snake_case_names` and file_name_here.\n"
        "![a crane](crane.png)\n\n## Outlook\n\nGrowth of 3.5 percent."
    )
    assert title == "Port of Hamburg handles record cargo"
    assert text.splitlines()[0] == "Port of Hamburg handles record cargo"
    assert "The port handled 8.7 million containers; see snake_case_names and file_name_here." in text
    assert "a crane" in text and "crane.png" not in text
    assert "#" not in text and "*" not in text and "](" not in text
    assert "Outlook\n\nGrowth of 3.5 percent." in text


def test_markdown_without_heading_has_no_title():
    assert markdown_to_text("Just a paragraph of text.")[1] is None


@pytest.mark.parametrize(
    "text, date",
    [
        ("Das gab Microsoft am 16. Januar 2024 bekannt.", "2024-01-16"),
        ("Berlin, 3. März 2021 - Die Regierung", "2021-03-03"),
        ("am 1.Mai 2023 wurde gestreikt", "2023-05-01"),
        ("Microsoft said on January 16, 2024 that", "2024-01-16"),
        ("published 16 January 2024 in London", "2024-01-16"),
        ("Posted 2022-11-30T10:00", "2022-11-30"),
        ("Am 31. Februar 2024 geschah nichts, am 2. März 2024 etwas.", "2024-03-02"),
        ("version 2024-13-45, then December 24, 2023", "2023-12-24"),
        ("Im Jahr 2007 gestartet, 132,6 Millionen Kunden", None),
        ("", None),
    ],
)
def test_first_date_in_text(text, date):
    assert first_date_in_text(text) == date


def test_headline():
    assert headline("Vodafone: Azure statt eigene Server\n\nText folgt.") == "Vodafone: Azure statt eigene Server"
    assert headline("Ein ganzer Satz mit Punkt.\nMehr Text.") is None
    assert headline("Nur eine Zeile ohne Rest") is None
