"""Features that rank candidate sentences as quotes (their weights: config.Weights).

Dense sentence similarity alone puts a sentence holding the answer first for about 72%
(German) / 64% (English) of XQuAD questions. What moved it past that (measured on XQuAD,
see benchmarks/README.md):
- the sentence pooled from its passage's forward pass (it knows what "it" and "they" refer to);
- the question embedded with the passage prompt against the sentence's own vector;
- small nudges: the passage's retrieval score, shared stemmed words (same language only),
  and a number or year in the sentence when the question asks "how many" / "when".
Late interaction over stored token states (MaxSim) was dropped in index format 5: refitted
without it, the first quote held the answer more often on the development split
(benchmarks/feature_ablation.py), and the states were 90% of an index's bytes.
"""

from __future__ import annotations

import re

from ..ingest.language import WORD, stop_words


# Two capitals, then lower case only: the shift key held a letter too long ("FUnktion",
# "WIssen": every such word of the development questions), not a name.
_CAPS_SLIP = re.compile(r"[A-ZÄÖÜ]{2}[a-zäöüß]{2,}")


def _is_name_like(word: re.Match, question: str, language: str) -> bool:
    """A name or a figure: a digit, a capital inside the word ("iPhone", "T-Systems"; not a slip
    of the shift key), or, in English (where only names are capitalised), a capital not at the
    start of the question."""
    text = word.group()
    if any(ch.isdigit() for ch in text) or (any(ch.isupper() for ch in text[1:]) and not _CAPS_SLIP.fullmatch(text)):
        return True
    return language == "en" and text[0].isupper() and question[: word.start()].strip() != ""


def question_names(question: str, language: str) -> set[str]:
    """The question's names and figures (lower-cased): what word_coverage looks for."""
    stop = stop_words()
    return {w.group().lower() for w in WORD.finditer(question)
            if w.group().lower() not in stop and _is_name_like(w, question, language)}


def word_coverage(question: str, language: str, text: str) -> float:
    """How well the question's worst-matched name or figure is matched by some word of a text
    (rapidfuzz's normalised edit similarity, 0-1: inflections and spellings across languages,
    "Vodafones" / "Vodafone" 0.94, "Warschau" / "Warsaw" 0.71, still match; a C library rather
    than a hand-written edit distance, as it runs over every word of a passage).

    A quote can score well on everything else while a name in the question ("Apple",
    "iPhone 15") appears nowhere near it: then the articles do not answer the question.
    1.0 when the question has no name or figure.
    """
    return names_coverage(question_names(question, language), text)


def names_coverage(names: set[str], text: str) -> float:
    """How well the worst-matched of `names` (lower-cased) is matched by some word of a text
    (word_coverage's measure); 1.0 for no names."""
    from rapidfuzz import fuzz, process

    if not names:
        return 1.0
    words = list({w.lower() for w in WORD.findall(text)})
    if not words:
        return 0.0
    return min(process.extractOne(name, words, scorer=fuzz.ratio)[1] / 100.0 for name in names)


# A four-digit figure between 1000 and 2099 standing alone ("In 2001,", "am 2.5.1916"; not "1990er",
# "1950s", "the 1980's", "12000" or "2000,5"): a year, mostly.
_YEAR = re.compile(r"(?<!\w)(?:1\d{3}|20\d{2})(?!\w|[.,]\d|['’]s\b)")


def years_named(text: str) -> set[str]:
    """The years (four-digit figures 1000-2099 standing alone) a text names."""
    return set(_YEAR.findall(text))


def years_agree(asked: set[str], named: set[str]) -> bool:
    """Could a text that names the years `named` speak of every year `asked`? Yes when it names
    none (it is silent, not contradicting: a report on "Super Bowl 50" names no season), and when
    each year asked is within one of a year named (a season, a fiscal year, last December's news
    in January's article)."""
    return not named or all(any(abs(int(a) - int(n)) <= 1 for n in named) for a in asked)


# A time is asked for by "wann" anywhere (German's "when" of a clause is "wenn" or "als"), by an
# English "when" that opens the question before its verb ("When did ...", "And since when is
# ...": not "Who is with Weyland when the team returns?" nor "When the lamas were invited, who
# ..."), or by naming the unit ("what year", "in welchem Jahrhundert").
_TIME_QUESTION = re.compile(
    r"\bwann\b"
    r"|^\W*(?:(?:and|but|so)\s+)?(?:(?:since|until|till|from|by)\s+)?when\s+(?:did|do|does|was|were|is|are|will|"
    r"would|has|have|had|can|could|should|might|may|must|shall)\b"
    r"|\b(?:what|which)\s+(?:year|century|decade|month|date)\b"
    r"|\b(?:welche[mnrs]?)\s+(?:jahr|jahrhundert|jahrzehnt|monat|datum)\b")
# The day is asked for ("An welchem Tag ...?", "On what day ...?"): a weekday answers it too.
_DAY_QUESTION = re.compile(r"\b(?:what|which)\s+(?:week)?day\b|\bwelche[mnrs]?\s+(?:wochen)?tag\b")
_NUMBER_QUESTION = re.compile(
    r"\b(how many|how much|how large|how big|how long|how old|what percentage|what share|wie viele|wie viel|"
    r"wieviel|wie hoch|wie lange|wie alt|wie groß|welcher anteil)\b")
_MONTHS = ("januar|jänner|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember|"
           "january|february|march|may|june|july|october|december")
# Months that are not also a name or a verb ("August Bebel", "Karl May", "they march") are a time alone.
_PLAIN_MONTHS = "|".join(m for m in _MONTHS.split("|") if m not in ("mai", "august", "march", "may"))
_WEEKDAYS = ("montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag|"
             "monday|tuesday|wednesday|thursday|friday|saturday|sunday")
# A time: a year (also of a decade, "1940er", "1430s"), a century or era, a month (one that is also
# a name or a verb only with a day, a year or a preposition: "im August", "May 3", not "August
# Bebel" or "it may rain"), a date in figures ("3.10.20"), or how long ago ("vor 150000 Jahren").
# A weekday alone answers only a question for the day: "Wann wurde die Telekom gegründet?" is not
# answered by "Das kündigten beide am Donnerstag an."
_TIME = re.compile(
    r"\b(?:1\d{3}|20\d{2})(?:er|s)?\b|\b\d{1,4}\s*(?:n\.|v\.)\s*chr\b|\b\d{1,4}\s*(?:bc|ad|bce|ce)\b"
    r"|\b\d{3,4}\s*[–-]\s*\d{3,4}\b|jahrhundert|century|jahrtausend|millennium|\b(?:" + _PLAIN_MONTHS + r")\b"
    r"|(?:\b\d{1,2}(?:\.|st|nd|rd|th)?\s*|\b(?:im|in|am|seit|bis|ab|anfang|mitte|ende|vom|zum|of|on|since|until|by|"
    r"early|late|mid|during)\s+)(?:" + _MONTHS + r")\b|\b(?:" + _MONTHS + r")\s+\d"
    r"|\b\d{1,2}\.\d{1,2}\.\d{2}\b"
    r"|\b(?:years?|decades?|centuries)\s+ago\b|\bvor\s+(?:\S+\s+){0,4}(?:jahren|jahrzehnten|jahrhunderten)\b",
    re.IGNORECASE)
_WEEKDAY = re.compile(r"\b(?:" + _WEEKDAYS + r")\b", re.IGNORECASE)
# Number words, German and English: what makes a text a figure without a digit ("zehn Jahre",
# "Zehntausende", "two dozen"). The one list for the answer path (has_answer_type, the short
# answer's kind) and the evaluation (metrics.gold_answer_type). Not the articles "ein"/"eine".
NUMBER_WORDS = frozenset(
    "eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf zwanzig dreißig vierzig fünfzig hundert "
    "hunderte tausend tausende zehntausende hunderttausende dutzend dutzende million millionen milliarde "
    "milliarden billion billionen hälfte halb prozent one two three four five six seven eight nine ten eleven "
    "twelve twenty thirty forty fifty hundred hundreds thousand thousands million millions billion billions "
    "dozen dozens half percent".split())


def mentions_a_number(text: str) -> bool:
    """A digit or a number word (NUMBER_WORDS)."""
    return any(ch.isdigit() for ch in text) or any(w.lower() in NUMBER_WORDS for w in WORD.findall(text))


def answer_type(question: str) -> str | None:
    """'day', 'time' or 'number' when the question asks for one, else None."""
    lowered = question.lower()
    if _DAY_QUESTION.search(lowered):
        return "day"
    if _TIME_QUESTION.search(lowered):
        return "time"
    if _NUMBER_QUESTION.search(lowered):
        return "number"
    return None


_PERSON_QUESTION = re.compile(r"^\s*(who|whom|whose|wer|wem|wen|wessen)\b", re.IGNORECASE)
# "Which fair?", "Auf welcher Messe?": a thing is asked for by name (a time or a figure is asked
# with "when" / "how many", answer_type), so a bare figure or year does not answer it.
_WHICH_QUESTION = re.compile(r"\b(which|welche[mnrs]?)\b", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-ZÄÖÜ][\w.-]*")
# A job title names a role, not who holds it: "T-System-Chef", "Vorstandsvorsitzende", "CEO".
# An answer whose last word (or the last part of a hyphenated one) ends in one of these is a title.
_ROLE = re.compile(
    r"(chef|chefin|ceo|cfo|cto|vorstand|vorsitzender?|präsident|präsidentin|direktor|direktorin|leiter|leiterin|"
    r"sprecher|sprecherin|minister|ministerin|manager|managerin|gründer|gründerin|head|chief|president|director|"
    r"founder|spokesperson|spokesman|spokeswoman|chairman|chairwoman|chair|officer)$", re.IGNORECASE)


def is_a_title(answer: str) -> bool:
    """Does the answer end in a job title ("T-System-Chef", "the CEO") rather than a name?"""
    words = re.split(r"[\s-]+", answer.strip(" .,;:"))
    return bool(words) and bool(_ROLE.search(words[-1]))


def fits_the_question(question: str, answer: str) -> bool:
    """Is a short answer of the kind asked? A year or century for "when/wann", a figure for "how
    many/wie viel", a capitalised name, not a job title, and no figure for "who/wer", words (not
    only a figure) for "which/welche"; anything for other questions.
    (A wrong short answer costs more trust than none.)"""
    kind = answer_type(question)
    if kind is not None:
        return has_answer_type(kind, answer)
    if _PERSON_QUESTION.search(question):
        return bool(_CAPITALISED.search(answer)) and not any(ch.isdigit() for ch in answer) and not is_a_title(answer)
    if _WHICH_QUESTION.search(question):
        return any(ch.isalpha() for ch in answer)
    return True


def has_answer_type(kind: str | None, text: str) -> bool:
    if kind == "time":
        return bool(_TIME.search(text))
    if kind == "day":
        return bool(_TIME.search(text) or _WEEKDAY.search(text))
    if kind == "number":
        return mentions_a_number(text)
    return False
