"""Follow-up questions, resolved by retrieval instead of by rewriting strings.

A follow-up is a question that cannot stand alone: it goes on from the last one ("Und was sagt
Courtois?", "And in 2019?"), points back with a pronoun ("And how many customers does it
have?", "Wann wurde sie geschlossen?"), or names nothing of its own ("Wie viele Kunden?").
Only such a question is asked twice: alone, and together with the conversation's topic question
(the last question that was answered on its own). Whichever reading is answered better wins; the
question alone wins ties. A question that stands alone ("Wer ist Chef von T-Systems?") is read
alone only, so a new topic is never bent back to the old one, however well the old topic's
article scores. The topic only changes when a question is answered on its own, so a chain of
follow-ups keeps its topic and the combined query never grows: it is always the topic plus the
current question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .question import content_words

# A question that opens with one of these goes on from the last one ("Und wann?", "And in 2019?").
_GOES_ON = re.compile(r"^\W*(und|and|also|aber|but|sowie|plus|what about|how about|was ist mit)\b", re.IGNORECASE)
# Words that point back to something named earlier. "es"/"there" only after removing their
# existential uses ("gibt es", "is there"); "this"/"dieses" only after removing "this year".
_POINTS_BACK = frozenset(
    "it its itself they them their theirs he him his she her hers there then these those "
    "er ihn ihm sie ihr ihre ihrem ihren ihrer ihres es sein seine seinem seinen seiner seines dessen deren "
    "dort damals dabei dafür dazu davon darauf daran darüber darin dies diese dieser dieses diesem diesen "
    "jene jener jenes derselbe dieselbe dasselbe".split())
_NOT_POINTING = re.compile(
    r"\b(gibt es|gab es|es gibt|es gab|is there|are there|was there|were there|there (is|are|was|were)|"
    r"(this|dieses|diesen|diesem|in diesem) (year|month|week|jahr|monat|woche))\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")


def refers_back(question: str) -> bool:
    """Can the question not stand alone: does it go on from the last one, point back with a
    pronoun, or name fewer than two things of its own (no subject: "Wie viele Kunden?")?"""
    if _GOES_ON.search(question):
        return True
    words = {w.casefold() for w in _WORD.findall(_NOT_POINTING.sub(" ", question))}
    return bool(words & _POINTS_BACK) or len(content_words(question)) < 2


@dataclass(frozen=True)
class Reading:
    """One way of asking the question: its text, and whether the topic was added to it."""

    query: str
    with_topic: bool


def readings(question: str, topic: str | None, max_chars: int = 2000) -> list[Reading]:
    """The question alone, then (when there is a topic that is not the question, and the question
    cannot stand alone: refers_back) with it, unless the two together are longer than a question
    may be (`max_chars`): nothing is ever cut, so then the question is read alone."""
    alone = Reading(question, False)
    if not topic or " ".join(topic.split()).casefold() == question.casefold() or not refers_back(question):
        return [alone]
    combined = f"{topic} {question}"
    return [alone] if len(combined) > max_chars else [alone, Reading(combined, True)]


def next_topic(topic: str | None, question: str, with_topic: bool, abstained: bool) -> str | None:
    """The topic for the next turn: a question answered on its own becomes the topic."""
    if abstained or with_topic:
        return topic
    return question
