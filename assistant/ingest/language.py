"""Is a text German or English? Decides the framing language and the lexical stemmer."""

from __future__ import annotations

import re
from functools import lru_cache

GERMAN, ENGLISH = "de", "en"

# Function words settle short questions ("Wer ist CEO?") that n-gram models get wrong.
_FUNCTION_WORDS = {
    GERMAN: set(
        "der die das den dem des ein eine einen einem einer ist sind war waren wer was wie wo wann warum "
        "welche welcher welches wieviel wieviele viele hat haben wird werden und oder nicht mit von zu "
        "für auf aus bei nach über im am ich sie es wir ihr kann können soll sollen gibt".split()
    ),
    ENGLISH: set(
        # Not "an" and "in": German uses them as much ("Teams an Schulen", "in Berlin").
        "the a of is are was were who what how where when why which whom whose many much has have "
        "does do did will would and or not with from to for on at by it its this that can could "
        "should there".split()
    ),
}
_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)  # the language vote counts words of letters only
# A word, for every other use (the question's content words, its names and figures, what a quote
# covers): a run of letters and digits, so "T-Systems" is two words and "5G" one.
WORD = re.compile(r"[^\W_]+", re.UNICODE)
_QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how was were is are did does do the a an of in on for to by with "
    "from wer was wie wo wann warum welche welcher welches welchen welchem wem wen wessen".split()
)


def function_words(language: str) -> frozenset[str]:
    """Lower-case function words of "de" or "en" (English for any other language): the short
    list that votes on a short text's language and leaves a question something to search for."""
    return frozenset(_FUNCTION_WORDS.get(language, _FUNCTION_WORDS[ENGLISH]))


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Every German and English stop word (bm25s's lists, the function words and question words):
    the broad list for telling a question's names and figures from the words around them."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_GERMAN

    return (frozenset(STOPWORDS_EN_PLUS) | frozenset(STOPWORDS_GERMAN) | _QUESTION_WORDS
            | function_words(GERMAN) | function_words(ENGLISH))


@lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.GERMAN).build()


def _function_word_vote(text: str) -> str | None:
    words = [w.lower() for w in _LETTERS.findall(text)]
    german = sum(w in _FUNCTION_WORDS[GERMAN] for w in words)
    english = sum(w in _FUNCTION_WORDS[ENGLISH] for w in words)
    if german == english:
        return None
    return GERMAN if german > english else ENGLISH


def detect_language(text: str, default: str = ENGLISH) -> str:
    """'de' or 'en'; `default` when the text carries no evidence either way (digits, symbols)."""
    sample = text[:3000]
    if len(_LETTERS.findall(sample)) <= 12:
        vote = _function_word_vote(sample)
        if vote:
            return vote
    found = _detector().detect_language_of(sample)
    if found is None:
        return _function_word_vote(sample) or default
    return GERMAN if found.name == "GERMAN" else ENGLISH
