"""Follow-up questions on the shipped articles: read alone and with the conversation's topic."""

from __future__ import annotations

import pytest
from conftest import GOLEM

from assistant.answer.conversation import Reading, next_topic, readings, refers_back

VODACOM = "What share of Vodacom does Vodafone own?"
CHAIN_DE = ["Wer ist Chef von T-Systems?", "Und wann wurde die erste Vereinbarung geschlossen?",
            "Und was sagt Courtois?"]


def test_readings_alone_first_and_topic_never_nested():
    assert readings("Und Telekom?", None) == [Reading("Und Telekom?", False)]
    assert readings("Und Telekom?", "Wie viel investiert Vodafone?") == [
        Reading("Und Telekom?", False), Reading("Wie viel investiert Vodafone? Und Telekom?", True)]
    assert readings("Wer ist Chef?", "wer ist  chef?") == [Reading("Wer ist Chef?", False)]


FOLLOW_UPS = [
    "Und wann wurde die erste Vereinbarung geschlossen?", "Und was sagt Courtois?", "Und auf welcher Messe?",
    "Und wie viel investiert Microsoft?", "And how many customers does it have?", "And who runs Microsoft?",
    "And in 2019?", "What about Telekom?", "Wann wurde sie geschlossen?", "Wie viele Kunden hat er?",
    "Who leads it?", "Where is their headquarters?", "Wie viele Kunden?", "How many customers?",
    "Was hat er dazu gesagt?", "Wann wurde diese Vereinbarung geschlossen?", "What did they announce?",
]
STANDALONE = [
    "Wer ist Chef von T-Systems?", "Wie viel will Vodafone in KI investieren?", "Who founded Microsoft?",
    "What share of Vodacom does Vodafone own?", "Wie viele Kunden hat Vodacom?", "Wann wurde M-Pesa gestartet?",
    "Who is the CEO of Deutsche Telekom?", "Wie hoch ist der Eiffelturm?", "Wie viele Kunden gibt es in Kenia?",
    "Is there a deal between Vodafone and Microsoft?", "Was plant Vodafone dieses Jahr?",
    "Wer ist die Berliner Datenschutzbeauftragte?", "How much will Vodafone invest?",
]


@pytest.mark.parametrize("question", FOLLOW_UPS)
def test_a_question_that_cannot_stand_alone_is_a_follow_up(question):
    assert refers_back(question)
    assert len(readings(question, "Wie viel will Vodafone in KI investieren?")) == 2


@pytest.mark.parametrize("question", STANDALONE)
def test_a_question_that_stands_alone_is_never_read_with_the_topic(question):
    assert not refers_back(question)
    assert readings(question, "Wie viel will Vodafone in KI investieren?") == [Reading(question, False)]


def test_topic_changes_only_when_a_question_is_answered_on_its_own():
    assert next_topic(None, "Q1", with_topic=False, abstained=False) == "Q1"
    assert next_topic("Q1", "Q2", with_topic=True, abstained=False) == "Q1"
    assert next_topic("Q1", "Q2", with_topic=False, abstained=True) == "Q1"
    assert next_topic("Q1", "Q3", with_topic=False, abstained=False) == "Q3"


def converse(assistant, questions: list[str]):
    topic, answers = None, []
    for question in questions:
        answer = assistant.ask(question, topic=topic)
        topic = next_topic(topic, answer.question, answer.understood_as is not None, answer.abstained)
        answers.append(answer)
    return answers


def test_german_three_turn_chain_keeps_its_topic(shipped_assistant):
    chief, agreement, courtois = converse(shipped_assistant, CHAIN_DE)
    # (since index format 5 the answer model puts "Der T-System-Chef betonte ..." first, the
    # sentence naming him second: the chain is what is tested here, not the order)
    assert not chief.abstained and any("Al-Saleh" in q.text for q in chief.quotes)
    assert not agreement.abstained and any("2018" in q.text for q in agreement.quotes)
    assert not courtois.abstained and any("Courtois" in q.text for q in courtois.quotes)
    for answer in (agreement, courtois):  # the topic is added once, never nested
        assert answer.understood_as in (None, f"{CHAIN_DE[0]} {answer.question}")


def test_english_follow_up_with_a_pronoun(shipped_assistant):
    first, follow = converse(shipped_assistant, [VODACOM, "And how many customers does it have?"])
    assert any("65 Prozent" in q.text for q in first.quotes)
    assert follow.understood_as == f"{VODACOM} And how many customers does it have?"
    assert any("132,6 Millionen Kunden" in q.text for q in follow.quotes)


@pytest.mark.parametrize("topic", [VODACOM, "Wie viel will Vodafone in KI investieren?"])
def test_a_new_topic_is_not_bent_back_to_the_old_one(shipped_assistant, topic):
    first, second = converse(shipped_assistant, [topic, "Wer ist Chef von T-Systems?"])
    assert second.understood_as is None and any("Al-Saleh" in q.text for q in second.quotes)
    assert not any("1,5 Milliarden" in q.text for q in second.quotes)


def test_a_new_question_with_its_own_names_is_not_answered_from_the_old_topic(tmp_path, embedder):
    # After a question about a zoo, "What share of Vodacom ...?" (English, about a German article,
    # so its own reading scores low) must not be read as a follow-up about the zoo, even where the
    # zoo reading scores better: a negative followup_margin lets any topic reading win on score.
    from dataclasses import replace

    from assistant import Assistant, Settings
    from conftest import copy_shipped

    sources = copy_shipped(tmp_path / "sources")
    (sources / "zoo_leipzig.txt").write_text(
        "Zoo Leipzig meldet Besucherrekord\n\nDer Zoo Leipzig hat im Jahr 2023 genau 1,93 Millionen Besucher "
        "gezählt, teilte Zoodirektor Jörg Junhold am Dienstag mit. Das ist der höchste Wert in der Geschichte "
        "des Zoos.\n\nFür 2024 plant der Zoo eine neue Anlage für Schneeleoparden.", encoding="utf-8")
    settings = replace(Settings(), followup_margin=-1.0).with_paths(sources, tmp_path / "index")
    assistant = Assistant(settings=settings, update=True, embedder=embedder)
    zoo, share = converse(assistant, ["Wie viele Besucher hatte der Zoo Leipzig 2023?", VODACOM])
    assert any("1,93 Millionen" in q.text for q in zoo.quotes)
    assert share.understood_as is None
    assert all(q.source != "zoo_leipzig.txt" for q in share.quotes + share.related)
    # A real follow-up still takes the topic: its question has no names of its own to miss.
    _, follow = converse(assistant, [VODACOM, "And how many customers does it have?"])
    assert follow.understood_as is not None


@pytest.mark.parametrize("chain, wrong", [
    (["Wie viel will Vodafone in KI investieren?", "Und wie viel investiert Microsoft?"], "1,5"),  # Vodafone's
    (["Who is the CEO of Vodafone?", "And who runs Microsoft?"], "Margherita"),  # Vodafone's CEO
    (["Wer ist Chef von T-Systems?", "Und auf welcher Messe?"], "2018"),  # a year for "which fair"
])
def test_a_follow_up_gets_no_short_answer_that_answers_the_topic_instead(shipped_assistant, chain, wrong):
    follow = converse(shipped_assistant, chain)[-1]
    assert follow.short_answer is None or wrong not in follow.short_answer.text, follow.answer


def test_a_year_does_not_answer_which_fair():
    from assistant.answer.scoring import fits_the_question

    assert not fits_the_question("Und auf welcher Messe?", "2018")
    assert not fits_the_question("At which fair was it signed?", "2018")
    assert fits_the_question("Und auf welcher Messe?", "Hannover Messe")
    assert fits_the_question("In welchem Jahr?", "2018")  # a time asked for


def test_a_follow_up_whose_own_reading_finds_its_own_subject_is_read_alone(shipped_assistant):
    # "Microsoft" is named and its own reading answers from a passage about Microsoft: the topic
    # (Vodafone's CEO) would quote "Margherita Della Valle, CEO of Vodafone Group, said:"
    follow = converse(shipped_assistant, ["Who is the CEO of Vodafone?", "And who runs Microsoft?"])[-1]
    assert follow.understood_as is None, follow.answer
    assert not any("Margherita" in q.text for q in follow.quotes), follow.answer


def test_a_topic_that_would_make_the_reading_too_long_is_left_out_never_cut():
    question = "Und wann?"
    topic = "Wie viel will Vodafone in KI investieren? " * 10
    assert readings(question, topic, max_chars=2000)[-1] == Reading(f"{topic} {question}", True)
    assert readings(question, topic, max_chars=len(topic) + len(question)) == [Reading(question, False)]


def test_a_follow_up_with_nothing_of_its_own_is_read_with_its_topic(shipped_assistant):
    """"Und wann?" has no word to search for: alone it is refused, after a question it is read
    with that question (and only so), and the chat shows what it understood."""
    from assistant.answer.question import NoContentWords

    with pytest.raises(NoContentWords):
        shipped_assistant.ask("Und wann?")
    topic = "Wann hat Vodafone die Vereinbarung mit Microsoft geschlossen?"
    follow = shipped_assistant.ask("Und wann?", topic=topic)
    assert follow.understood_as == f"{topic} Und wann?"
    assert not follow.abstained and follow.quotes[0].source == GOLEM, follow.answer
    assert any(year in follow.quotes[0].text for year in ("2018", "2024")), follow.answer
