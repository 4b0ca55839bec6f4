"""Sentences and passages: right boundaries for German and English, exact offsets."""

from __future__ import annotations

import re

import pytest

from assistant.ingest.passages import SHORT_PARAGRAPH_CHARS, build_passages, paragraphs, split_sentences
from assistant.ingest.sources import load_articles
from conftest import GOLEM


def sentences(text: str, language: str) -> list[str]:
    spans = split_sentences(text, language)
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
    return [text[s:e] for s, e in spans]


def assert_covers_text(text: str, spans, skip=()) -> None:
    """Spans are ordered, do not overlap and hold every non-space character exactly once, except
    those of the `skip` spans, which none holds."""
    for a, b in skip:
        text = text[:a] + " " * (b - a) + text[b:]  # same offsets, nothing to cover there
    last = 0
    for start, end in spans:
        assert start >= last
        assert not text[last:start].strip(), f"lost text: {text[last:start]!r}"
        assert not any(a < end and start < b for a, b in skip), f"covers a skipped span: {text[start:end]!r}"
        last = end
    assert not text[last:].strip()


GERMAN_CASES = [
    ("Dr. Anna Weber vom DWD sagte, es werde z. B. in Potsdam bis zu 1,5 Grad wärmer. Am Wochenende regnet es.",
     ["Dr. Anna Weber vom DWD sagte, es werde z. B. in Potsdam bis zu 1,5 Grad wärmer.", "Am Wochenende regnet es."]),
    ("Vodacom versorgt 132,6 Millionen Kunden. Das gab Microsoft am 16. Januar 2024 bekannt. Es folgt mehr.",
     ["Vodacom versorgt 132,6 Millionen Kunden.", "Das gab Microsoft am 16. Januar 2024 bekannt.", "Es folgt mehr."]),
    ("Die Firma wuchs u. a. in Berlin um 5 Prozent. Ist das gut? Ja! Am 3. Oktober ist Feiertag.",
     ["Die Firma wuchs u. a. in Berlin um 5 Prozent.", "Ist das gut?", "Ja!", "Am 3. Oktober ist Feiertag."]),
    # two ordinals in a line: pysbd's numbered-list rule cut before each ("Am" / "24. August ...")
    ("Am 24. August sandte er den Brief. Am 25. August 1939 wurde der Vertrag unterzeichnet.",
     ["Am 24. August sandte er den Brief.", "Am 25. August 1939 wurde der Vertrag unterzeichnet."]),
    ("Das Zeta ist der 6. Buchstabe des Alphabets und hat den Zahlenwert 7. Bei der Aussprache ist das zu beachten.",
     ["Das Zeta ist der 6. Buchstabe des Alphabets und hat den Zahlenwert 7. Bei der Aussprache ist das zu beachten."]),
    ("Die Stadt blühte im 18. und 19. Jahrhundert. Im ersten Schritt (Gleichung 2) wird Ammoniak oxidiert.",
     ["Die Stadt blühte im 18. und 19. Jahrhundert.", "Im ersten Schritt (Gleichung 2) wird Ammoniak oxidiert."]),
    # a list after a colon keeps its items apart from the sentence that announces them
    ("Es gab drei Gründe: 1. Geld 2. Zeit. Danach ging er.", ["Es gab drei Gründe:", "1. Geld 2. Zeit.", "Danach ging er."]),
    # lower case after an abbreviation pysbd does not know: no German sentence starts so
    ("Mit dem 8. Jh. n. Chr. war die Schrift verbreitet. Sie galt (d. i. wahrheitsfähig) als wahr.",
     ["Mit dem 8. Jh. n. Chr. war die Schrift verbreitet.", "Sie galt (d. i. wahrheitsfähig) als wahr."]),
    # a comma after a regnal number: pysbd took "II." for a sentence's end ("Katharina II." / ", die ...")
    ("Unter Katharina II., die seit 1762 herrschte, wuchs Russland. Ludwig XIV. war König.",
     ["Unter Katharina II., die seit 1762 herrschte, wuchs Russland.", "Ludwig XIV. war König."]),
]
ENGLISH_CASES = [
    ("Mr. Jens Meier, the CEO, expects growth of 3.5 percent. Dr. Smith agreed. It cost $1.5 billion (approx. £1.18 billion).",
     ["Mr. Jens Meier, the CEO, expects growth of 3.5 percent.", "Dr. Smith agreed.",
      "It cost $1.5 billion (approx. £1.18 billion)."]),
    ("The U.S. economy grew e.g. by 2.1 percent in Jan. 2024. Is that a lot? No.",
     ["The U.S. economy grew e.g. by 2.1 percent in Jan. 2024.", "Is that a lot?", "No."]),
    # an English sentence may start in lower case
    ("Apple sold the iPod in 2001. iPods with colour displays came later.",
     ["Apple sold the iPod in 2001.", "iPods with colour displays came later."]),
    ("The land passed to King James II., who gave it to his brother. Then came war.",
     ["The land passed to King James II., who gave it to his brother.", "Then came war."]),
]


@pytest.mark.parametrize("text, expected", GERMAN_CASES)
def test_german_sentence_boundaries(text, expected):
    assert sentences(text, "de") == expected


@pytest.mark.parametrize("text, expected", ENGLISH_CASES)
def test_english_sentence_boundaries(text, expected):
    assert sentences(text, "en") == expected


def test_line_breaks_end_sentences_and_offsets_are_exact_in_context():
    prefix = "Überschrift ohne Punkt\n\n"
    text = prefix + "Erster Satz mit 1,5 Prozent.  Zweiter Satz.\nListenpunkt eins\n  Listenpunkt zwei  \n"
    spans = split_sentences(text, "de")
    assert [text[s:e] for s, e in spans] == [
        "Überschrift ohne Punkt", "Erster Satz mit 1,5 Prozent.", "Zweiter Satz.", "Listenpunkt eins", "Listenpunkt zwei"]
    assert spans[1][0] == len(prefix)
    # A sub-range keeps offsets relative to the whole text.
    sub = split_sentences(text, "de", start=len(prefix), end=text.index("\nListen"))
    assert sub == spans[1:3]


def test_closing_quote_mark_stays_with_its_sentence():
    text = '"Die Partnerschaft ist jetzt viel strategischer als im Jahr 2018", sagte Courtois. Danach ging er.'
    got = sentences(text, "de")
    assert got[-1] == "Danach ging er."
    assert "".join(got).replace(" ", "") == text.replace(" ", "")


def test_paragraphs_are_separated_by_blank_lines():
    text = "Eins a.\nEins b.\n\nZwei.\n \t\nDrei."
    assert [text[s:e] for s, e in paragraphs(text)] == ["Eins a.\nEins b.", "Zwei.", "Drei."]


# Two different sentences each: a sentence repeated word for word is in no passage (build_passages).
LONG_A = ("Der erste Absatz beschreibt die Lage am Hamburger Hafen im vergangenen Jahr ausführlich. "
          "Er nennt auch die Zahl der Container, die dort im Jahr umgeschlagen wurden. ")
LONG_B = ("The second paragraph explains the plans for a new rail link to the port in some detail. "
          "It also says when the first trains are expected to run on the new line. ")
LONG_C = ("Der dritte Absatz beschreibt die neuen Kräne am Hamburger Hafen ausführlich. "
          "Er nennt auch, wer sie gebaut hat und was sie gekostet haben. ")


def _blank_line_crossings(text: str, passage) -> list[str]:
    return re.findall(r"\n\s*\n", text[passage.start:passage.end])


def test_passages_never_cross_a_blank_line_between_long_paragraphs():
    text = f"{LONG_A.strip()}\n\n{LONG_B.strip()}\n\n{LONG_C.strip()}"
    passages = build_passages(text, "de")
    assert len(passages) == 3
    for p in passages:
        assert not _blank_line_crossings(text, p)
        assert p.sentences[0][0] == p.start and p.sentences[-1][1] == p.end


def test_short_heading_is_read_with_the_next_paragraph_only():
    heading = "Vodafone: Azure statt eigene Server"
    assert len(heading) < SHORT_PARAGRAPH_CHARS
    text = f"{LONG_A.strip()}\n\n{heading}\n\n{LONG_B.strip()}\n\nSchluss."
    passages = build_passages(text, "de")
    chunks = [text[p.start:p.end] for p in passages]
    assert chunks == [LONG_A.strip(), f"{heading}\n\n{LONG_B.strip()}", "Schluss."]
    assert len(_blank_line_crossings(text, passages[1])) == 1
    assert text[slice(*passages[1].sentences[0])] == heading


def test_max_chars_is_respected_and_a_longer_sentence_stands_alone():
    text = " ".join(f"Dieser Satz Nummer {i:02d} hat etwa sechzig Zeichen und endet mit Punkt." for i in range(12))
    text += " " + "Sehr lang " * 40 + "Ende.\n\nKurz danach."
    passages = build_passages(text, "de", max_chars=200)
    for p in passages:
        chunk = text[p.start:p.end]
        assert len(chunk) <= 200 or len(p.sentences) == 1, chunk
    assert any(p.end - p.start > 200 and len(p.sentences) == 1 for p in passages)
    all_sentences = [s for p in passages for s in p.sentences]
    assert all_sentences == split_sentences(text[: text.index("\n\n")], "de") + [(len(text) - 12, len(text))]


@pytest.mark.parametrize("max_chars", [200, 1200])
def test_shipped_articles_passages_cover_every_sentence_exactly(max_chars, shipped_sources):
    articles, _ = load_articles(shipped_sources)
    assert [a.byline is not None for a in articles] == [True, False, False]  # Golem's "/ Achim Sawall"
    for article in articles:
        passages = build_passages(article.text, article.language, max_chars, skip=article.unquotable)
        assert passages
        assert_covers_text(article.text, [s for p in passages for s in p.sentences], article.unquotable)
        assert_covers_text(article.text, [(p.start, p.end) for p in passages], article.unquotable)
        for p in passages:
            chunk = article.text[p.start:p.end]
            assert len(chunk) <= max_chars or len(p.sentences) == 1
            crossings = _blank_line_crossings(article.text, p)
            if crossings:  # only the short-heading rule may join paragraphs
                first_para_end = article.text.index("\n", p.start)
                assert first_para_end - p.start < SHORT_PARAGRAPH_CHARS, chunk


def test_shipped_german_sentences(shipped_sources):
    articles, _ = load_articles(shipped_sources, [GOLEM])
    golem = articles[0]
    texts = [golem.text[s:e] for s, e in split_sentences(golem.text, "de")]
    assert "Das gab Microsoft am 16. Januar 2024 bekannt." in texts
    assert "Vodafone und Safaricom, der größte Mobilfunkbetreiber in Kenia, hatten M-Pesa im Jahr 2007 gestartet." in texts
    assert any(t.startswith("Vodacom versorgt nach eigenen Angaben 132,6 Millionen Kunden") and t.endswith("Kamerun.")
               for t in texts)


@pytest.mark.parametrize("tail", ["", "\n\n" + " ".join(f"Ein langer Absatz mit {n} Worten darin." for n in "vielen vier drei".split())])
def test_a_run_of_short_paragraphs_still_respects_max_chars(tail):
    """Short paragraphs are read with the next one, but their run never exceeds max_chars."""
    text = "\n\n".join(f"Kurzer Absatz Nummer {i} hier." for i in range(40)) + tail
    passages = build_passages(text, "de", max_chars=200)
    for p in passages:
        assert p.end - p.start <= 200 or len(p.sentences) == 1, text[p.start:p.end]
    assert [s for p in passages for s in p.sentences] == split_sentences(text, "de")


def test_repeated_sentences_are_in_no_passage_and_the_limit_refuses_long_articles():
    from assistant.ingest.passages import TooManyPassages

    text = "Kiel baut einen Hafen.\n\n" + "Der Hafen ist groß. " * 50 + "Er öffnet 2026."
    passages = build_passages(text, "de")
    sentences = [text[s:e] for p in passages for s, e in p.sentences]
    assert sentences.count("Der Hafen ist groß.") == 1 and "Er öffnet 2026." in sentences
    for p in passages:  # still exact spans, none running over a dropped repeat
        assert text[p.start:p.end].count("Der Hafen ist groß.") <= 1
    many = "\n\n".join(f"Absatz {i}: Der Hafen in Kiel meldet heute die Zahl {i} für das Jahr." for i in range(30))
    assert len(build_passages(many, "de", max_chars=80)) == 30
    with pytest.raises(TooManyPassages, match="more than 20 passages"):
        build_passages(many, "de", max_chars=80, max_passages=20)
