"""The rule-based follow-up rewrite (assistant/followup.py)."""

from __future__ import annotations

import pytest

from assistant.followup import resolve, topic

VODACOM = "What share of Vodacom does Vodafone own?"


def test_topic_is_first_name_after_the_first_word():
    assert topic(VODACOM) == "Vodacom"
    assert topic("how many customers?") is None


@pytest.mark.parametrize("question, previous, language, expected", [
    ("And how many customers does it have?", VODACOM, "en", "How many customers does Vodacom have?"),
    ("What is its revenue?", VODACOM, "en", "What is Vodacom's revenue?"),
    ("What about the partnership?", VODACOM, "en", f"What about the partnership? ({VODACOM})"),
    ("Who is the CEO of Vodafone?", VODACOM, "en", "Who is the CEO of Vodafone?"),  # stands alone
    ("How many customers does it have?", None, "en", "How many customers does it have?"),  # nothing before
    ("Wie viele Kunden hat es?", "Wie viel Prozent von Vodacom gehören Vodafone?", "de",
     "Wie viele Kunden hat es? (Prozent Vodacom Vodafone)"),
    ("Und Telekom?", "Wie viel investiert Vodafone?", "de", "Und Telekom? (Wie viel investiert Vodafone?)"),
    ("Wer ist Chef von T-Systems?", "Wie viel investiert Vodafone?", "de", "Wer ist Chef von T-Systems?"),
])
def test_resolve(question, previous, language, expected):
    assert resolve(question, previous, language) == expected


def test_chained_follow_ups_keep_the_topic():
    first = resolve("And how many customers does it have?", VODACOM, "en")
    assert resolve("And where does it operate?", first, "en") == "Where does Vodacom operate?"
