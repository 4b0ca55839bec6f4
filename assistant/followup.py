"""Resolve a follow-up question with the previous one, before retrieval.

No language model is available, so this is a small rule set, deliberately conservative:

1. A question that names something itself (a capitalised word after the first one, in English)
   and does not start like a follow-up stands alone and is left unchanged.
2. A question with a pronoun (it, its, they, their, es, sie, dessen, ...) gets the previous
   question's topic. English: the topic, the first capitalised word after the first word of the
   previous question, takes the pronoun's place ("What share of Vodacom does Vodafone own?",
   "And how many customers does it have?" -> "How many customers does Vodacom have?"). German:
   every noun is capitalised, so a name cannot be told apart from a plain noun; all capitalised
   words of the previous question are added in brackets ("Wie viele Kunden hat es? (Prozent
   Vodacom Vodafone)").
3. A short question starting "And ...", "What about ...", "Und ...", "Was ist mit ..." without
   a pronoun gets the previous question added in brackets.

The previous question is the previous *resolved* question, so a chain of follow-ups keeps its topic.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w'’-]+")
_EN_PRONOUNS = {"it": "{t}", "its": "{t}'s", "they": "{t}", "them": "{t}", "their": "{t}'s",
                "he": "{t}", "she": "{t}", "his": "{t}'s", "her": "{t}'s"}
_DE_PRONOUNS = {"es", "er", "sie", "ihn", "ihm", "ihr", "ihre", "ihren", "ihrem", "ihrer", "sein", "seine",
                "seinen", "seinem", "seiner", "dessen", "deren", "dort", "dieses", "diese", "dieser"}
_OPENERS = ("and ", "what about ", "how about ", "und ", "was ist mit ", "wie ist es mit ", "und was ")
_QUESTION_WORDS = {"what", "who", "when", "where", "which", "why", "how", "does", "did", "is", "are", "was",
                   "were", "do", "can", "will", "and", "wer", "was", "wann", "wo", "wie", "welche", "welcher",
                   "welches", "warum", "wieso", "weshalb", "hat", "ist", "sind", "und", "i", "the", "a", "an"}
_SHORT = 8  # words: longer questions starting with "and" are taken to stand alone


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def topic(question: str) -> str | None:
    """First capitalised word after the first word, skipping question words; None if there is none."""
    for word in _words(question)[1:]:
        if word[:1].isupper() and word.lower() not in _QUESTION_WORDS:
            return word
    return None


def _capitalised(question: str) -> list[str]:
    seen: list[str] = []
    for word in _words(question)[1:]:
        if word[:1].isupper() and word.lower() not in _QUESTION_WORDS and word not in seen:
            seen.append(word)
    return seen


def resolve(question: str, previous: str | None, language: str = "en") -> str:
    """`question` (in `language`, "de" or "en") rewritten to stand alone, using the previous
    resolved question (see module doc)."""
    question = " ".join(question.split())
    if not previous or not question:
        return question
    words = _words(question)
    lowered = [w.lower() for w in words]
    opener = question.lower().startswith(_OPENERS)
    german = language == "de"
    own_topic = None if german else topic(question)
    subject = topic(previous)
    if german:
        names = _capitalised(previous)
        if names and any(w in _DE_PRONOUNS for w in lowered[1:]):
            return f"{question} ({' '.join(names)})"
        if opener and len(words) <= _SHORT:
            return f"{question} ({previous})"
        return question
    if own_topic and not opener:
        return question
    if subject and any(w in _EN_PRONOUNS for w in lowered):
        return _replace_first_pronoun(question, subject)
    if opener and len(words) <= _SHORT:
        return f"{question} ({previous})"
    return question


def _replace_first_pronoun(question: str, subject: str) -> str:
    def swap(match: re.Match) -> str:
        word = match.group(0)
        return _EN_PRONOUNS[word.lower()].format(t=subject)

    text = re.sub(r"\b(" + "|".join(_EN_PRONOUNS) + r")\b", swap, question, count=1, flags=re.IGNORECASE)
    # "And how many ..." -> "How many ...": the connective carries nothing once the topic is in.
    text = re.sub(r"^(and|so|also)\s+", "", text, flags=re.IGNORECASE)
    return text[:1].upper() + text[1:]
