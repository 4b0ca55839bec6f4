"""Pure scoring functions for the evaluation runner: no model, no index, no I/O.

Answers are compared after `normalise`: case folded, punctuation and whitespace dropped, and
numbers written one way ("1,5" and "1.5" -> "1.5"; "1.000", "1,000" and "1000" -> "1000"),
so a quote matches an expected answer whatever the article's number format.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

# A number with optional "." / "," groups, or a run of letters/digits.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+", re.UNICODE)
# Typographic variants folded before tokenising (apostrophes join words: "it's" -> "its").
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘`´"), None)


def normalise_number(token: str) -> str:
    """One spelling per number: the decimal mark becomes ".", thousands separators go.

    "1,5" / "1.5" -> "1.5"; "132,6" -> "132.6"; "1.000" / "1,000" -> "1000";
    "1.234,5" / "1,234.5" -> "1234.5"; "0,125" -> "0.125" (a leading 0 is never a thousands group).
    """
    separators = [c for c in token if c in ".,"]
    if not separators:
        return token
    groups = re.split(r"[.,]", token)
    if len(set(separators)) == 2:
        # Both marks: the last one is the decimal mark, the others group thousands.
        return "".join(groups[:-1]) + "." + groups[-1]
    thousands = all(len(g) == 3 for g in groups[1:]) and groups[0] != "0" and len(groups[0]) <= 3
    if len(separators) > 1 or thousands:
        return "".join(groups) if thousands else ".".join(groups)
    return groups[0] + "." + groups[1]


def tokens(text: str) -> list[str]:
    """Normalised tokens of `text` (see the module docstring)."""
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    return [normalise_number(t) if t[0].isdigit() else t for t in _TOKEN.findall(text)]


def normalise(text: str) -> str:
    return " ".join(tokens(text))


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Does `text` contain one of `answers` as whole normalised tokens ("65" is not in "650")?"""
    haystack = f" {normalise(text)} "
    for answer in answers:
        needle = normalise(answer)
        if needle and f" {needle} " in haystack:
            return True
    return False


def token_f1(prediction: str, answer: str) -> float:
    """SQuAD-style F1 of the normalised token bags of `prediction` and `answer`."""
    predicted, expected = tokens(prediction), tokens(answer)
    if not predicted or not expected:
        return 0.0
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def best_f1(texts: Iterable[str], answers: Sequence[str]) -> float:
    """The best token F1 of any text against any acceptable answer (0 with none)."""
    return max((token_f1(t, a) for t in texts for a in answers), default=0.0)


def first_hit_rank(texts: Iterable[str], answers: Sequence[str]) -> int | None:
    """1-based rank of the first text that contains an answer, or None."""
    for rank, text in enumerate(texts, 1):
        if contains_answer(text, answers):
            return rank
    return None


def hit_at(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose first hit is at rank <= k (None: no questions)."""
    if not ranks:
        return None
    return sum(r is not None and r <= k for r in ranks) / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float | None:
    """Mean reciprocal rank; a question with no hit counts 0."""
    if not ranks:
        return None
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks)


def share(flags: Iterable[bool | None]) -> float | None:
    """Share of True among the flags that are not None (None when none apply)."""
    applicable = [bool(f) for f in flags if f is not None]
    if not applicable:
        return None
    return sum(applicable) / len(applicable)


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linearly interpolated as numpy's default does."""
    if not 0 <= q <= 100:
        raise ValueError("percentile must be between 0 and 100")
    data = sorted(values)
    if not data:
        return None
    position = (len(data) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return data[low] + (data[high] - data[low]) * (position - low)


# --------------------------------------------------------------------------- answer types

_MONTH_NAMES = ("januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember|january|"
                "february|march|may|june|july|october|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|okt|nov|"
                "dec|dez")
# "2007", "April 2024", "Dezember 2020", "16. Januar 2024", "January 16, 2024", "2024-01-16", "im Jahr 2007".
_DATE_ANSWER = re.compile(
    r"^(?:(?:am|on|im|in|seit|since|im jahr|in the year)\s+)?(?:"
    r"\d{4}-\d{2}(?:-\d{2})?"
    r"|\d{1,2}\.\d{1,2}\.\d{4}"
    r"|(?:\d{1,2}\.?\s+)?(?:" + _MONTH_NAMES + r")\.?(?:\s+\d{1,2},?)?\s+\d{4}"
    r"|(?:1[5-9]|20)\d{2}"
    r")$",
    re.IGNORECASE,
)
_NUMBER_WORDS = set(
    "ein eine eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dreißig vierzig fünfzig "
    "hundert hunderte tausend tausende zehntausende hunderttausende dutzend dutzende million millionen "
    "milliarde milliarden billion billionen one two three four five six seven eight nine ten eleven twelve "
    "twenty thirty forty fifty hundred hundreds thousand thousands million millions billion billions dozen "
    "dozens half halb prozent percent".split()
)
# Lower-case words inside names ("Ursula von der Leyen", "Bank of England").
_NAME_JOINERS = {"von", "van", "der", "den", "de", "del", "la", "le", "of", "and", "und", "&"}


def gold_answer_type(answers: Sequence[str]) -> str:
    """What kind of answer a question expects, read from its accepted answers: "date" (a date or a
    year), "number" (digits or number words), "name" (capitalised words: people, companies,
    places, products; German nouns land here too), else "other"; "unanswerable" without answers.

    With several accepted answers a date wins over a number, a number over the rest, and "name"
    needs every alternative to be one ("zehnjährige" / "10-year" is a number).
    """
    if not answers:
        return "unanswerable"
    kinds = {_answer_kind(a) for a in answers}
    for kind in ("date", "number"):
        if kind in kinds:
            return kind
    return "name" if kinds == {"name"} else "other"


def _answer_kind(answer: str) -> str:
    text = " ".join(answer.split()).strip(" .")
    if _DATE_ANSWER.match(text):
        return "date"
    words = re.findall(r"[^\W_]+(?:[-'’.][^\W_]+)*", text)
    if re.search(r"\d", text) or any(w.lower() in _NUMBER_WORDS for w in words):
        return "number"
    if words and len(words) <= 6 and words[0][0].isupper() and all(
            w[0].isupper() or any(c.isupper() for c in w) or w.lower() in _NAME_JOINERS for w in words):
        return "name"
    return "other"
