"""Language detection: decides the answer's framing language and the stemmer."""

from __future__ import annotations

import pytest

from assistant.ingest.language import ENGLISH, GERMAN, detect_language
from conftest import SHIPPED_FILES, TINY_ARTICLES


@pytest.mark.parametrize(
    "text",
    [
        "Wer ist CEO?",
        "Wie viele Kunden hat Vodacom?",
        "Wann wurde M-Pesa gestartet?",
        "Wie hoch ist der Eiffelturm?",
        "Was kostet das?",
        "Ist Margherita Della Valle CEO?",
        "Wo?",
        "Microsoft Teams an Schulen",
        "Der Deutsche Wetterdienst meldet für Berlin am Freitag 28 Grad.",
        TINY_ARTICLES["wetter.txt"],
    ],
)
def test_german(text):
    assert detect_language(text) == GERMAN


@pytest.mark.parametrize(
    "text",
    [
        "Who is CEO?",
        "What share of Vodacom does Vodafone own?",
        "How much is Vodafone investing?",
        "Who won the 2018 World Cup?",
        "When was M-Pesa launched?",
        "Where?",
        "Port of Hamburg handles record cargo",
        TINY_ARTICLES["harbour.md"],
    ],
)
def test_english(text):
    assert detect_language(text) == ENGLISH


def test_shipped_articles(shipped_sources):
    languages = [detect_language((shipped_sources / name).read_text(encoding="utf-8")) for name in sorted(SHIPPED_FILES)]
    assert languages == [GERMAN, ENGLISH, GERMAN]


def test_long_text_is_judged_on_its_language_not_its_length():
    german = "Die Bundesregierung hat am Mittwoch einen Entwurf beschlossen, der die Förderung erneuerbarer Energien neu regelt. " * 40
    english = "The government approved a draft on Wednesday that changes how renewable energy is subsidised. " * 40
    assert detect_language(german) == GERMAN
    assert detect_language(english) == ENGLISH


def test_no_evidence_falls_back_to_the_default():
    assert detect_language("12345 %%% 2024", default=GERMAN) == GERMAN
    assert detect_language("12345 %%% 2024", default=ENGLISH) == ENGLISH
    assert detect_language("", default=GERMAN) == GERMAN
