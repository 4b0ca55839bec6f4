"""Ads, newsletter boxes and "more on this topic" lists leave the article (German and English;
HTML, text and Markdown); sentences that only mention advertising stay."""

from __future__ import annotations

import pytest

from assistant.ingest.boilerplate import drop_boilerplate, is_furniture
from assistant.ingest.sources import parse_article

GERMAN_HTML = """<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>Reifenhändler meldet Rekordumsatz | Beispielzeitung</title>
<meta name="author" content="Max Mustermann">
<meta property="og:url" content="https://www.beispielzeitung.de/wirtschaft/reifen-rekord-123.html">
<meta property="article:published_time" content="2025-05-20T08:30:00+02:00"></head>
<body><header><nav><a href="/">Startseite</a> <a href="/wirtschaft">Wirtschaft</a></nav></header>
<div class="cookie-banner">Wir verwenden Cookies. <button>Akzeptieren</button></div>
<main><article>
<h1>Reifenhändler meldet Rekordumsatz</h1>
<p>Der Hamburger Reifenhändler Rundlauf hat im ersten Quartal so viel verkauft wie nie zuvor.</p>
<p>Der Umsatz stieg um 12 Prozent auf 48 Millionen Euro, teilte das Unternehmen am Dienstag mit.</p>
<p>ANZEIGE – Jetzt Sommerreifen bestellen und 20 % sparen!</p>
<div class="ad"><p>Ganzjahresreifen ab 49 Euro – nur diese Woche</p></div>
<figure><img src="lager.jpg"><figcaption>Das Lager in Hamburg-Billbrook. Foto: dpa</figcaption></figure>
<p>Die Werbung im Fernsehen habe sich ausgezahlt, sagte Firmenchefin Jana Berg.</p>
<div class="newsletter"><p>Newsletter abonnieren</p><p>Die wichtigsten Wirtschaftsnachrichten jeden Morgen.</p></div>
<p>Lesen Sie auch: <a href="/x">Autohändler klagen über schwache Nachfrage</a></p>
<p>Für das Gesamtjahr erwartet Berg einen Umsatz von mehr als 180 Millionen Euro.</p>
<section class="related"><h2>Mehr zum Thema</h2><ul><li><a href="/a">Reifenpreise steigen weiter</a></li></ul></section>
</article></main><footer>Impressum Datenschutz</footer><script>var slot = "Anzeige";</script>
</body></html>"""

ENGLISH_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Port of Hamburg handles record cargo</title></head>
<body><article><h1>Port of Hamburg handles record cargo</h1>
<p>The Port of Hamburg handled 8.7 million containers in 2022, its operator said on Monday.</p>
<div class="advertisement">Advertisement</div>
<p>Sponsored: Save 30% on cruise tickets this summer!</p>
<p>Advertising revenue at the port's visitor centre rose by 5 percent.</p>
<aside class="newsletter"><h3>Sign up for our newsletter</h3></aside>
<p>Read more: <a href="/x">Rotterdam loses market share</a></p>
<p>A new rail link to the port is planned to open in 2026.</p>
</article></body></html>"""

GERMAN_TEXT = """Reifenhändler meldet Rekordumsatz

Der Hamburger Reifenhändler Rundlauf hat im ersten Quartal so viel verkauft wie nie zuvor.
ANZEIGE – Jetzt Sommerreifen bestellen und 20 % sparen!
Die Werbung im Fernsehen habe sich ausgezahlt, sagte Firmenchefin Jana Berg.

Anzeige

Werbung: Die Einnahmen der Verlage sinken

Jetzt zum Newsletter anmelden!
Werbung ist für Verlage die wichtigste Einnahmequelle, sagte Berg.

Mehr zum Thema
Reifenpreise steigen weiter
Winterreifenpflicht: Was gilt?

Für das Gesamtjahr erwartet Berg einen Umsatz von mehr als 180 Millionen Euro.
"""

ENGLISH_MARKDOWN = """# Port of Hamburg handles record cargo

The Port of Hamburg handled 8.7 million containers in 2022, its operator said on Monday.

**Advertisement**

*Sponsored content*

Sign up for our newsletter

Advertising revenue at the port's visitor centre rose by 5 percent.

Sponsored by the city, the port festival drew 10,000 visitors.

## More on this topic

- [Shipping rates fall](https://example.com/1)
- [Dockworkers strike](https://example.com/2)

A new rail link to the port is planned to open in 2026.
"""

ADS = ["ANZEIGE", "Anzeige", "Werbung", "Advertisement", "Sponsored", "Sponsored content", "Gesponsert", "(Anzeige)"]


def assert_gone(text: str, *pieces: str) -> None:
    for piece in pieces:
        assert piece not in text, piece


@pytest.mark.parametrize("line", ADS + [
    "ANZEIGE – Jetzt Sommerreifen bestellen und 20 % sparen!",
    "Anzeige: Jetzt Sommerreifen bestellen",
    "(Werbung) Die besten Angebote der Woche",
    "Sponsored: Save 30% on cruise tickets this summer!",
    "Jetzt Sommerreifen bestellen und 20 % sparen!",
    "Newsletter abonnieren",
    "Jetzt Newsletter abonnieren",
    "Jetzt zum Newsletter anmelden!",
    "Sign up for our newsletter",
    "Subscribe to our daily business newsletter",
    "Order now and save 20%!",
])
def test_ad_and_newsletter_lines(line):
    assert is_furniture(line)


@pytest.mark.parametrize("line", [
    "Die Werbung im Fernsehen habe sich ausgezahlt, sagte Firmenchefin Jana Berg.",
    "Werbung ist für Verlage die wichtigste Einnahmequelle.",
    "Werbung: Die Einnahmen der Verlage sinken",  # a sub-heading about advertising
    "Anzeige gegen Unbekannt wurde am Montag erstattet.",
    "Jetzt können Kunden auch online bestellen.",
    "Der Newsletter des Verlags hat 20.000 Abonnenten.",
    "Advertising revenue at the port's visitor centre rose by 5 percent.",
    "Sponsored by the city, the port festival drew 10,000 visitors.",
    "Ad revenue fell by a third.",
])
def test_sentences_that_mention_advertising_stay(line):
    assert not is_furniture(line)
    assert drop_boilerplate([line]) == [line]


def test_more_on_this_topic_list_goes_up_to_the_next_paragraph():
    lines = ["Text davor.", "", "Mehr zum Thema", "", "- Reifenpreise steigen weiter", "- Winterreifenpflicht: Was gilt?",
             "", "Ein kurzer Zwischentitel", "", "Der Text geht weiter."]
    assert drop_boilerplate(lines) == ["Text davor.", "", "", "Ein kurzer Zwischentitel", "", "Der Text geht weiter."]
    assert drop_boilerplate(["Lesen Sie auch: Autohändler klagen", "Ein Satz."]) == ["Ein Satz."]
    assert drop_boilerplate(["Read more: Rotterdam loses market share", "A sentence."]) == ["A sentence."]


def test_german_html_page():
    article = parse_article("reifen.html", GERMAN_HTML.encode())
    assert_gone(article.text, "ANZEIGE", "Sommerreifen bestellen", "Ganzjahresreifen", "Newsletter", "Lesen Sie auch",
                "Autohändler klagen", "Mehr zum Thema", "Reifenpreise", "Cookies", "Startseite", "Impressum", "Foto: dpa",
                "var slot")
    for kept in ("Der Umsatz stieg um 12 Prozent auf 48 Millionen Euro",
                 "Die Werbung im Fernsehen habe sich ausgezahlt, sagte Firmenchefin Jana Berg.",
                 "Für das Gesamtjahr erwartet Berg einen Umsatz von mehr als 180 Millionen Euro."):
        assert kept in article.text
    assert article.authors == ("Max Mustermann",)
    assert article.url == "https://www.beispielzeitung.de/wirtschaft/reifen-rekord-123.html"


def test_english_html_page():
    article = parse_article("port.html", ENGLISH_HTML.encode())
    assert_gone(article.text, "Advertisement", "Sponsored", "cruise", "newsletter", "Read more", "Rotterdam")
    assert "Advertising revenue at the port's visitor centre rose by 5 percent." in article.text
    assert article.text.endswith("A new rail link to the port is planned to open in 2026.")


def test_german_text_file():
    article = parse_article("reifen.txt", GERMAN_TEXT.encode())
    assert_gone(article.text, "ANZEIGE", "Sommerreifen bestellen", "\nAnzeige\n", "Newsletter", "Mehr zum Thema",
                "Reifenpreise", "Winterreifenpflicht")
    for kept in ("Die Werbung im Fernsehen habe sich ausgezahlt, sagte Firmenchefin Jana Berg.",
                 "Werbung: Die Einnahmen der Verlage sinken",
                 "Werbung ist für Verlage die wichtigste Einnahmequelle, sagte Berg.",
                 "Für das Gesamtjahr erwartet Berg einen Umsatz von mehr als 180 Millionen Euro."):
        assert kept in article.text


def test_english_markdown_file():
    article = parse_article("port.md", ENGLISH_MARKDOWN.encode())
    assert_gone(article.text, "Advertisement", "Sponsored content", "newsletter", "More on this topic", "Shipping rates",
                "Dockworkers")
    assert "Advertising revenue at the port's visitor centre rose by 5 percent." in article.text
    assert "Sponsored by the city, the port festival drew 10,000 visitors." in article.text
    assert article.text.endswith("A new rail link to the port is planned to open in 2026.")
