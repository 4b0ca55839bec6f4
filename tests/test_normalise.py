"""The one text normaliser (assistant/normalise.py): numbers get their value in the text's
language, on hand-picked cases and as properties over generated numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.normalise import answer_tokens, normalise, normalise_number, tokens

THOUSANDS = {"de": ".", "en": ","}
DECIMAL = {"de": ",", "en": "."}


@pytest.mark.parametrize("raw, language, expected", [
    ("1,5", "de", "1.5"), ("1.5", "en", "1.5"), ("1,5", "en", "1.5"), ("1,5", None, "1.5"),
    ("132,6", "de", "132.6"),
    ("0,125", "de", "0.125"), ("0,125", "en", "0.125"), ("0,125", None, "0.125"),  # a lead 0 is no thousands group
    ("1.500", "de", "1500"), ("1,500", "en", "1500"),
    ("1,500", "de", "1.500"), ("1.500", "en", "1.500"),  # the language's decimal mark: one and a half
    ("1.000", None, "1000"), ("1,000", None, "1000"),  # no language: a group of three is thousands
    ("3.141", "en", "3.141"), ("3.14", "de", "3.14"),
    ("1.234.567", "de", "1234567"), ("1,234,567", "en", "1234567"), ("1.234.567", None, "1234567"),
    ("1.234,5", "de", "1234.5"), ("1,234.5", "en", "1234.5"), ("1,234.5", None, "1234.5"),
    ("1234,567", None, "1234.567"), ("2018", "de", "2018"),
    ("16.01.2024", "de", "16.01.2024"), ("1.2.3", "en", "1.2.3"), ("1.234,5,6", "de", "1.234.5.6"),
])
def test_normalise_number(raw, language, expected):
    assert normalise_number(raw, language) == expected


def test_the_three_spellings_of_a_thousand_agree_where_the_language_says_so():
    assert normalise_number("1.000", "de") == normalise_number("1,000", "en") == normalise_number("1000") == "1000"
    assert normalise_number("1.000") == normalise_number("1,000") == "1000"


def test_normalise_case_whitespace_punctuation_numbers():
    assert normalise("  Die  VODACOM-Group, (65 Prozent)! ") == "vodacom group 65 prozent"
    assert normalise("$1.5 billion") == normalise("1,5 Billion") == "1.5 billion"
    assert normalise("„Straße“ \n\t ok") == "strasse ok"  # casefold: ß -> ss
    assert normalise("it's") == normalise("it’s") == "its"
    assert normalise("") == "" and tokens("") == []
    assert normalise("?!…") == ""
    assert normalise("1.500 Stellen", "de") == normalise("1,500 Stellen", "en") == "1500 stellen"


def test_answers_are_compared_without_articles_as_squad_and_mlqa_compare_them():
    assert normalise("the Dalai Lama") == normalise("Dalai Lama") == "dalai lama"
    assert normalise("die Quantenphysik", "de") == normalise("Quantenphysik", "de")
    assert normalise("in einem Jahr", "de") == "in jahr" and normalise("A year", "en") == "year"
    assert answer_tokens("Der Bohr-Sommerfeldsche Atom") == ["bohr", "sommerfeldsche", "atom"]
    assert tokens("the Dalai Lama") == ["the", "dalai", "lama"]  # the words as written, for other uses
    assert normalise("die") == normalise("The") == ""  # nothing but an article says nothing
    assert normalise("Theodor Adenauer") == "theodor adenauer" and normalise("Dessau") == "dessau"  # whole words only


def _grouped(whole: int, mark: str) -> str:
    """`whole` written with `mark` between groups of three digits."""
    return f"{whole:,}".replace(",", mark)


@given(whole=st.integers(min_value=0, max_value=10**12), language=st.sampled_from(["de", "en", None]),
       mark=st.sampled_from([".", ","]))
def test_an_integer_with_thousands_separators_is_its_value(whole, language, mark):
    mark = THOUSANDS.get(language, mark)
    assert normalise_number(_grouped(whole, mark), language) == str(whole)


@given(whole=st.integers(min_value=0, max_value=10**9), fraction=st.from_regex(r"\A[0-9]{1,6}\Z"),
       language=st.sampled_from(["de", "en"]), grouped=st.booleans())
def test_a_decimal_in_its_language_is_its_value(whole, fraction, language, grouped):
    written = (_grouped(whole, THOUSANDS[language]) if grouped else str(whole)) + DECIMAL[language] + fraction
    normalised = normalise_number(written, language)
    assert normalised == f"{whole}.{fraction}"
    assert Decimal(normalised) == Decimal(f"{whole}.{fraction}")


@given(whole=st.integers(min_value=0, max_value=10**9), fraction=st.from_regex(r"\A[0-9]{1,6}\Z"))
def test_german_and_english_spellings_of_a_number_agree(whole, fraction):
    german = _grouped(whole, ".") + "," + fraction
    english = _grouped(whole, ",") + "." + fraction
    assert normalise_number(german, "de") == normalise_number(english, "en")
    assert tokens(f"{german} Euro", "de") == tokens(f"{english} euro", "en")


@given(whole=st.integers(min_value=0, max_value=10**9), fraction=st.from_regex(r"\A[0-9]{1,6}\Z"),
       mark=st.sampled_from([".", ","]))
def test_without_a_language_only_a_group_of_three_is_read_as_thousands(whole, fraction, mark):
    written = f"{whole}{mark}{fraction}"
    value = normalise_number(written)
    if len(fraction) == 3 and 1 <= len(str(whole)) <= 3 and whole != 0:
        assert value == f"{whole}{fraction}"
    else:
        assert value == f"{whole}.{fraction}"
