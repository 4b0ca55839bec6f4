"""One way to write numbers and compare answer text, for the index, the answers and the evaluation.

It sits beside config.py, under every layer (ingest -> index -> answer -> core -> web / cli /
evaluation), so each of them can import it without importing another layer.

Numbers: `normalise_number` writes a number with "." as the decimal mark and no thousands
separators, reading the separators the way the text's language does:

    German  "1.500" = 1500   "1,5" = 1.5   "1,500" = 1.5     "1.234,5" = 1234.5
    English "1,500" = 1500   "1.5" = 1.5   "1.500" = 1.5     "1,234.5" = 1234.5

Without a language (an answer of unknown language), a single group of three digits after a
lead of one to three digits is a thousands group whichever mark it follows ("1.000" = "1,000"
= 1000); anything else is a decimal. In every language a lead of 0 is never a thousands group
("0,125" = 0.125), and a token whose groups are not a number's ("16.01.2024", "1.2.3") keeps its
groups, joined with ".".

Answer text: `tokens` / `normalise` fold case (casefold: "ß" = "ss"), Unicode forms (NFKC) and
apostrophes ("it's" = "its"), drop punctuation and whitespace, and normalise numbers, so a quote
matches an expected answer whatever the article's number format. `answer_tokens` and `normalise`
also drop articles, as the official SQuAD and MLQA evaluations do ("Dalai Lama" answers what
"the Dalai Lama" answers; "Quantenphysik" what "die Quantenphysik" answers).
"""

from __future__ import annotations

import re
import unicodedata

# A run of digits with "." / "," groups: "2024", "1,5", "1.234.567", "16.01.2024".
NUMBER = r"\d+(?:[.,]\d+)*"
# Each language's decimal mark; the other mark separates thousands. Other languages: unknown.
DECIMAL_MARK = {"de": ",", "en": "."}

_GROUPS = re.compile(r"[.,]")
_ANSWER_TOKEN = re.compile(NUMBER + r"|[^\W_]+", re.UNICODE)
# Typographic variants folded before tokenising (apostrophes join words: "it's" -> "its").
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘`´"), None)


def _leads_thousands(group: str) -> bool:
    """Can `group` be the first group of a number written with thousands separators?"""
    return 1 <= len(group) <= 3 and group[0] != "0"


def normalise_number(token: str, language: str | None = None) -> str:
    """`token` (digits with "." / "," groups) with "." as the decimal mark and no thousands
    separators; `language` ("de", "en" or None) says which mark is which (module docstring)."""
    marks = [c for c in token if c in ".,"]
    if not marks:
        return token
    groups = _GROUPS.split(token)
    grouped = _leads_thousands(groups[0]) and all(len(g) == 3 for g in groups[1:-1])
    if len(set(marks)) == 2:
        # Both marks: a number only when one mark separates thousands and the last one, used
        # once, is the decimal mark ("1.234,5", "1,234.5").
        decimal = marks[-1]
        if marks.count(decimal) == 1 and grouped:
            return "".join(groups[:-1]) + "." + groups[-1]
        return ".".join(groups)
    if len(marks) > 1:  # one mark, several times: thousands ("1.234.567"), else not a number
        return "".join(groups) if grouped and len(groups[-1]) == 3 else ".".join(groups)
    whole, part = groups
    thousands = grouped and len(part) == 3 and DECIMAL_MARK.get(language) != marks[0]
    return whole + part if thousands else whole + "." + part


def tokens(text: str, language: str | None = None) -> list[str]:
    """The normalised tokens of answer text (module docstring); numbers read in `language`."""
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    return [normalise_number(t, language) if t[0].isdigit() else t for t in _ANSWER_TOKEN.findall(text)]


# The English and German articles (MLQA's evaluation lists: a, an, the; ein ... des), dropped on
# both sides of every answer comparison whatever the texts' languages, so an English question's
# expected answer and a German span are compared the same way.
ARTICLES = frozenset(("a", "an", "the", "der", "die", "das", "des", "dem", "den",
                      "ein", "eine", "einen", "einem", "eines", "einer"))


def answer_tokens(text: str, language: str | None = None) -> list[str]:
    """`tokens` without articles: how answer text is compared (token F1, containment, agreement)."""
    return [t for t in tokens(text, language) if t not in ARTICLES]


def normalise(text: str, language: str | None = None) -> str:
    """`answer_tokens` joined by single spaces: equal for two texts that say the same words and
    numbers, articles aside."""
    return " ".join(answer_tokens(text, language))
