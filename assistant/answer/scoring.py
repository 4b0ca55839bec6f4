"""Features that rank candidate sentences as quotes (their weights: config.Weights).

Dense sentence similarity alone puts a sentence holding the answer first for about 72%
(German) / 64% (English) of XQuAD questions. What moved it past that (measured on XQuAD,
see benchmarks/README.md):
- late interaction: each question word is matched to its most similar token of the sentence
  (MaxSim over contextual token states, which also aligns words across languages), with and
  without the question's function words;
- the sentence pooled from its passage's forward pass (it knows what "it" and "they" refer to);
- the question embedded with the passage prompt against the sentence's own vector;
- small nudges: the passage's retrieval score, shared stemmed words (same language only),
  and a number or year in the sentence when the question asks "how many" / "when".
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np


_WORD = re.compile(r"\w+", re.UNICODE)
_QUESTION_WORDS = set(
    "what which who whom whose when where why how was were is are did does do the a an of in on for to by with "
    "from wer was wie wo wann warum welche welcher welches welchen welchem wem wen wessen".split()
)


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_GERMAN

    return frozenset(STOPWORDS_EN_PLUS) | frozenset(STOPWORDS_GERMAN) | _QUESTION_WORDS


def content_token_mask(question: str, spans: np.ndarray) -> np.ndarray:
    """True for tokens inside a content word of the question (not a function word, not punctuation)."""
    mask = np.zeros(len(spans), dtype=bool)
    stop = _function_words()
    for word in _WORD.finditer(question):
        if word.group().lower() in stop:
            continue
        mask |= (spans[:, 1] > word.start()) & (spans[:, 1] <= word.end())
    return mask if mask.any() else np.ones(len(spans), dtype=bool)


def _is_name_like(word: re.Match, question: str, language: str) -> bool:
    """A name or a figure: a digit, a capital inside the word ("iPhone", "T-Systems"), or, in
    English (where only names are capitalised), a capital not at the start of the question."""
    text = word.group()
    if any(ch.isdigit() for ch in text) or any(ch.isupper() for ch in text[1:]):
        return True
    return language == "en" and text[0].isupper() and question[: word.start()].strip() != ""


def word_coverage(question: str, language: str, spans: np.ndarray, question_tokens: np.ndarray,
                  text_tokens: np.ndarray) -> float:
    """How well the question's worst-matched name or figure is matched by some token of a text.

    A quote can score well on everything else while a name in the question ("Apple",
    "iPhone 15") appears nowhere near it: then the articles do not answer the question.
    1.0 when the question has no name or figure.
    """
    if len(question_tokens) == 0 or len(text_tokens) == 0:
        return 0.0
    best = best_matches(question_tokens, text_tokens)
    stop = _function_words()
    scores = []
    for word in _WORD.finditer(question):
        inside = (spans[:, 1] > word.start()) & (spans[:, 1] <= word.end())
        if word.group().lower() not in stop and inside.any() and _is_name_like(word, question, language):
            scores.append(float(best[inside].max()))
    return min(scores) if scores else 1.0


def best_matches(question_tokens: np.ndarray, text_tokens: np.ndarray) -> np.ndarray:
    """For each question token, its best cosine with any token of the text (ColBERT's MaxSim
    before averaging); zeros when the text has no tokens."""
    if len(text_tokens) == 0:
        return np.zeros(len(question_tokens), dtype=np.float32)
    return (question_tokens @ text_tokens.T).max(axis=1)


def maxsim(best: np.ndarray) -> float:
    """Mean of `best_matches` over the question tokens chosen (0 when none or no text tokens)."""
    return float(best.mean()) if len(best) else 0.0


_TIME_QUESTION = re.compile(
    r"\b(when|what year|which year|what century|wann|in welchem jahr|seit wann|welchem jahrhundert)\b")
_NUMBER_QUESTION = re.compile(
    r"\b(how many|how much|how large|how big|how long|how old|what percentage|what share|wie viele|wie viel|"
    r"wieviel|wie hoch|wie lange|wie alt|wie groß|welcher anteil)\b")
_YEAR = re.compile(r"\b(1\d{3}|20\d{2})\b|jahrhundert|century", re.IGNORECASE)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|hundred|thousand|million|billion|"
    r"eins|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|zwölf|hundert|tausend|millionen?|milliarden?)\b",
    re.IGNORECASE)


def answer_type(question: str) -> str | None:
    """'time' or 'number' when the question asks for one, else None."""
    lowered = question.lower()
    if _TIME_QUESTION.search(lowered):
        return "time"
    if _NUMBER_QUESTION.search(lowered):
        return "number"
    return None


_PERSON_QUESTION = re.compile(r"^\s*(who|whom|whose|wer|wem|wen|wessen)\b", re.IGNORECASE)
_CAPITALISED = re.compile(r"\b[A-ZÄÖÜ][\w.-]*")


def fits_the_question(question: str, answer: str) -> bool:
    """Is a short answer of the kind asked? A year or century for "when/wann", a figure for "how
    many/wie viel", a capitalised name and no figure for "who/wer"; anything for other questions.
    (A wrong short answer costs more trust than none.)"""
    kind = answer_type(question)
    if kind is not None:
        return has_answer_type(kind, answer)
    if _PERSON_QUESTION.search(question):
        return bool(_CAPITALISED.search(answer)) and not any(ch.isdigit() for ch in answer)
    return True


def has_answer_type(kind: str | None, text: str) -> bool:
    if kind == "time":
        return bool(_YEAR.search(text))
    if kind == "number":
        return bool(_NUMBER.search(text))
    return False
