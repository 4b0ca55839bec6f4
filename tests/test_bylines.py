"""Bylines: found in German and English text, Markdown and HTML, kept in the text as an exact
span, recorded as authors, and never part of a passage (so never quoted for other questions)."""

from __future__ import annotations

import pytest

from assistant.ingest.bylines import find_byline, parse_byline
from assistant.ingest.passages import build_passages
from assistant.ingest.sources import parse_article

GERMAN_TEXT = """Reifenhändler meldet Rekordumsatz

Von Max Mustermann und Erika Musterfrau

Der Hamburger Reifenhändler Rundlauf hat im ersten Quartal so viel verkauft wie nie zuvor. Der Umsatz stieg um 12 Prozent auf 48 Millionen Euro, teilte das Unternehmen am Dienstag mit.

Für das Gesamtjahr erwartet Firmenchefin Jana Berg einen Umsatz von mehr als 180 Millionen Euro.
"""

ENGLISH_MARKDOWN = """# Port of Hamburg handles record cargo

*Published 2025-05-20 · By Staff Reporter*

The Port of Hamburg handled 8.7 million containers in 2022, its operator said on Monday. Mr. Jens Meier, the port's CEO, expects growth of 3.5 percent next year.

A new rail link to the port is planned to open in 2026.
"""

ENGLISH_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Port of Hamburg handles record cargo - The Example Times</title>
<meta name="author" content="Jane Doe">
<link rel="canonical" href="https://example.com/business/port-record">
<meta property="article:published_time" content="2025-05-20"></head>
<body><nav><a href="/">Home</a> <a href="/business">Business</a></nav>
<article><h1>Port of Hamburg handles record cargo</h1>
<div class="byline">By <a rel="author" href="/staff/jane-doe">Jane Doe</a> | May 20, 2025</div>
<p>The Port of Hamburg handled 8.7 million containers in 2022, its operator said on Monday.</p>
<p>Mr. Jens Meier, the port's CEO, expects growth of 3.5 percent next year. A new rail link to the port is planned to open in 2026.</p>
</article></body></html>"""

GERMAN_HTML_WITH_BYLINE_PARAGRAPH = """<html lang="de"><head><title>Hafen meldet Rekord</title></head><body><article>
<h1>Hafen meldet Rekord</h1>
<p>Von Max Mustermann</p>
<p>Der Hamburger Hafen hat im vergangenen Jahr 8,7 Millionen Container umgeschlagen, teilte der Betreiber am Montag mit.</p>
<p>Für das kommende Jahr erwartet Hafenchef Jens Meier ein Wachstum von 3,5 Prozent.</p>
</article></body></html>"""


def byline_text(article) -> str:
    start, end = article.byline
    return article.text[start:end]


def assert_never_in_passages(article) -> None:
    start, end = article.byline
    for p in build_passages(article.text, article.language, skip=article.unquotable):
        assert p.end <= start or p.start >= end, article.text[p.start:p.end]
        for s, e in p.sentences:
            assert e <= start or s >= end


@pytest.mark.parametrize(
    "line, authors, date",
    [
        ("/ Achim Sawall", ("Achim Sawall",), None),  # Golem
        ("Von Max Mustermann", ("Max Mustermann",), None),
        ("Von Max Mustermann und Erika Musterfrau", ("Max Mustermann", "Erika Musterfrau"), None),
        ("Von Ursula von der Leyen", ("Ursula von der Leyen",), None),
        ("Von Max Mustermann, dpa", ("Max Mustermann", "dpa"), None),
        ("Autorin: Erika Musterfrau", ("Erika Musterfrau",), None),
        ("Von Max Mustermann | 20.05.2025, 10:15 Uhr", ("Max Mustermann",), "2025-05-20"),
        ("Aktualisiert am 20. Mai 2025 · Von Jean-Philippe Courtois", ("Jean-Philippe Courtois",), "2025-05-20"),
        ("By Jane Doe", ("Jane Doe",), None),
        ("By Jane Doe, John Roe and Ann Lee", ("Jane Doe", "John Roe", "Ann Lee"), None),
        ("By Jane Doe, May 20, 2025", ("Jane Doe",), "2025-05-20"),
        ("Published 2025-05-20 · By Staff Reporter", ("Staff Reporter",), "2025-05-20"),
        ("By Reuters", ("Reuters",), None),
    ],
)
def test_byline_lines(line, authors, date):
    assert parse_byline(line) == (authors, date)


@pytest.mark.parametrize(
    "line",
    [
        "By Monday the port will reopen.",
        "By 2030, Vodafone wants to double its capacity.",
        "By Jane's account, the talks went well.",
        "By The Numbers",
        "By Land and Sea",
        "By Jane",  # a first name alone is not enough to be sure
        "Von Berlin aus fährt der Zug weiter nach Hamburg.",
        "von hier aus sind es noch zehn Kilometer bis zur Küste.",
        "Von Montag an",
        "Von Microsoft zu Google",
        "Von A bis Z",
        "Published 2025-05-20",  # a date without an author
        "Von " + "Max Mustermann, " * 12 + "Erika Musterfrau",  # too long for a byline
    ],
)
def test_prose_is_not_a_byline(line):
    assert parse_byline(line) is None
    assert find_byline(f"Überschrift\n\n{line}\n\nText der Meldung.") is None


def test_german_text_byline_is_kept_as_a_span_and_left_out_of_passages():
    article = parse_article("reifen.txt", GERMAN_TEXT.encode())
    assert article.authors == ("Max Mustermann", "Erika Musterfrau")
    assert byline_text(article) == "Von Max Mustermann und Erika Musterfrau"
    assert article.title == "Reifenhändler meldet Rekordumsatz"
    assert all(name in byline_text(article) for name in article.authors)
    assert_never_in_passages(article)
    # the headline before the byline is not joined to the text after it
    first = build_passages(article.text, article.language, skip=article.unquotable)[0]
    assert article.text[first.start:first.end] == "Reifenhändler meldet Rekordumsatz"


def test_english_markdown_byline_with_date():
    article = parse_article("port.md", ENGLISH_MARKDOWN.encode())
    assert article.title == "Port of Hamburg handles record cargo"
    assert byline_text(article) == "Published 2025-05-20 · By Staff Reporter"  # emphasis marks gone
    assert article.authors == ("Staff Reporter",) and article.date == "2025-05-20"
    assert_never_in_passages(article)
    sentences = [article.text[s:e] for p in build_passages(article.text, "en", skip=article.unquotable)
                 for s, e in p.sentences]
    assert not any("Staff Reporter" in s for s in sentences)
    assert "A new rail link to the port is planned to open in 2026." in sentences


def test_golem_style_byline_under_the_teaser():
    text = ("Vodafone schließt Vertrag mit Microsoft\n\n"
            "Vodafone verabschiedet sich von vielen eigenen Rechenzentren.\n/ Achim Sawall\n"
            "Kommentare News folgen\n\n"
            "Vodafone hat eine zehnjährige Partnerschaft mit Microsoft vereinbart.")
    article = parse_article("golem.txt", text.encode())
    assert byline_text(article) == "/ Achim Sawall" and article.authors == ("Achim Sawall",)
    assert "Kommentare" not in article.text
    assert_never_in_passages(article)


def test_html_author_and_url_come_from_the_page_metadata():
    article = parse_article("port.html", ENGLISH_HTML.encode())
    assert article.authors == ("Jane Doe",)
    assert article.url == "https://example.com/business/port-record"
    assert article.date == "2025-05-20" and article.title == "Port of Hamburg handles record cargo"
    # trafilatura drops the byline element, so there is no span to quote: cite the metadata
    assert article.byline is None and "By Jane Doe" not in article.text
    assert "8.7 million containers" in article.text


def test_html_byline_paragraph_that_survives_extraction_is_a_span():
    article = parse_article("hafen.html", GERMAN_HTML_WITH_BYLINE_PARAGRAPH.encode())
    assert article.authors == ("Max Mustermann",)
    assert byline_text(article) == "Von Max Mustermann"
    assert_never_in_passages(article)


def test_only_the_first_byline_counts_and_a_later_one_stays_text():
    text = "Titel der Meldung\nVon Max Mustermann\nDer Text beginnt hier und geht weiter.\nVon Erika Musterfrau"
    article = parse_article("x.txt", text.encode())
    assert article.authors == ("Max Mustermann",)
    assert article.text.endswith("Von Erika Musterfrau")


def test_source_line_gives_the_url_and_leaves_the_text():
    text = ("Hafen meldet Rekord\n\nDer Hamburger Hafen hat 8,7 Millionen Container umgeschlagen.\n\n"
            "Quelle: https://www.example.de/hafen-rekord.html")
    article = parse_article("hafen.txt", text.encode())
    assert article.url == "https://www.example.de/hafen-rekord.html"
    assert "https://" not in article.text and "Quelle" not in article.text
