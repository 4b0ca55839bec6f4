"""Articles that disagree (answer/conflict.py): the shipped articles plus planted ones, each corpus
indexed in a temporary folder. The answer says that they disagree, shows one quote for each
different answer (newest first) before repeating any, and no single short answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.answer.render import CONFLICT
from conftest import GOLEM, copy_shipped, make_corpus

QUESTION = "Wie viel Prozent an Vodacom hält Vodafone?"


def planted(n: int) -> str:
    """A newer article that gives Vodafone 99 percent of Vodacom (the shipped one says 65)."""
    return (f" date 2024-0{n + 3}-0{n} Vodafone stockt bei Vodacom auf ({n})\n\nDer britische Mobilfunkkonzern "
            f"Vodafone hat seinen Anteil an der südafrikanischen Vodacom Group ausgebaut, berichtet Quelle {n}. "
            f"Vodafone hält nun 99 Prozent an Vodacom, meldet Agentur {n}. Das teilte das Unternehmen am Montag in "
            "Johannesburg mit.")


def open_corpus(root: Path, embedder, extra: dict[str, str]) -> Assistant:
    sources = make_corpus(copy_shipped(root / "sources"), extra)
    return Assistant(sources, root / "index", update=True, embedder=embedder)


@pytest.fixture(scope="module")
def one_planted(tmp_path_factory, embedder) -> Assistant:
    return open_corpus(tmp_path_factory.mktemp("one-planted"), embedder, {"vodacom_99.txt": planted(3)})


@pytest.fixture(scope="module")
def three_planted(tmp_path_factory, embedder) -> Assistant:
    return open_corpus(tmp_path_factory.mktemp("three-planted"), embedder,
                       {f"vodacom_99_{n}.txt": planted(n) for n in (1, 2, 3)})


def check_conflict(assistant: Assistant, answer) -> None:
    """Both answers shown, each in its own quote, newest first; no bold answer; exact spans."""
    assert answer.conflict and answer.short_answer is None, answer.answer
    assert [side.text for side in answer.sides] == ["99 Prozent", "65 Prozent"], answer.answer
    dates = [answer.quotes[side.quote - 1].date for side in answer.sides]
    assert dates == sorted(dates, reverse=True)
    assert [side.quote for side in answer.sides] == list(range(1, len(answer.sides) + 1))  # before any repeat
    for side in answer.sides:
        quote = answer.quotes[side.quote - 1]
        assert side.source == quote.source and quote.start <= side.start < side.end <= quote.end
        assert assistant.article(side.source).text[side.start:side.end] == side.text
    assert answer.quotes[answer.sides[1].quote - 1].source == GOLEM
    for q in answer.quotes:
        assert assistant.article(q.source).text[q.start:q.end] == q.text
    lines = answer.answer.split("\n")
    assert lines[0] == CONFLICT["de"] == "Die Artikel widersprechen sich:"
    assert lines[1].startswith("- 99 Prozent [1] — Vodafone stockt bei Vodacom auf") and "2024-0" in lines[1]
    assert lines[2] == "- 65 Prozent [2] — KI, Cloud und IoT: Vodafone schließt 1,5-Milliarden-Vertrag mit " \
                       "Microsoft, 2024-01-16"


def test_one_planted_article_that_disagrees_is_shown_as_a_conflict(one_planted):
    check_conflict(one_planted, one_planted.ask(QUESTION))


def test_copies_of_one_claim_do_not_push_the_other_claim_out(three_planted):
    answer = three_planted.ask(QUESTION)
    check_conflict(three_planted, answer)
    assert answer.quotes[0].source == "vodacom_99_1.txt"  # the likeliest report of its claim
    assert len(answer.quotes) <= three_planted.settings.max_quotes


def test_the_conflict_and_its_sides_are_in_the_json(one_planted):
    data = json.loads(json.dumps(one_planted.ask(QUESTION).to_dict()))
    assert data["conflict"] is True and data["short_answer"] is None
    assert [(s["text"], s["quote"]) for s in data["sides"]] == [("99 Prozent", 1), ("65 Prozent", 2)]


@pytest.mark.parametrize("question", [
    "How much will Vodafone invest?", "Wie viele Kunden hat Vodacom?", "Wann wurde M-Pesa gestartet?",
    "Wer ist die Berliner Datenschutzbeauftragte?",
    # two articles, two agreements: "2018" (Hannover Messe) and "16. Januar 2024" answer different things
    "Und wann wurde die erste Vereinbarung geschlossen?",
])
def test_articles_that_agree_or_answer_other_things_are_no_conflict(shipped_assistant, question):
    answer = shipped_assistant.ask(question)
    assert not answer.conflict and answer.sides == [], answer.answer
    assert not answer.answer.startswith(CONFLICT[answer.language])


def test_english_question_gets_the_english_words(tmp_path, embedder):
    harbour = ("Port of Hamburg handles record cargo\n\nThe Port of Hamburg handled {n} million containers in 2022, "
               "its operator said on Monday.\n\nA new rail link to the port is planned to open in 2026.")
    sources = make_corpus(tmp_path / "sources", {"harbour.txt": " date 2023-02-01 " + harbour.format(n="8.7"),
                                                 "harbour_new.txt": " date 2023-03-01 " + harbour.format(n="9.4")})
    assistant = Assistant(sources, tmp_path / "index", update=True, embedder=embedder)
    answer = assistant.ask("How many containers did the Port of Hamburg handle in 2022?")
    assert answer.conflict, answer.answer
    assert answer.answer.startswith("The articles disagree:\n- 9.4 million [1]"), answer.answer
