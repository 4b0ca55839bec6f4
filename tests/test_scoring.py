"""Quote-scoring features on hand-made vectors and tiny German and English questions."""

from __future__ import annotations

import pytest

from assistant.answer.scoring import (answer_type, fits_the_question, has_answer_type, question_names, word_coverage,
                                      years_agree, years_named)

def test_answer_types():
    assert answer_type("Wann wurde M-Pesa gestartet?") == "time"
    assert answer_type("When did Vodafone sign?") == "time"
    assert answer_type("Wie viele Kunden hat Vodacom?") == "number"
    assert answer_type("How much is Vodafone investing?") == "number"
    assert answer_type("Who is the CEO of Vodafone?") is None
    assert has_answer_type("time", "im Jahr 2007 gestartet") and not has_answer_type("time", "im Frühjahr")
    assert has_answer_type("number", "132,6 Millionen Kunden") and has_answer_type("number", "zehn Jahre")
    assert not has_answer_type("number", "viele Kunden") and not has_answer_type(None, "2007")


@pytest.mark.parametrize("question", [
    "Wann wurde M-Pesa gestartet?", "Und seit wann gilt das?", "When did Vodafone sign?",
    "when did Haplogroup L1 appear", "And since when is it valid?", "In what year did it start?",
    "In welchem Jahrhundert lebte er?", "In welchen Monat wurde Diana Ross geboren?"])
def test_a_time_is_asked_for(question):
    assert answer_type(question) == "time"


@pytest.mark.parametrize("question", [
    "Who is with Weyland when the team returns to the structure?",  # "when" opens a clause
    "When the lamas received an invite from the emperors, who did they send?",
    "What New York city did Angelina Jolie's family move to when she was six?"])
def test_when_that_opens_a_clause_asks_for_no_time(question):
    assert answer_type(question) is None


@pytest.mark.parametrize("text", [
    "am 3. September", "21. April", "in den 1940er Jahren", "the 1430s", "907–960", "400 n. Chr.",
    "vor etwa 150000 bis 170000 Jahren", "110,000 to 170,000 years ago", "im August",
    "May 3, 2024", "November", "am 3.10.20"])
def test_times_without_a_year_are_times(text):
    assert has_answer_type("time", text) and has_answer_type("day", text)


def test_a_weekday_answers_a_question_for_the_day_only():
    assert answer_type("An welchem Tag kündigten Telekom und Microsoft die Partnerschaft an?") == "day"
    assert answer_type("On which day did they sign?") == "day"
    assert fits_the_question("An welchem Tag kündigten sie das an?", "Donnerstag")
    assert not fits_the_question("Wann wurde die Telekom gegründet?", "am Donnerstag")


@pytest.mark.parametrize("text", [
    "August Bebel sprach.", "it may rain", "they march on", "im Frühjahr", "Jan Müller",
    "growth of 2.1.", "Kapitel 12"])
def test_names_verbs_and_figures_are_no_times(text):
    assert not has_answer_type("time", text)


@pytest.mark.parametrize("question, answer, fits", [
    ("Wann wurde M-Pesa gestartet?", "2007", True),
    ("When did the partnership start?", "in the 19th century", True),
    ("Wann wurde M-Pesa gestartet?", "in Kenia", False),  # a place for "when"
    ("Wie viel Prozent hält Vodafone?", "65 Prozent", True),
    ("How much will Vodafone invest?", "$1.5 billion", True),
    ("How many customers does Vodacom have?", "many", False),  # no figure for "how many"
    ("Wie viele Server werden migriert?", "Zehntausende", True),  # a number word, as the evaluation counts it
    ("Wie viele Server werden migriert?", "ein Rechenzentrum", False),  # an article is no figure
    ("Wer leitet Microsoft?", "Satya Nadella", True),
    ("Who runs Vodafone?", "the chief executive", False),  # no name for "who"
    ("Wer leitet Microsoft?", "Nadella (56)", False),  # a figure is no person
    ("What does Vodafone plan?", "cloud services", True),  # any kind for other questions
])
def test_a_short_answer_must_be_of_the_kind_the_question_asks_for(question, answer, fits):
    assert fits_the_question(question, answer) == fits


def test_word_coverage_looks_at_names_and_figures_only():
    question = "When did Apple acquire Vodafone?"
    # The text has "Vodafone" but nothing like "Apple": coverage is Apple's best match.
    text = "Vodafone bought a stake in Vodacom when the company was founded."
    assert word_coverage(question, "en", text) < 0.5
    assert word_coverage(question, "en", text + " Apple did not.") == 1.0
    # Inflections and spellings across languages still match a name.
    assert word_coverage("Who runs Vodafone?", "en", "Der Chef Vodafones sagte am Montag ...") > 0.9
    assert 0.7 < word_coverage("Who governs Warsaw?", "en", "Der Bürgermeister von Warschau ...") < 0.8
    # A German question capitalises every noun: only figures and inner capitals count as names.
    assert word_coverage("Wie viel kostet ein Abo?", "de", "Nichts davon.") == 1.0
    assert word_coverage("Wie viel kostet ein iPhone 15?", "de", "Das iPhone 14 kostet 999 Euro.") == 0.5
    # A capital slipped into the second letter is a typo, not a name; McDonald, DDoS, PCs are names.
    assert question_names("Welche FUnktion hat Pepsin im Magen?", "de") == set()
    assert question_names("Wer leitet McDonald, die DDoS-Angriffe auf PCs meldet?", "de") == {"mcdonald", "ddos", "pcs"}
    assert word_coverage("When did Apple acquire Vodafone?", "en", "") == 0.0


@pytest.mark.parametrize("text, years", [
    ("Wer hatte am 2. Mai 1916 das Kommando auf der Nevada?", {"1916"}),
    ("What was Apple's profit in Q1 2008?", {"2008"}),
    ("Von 2004-05 verkaufte HP iPods.", {"2004"}),
    ("date 2024-03-05", {"2024"}),
    ("In 2001, Milwaukee was named the #1 city.", {"2001"}),
    ("Er starb am 2.5.1916.", {"1916"}),
    ("Wie viele Sitze gab es 1990 und 2002?", {"1990", "2002"}),
    ("in den 1990er Jahren", set()),  # a decade, not a year
    ("the 1950s", set()),
    ("1.500 Menschen, 2.000,50 Euro und 2000,5 Tonnen", set()),  # figures written with separators
    ("12000 Menschen, 999 Häuser, 2100 Meter", set()),
    ("seit fast 30 Jahren", set()),
    ("a play from the 1980's", set()),
])
def test_years_named_are_four_digit_figures_standing_alone(text, years):
    assert years_named(text) == years


def test_years_agree_within_one_and_a_text_without_years_is_silent():
    assert years_agree({"2015"}, set())  # names no year: neither says so nor contradicts
    assert years_agree({"2015"}, {"2016", "1999"})  # a season, a fiscal year
    assert years_agree({"2015", "1999"}, {"2016", "1999"})
    assert not years_agree({"1916"}, {"1912", "1914"})
    assert not years_agree({"2015", "1990"}, {"2015"})  # every year asked
    assert years_agree(set(), {"2015"})
