"""Follow-up questions, resolved by retrieval instead of by rewriting strings.

A follow-up ("Und was sagt Courtois?", "And how many customers does it have?") is asked twice:
alone, and together with the conversation's topic question (the last question that was
answered on its own). Whichever reading is answered better wins; the question alone wins ties,
so a new topic ("Wer ist Chef von T-Systems?") is never bent back to the old one. The topic only
changes when a question is answered on its own, so a chain of follow-ups keeps its topic and
the combined query never grows: it is always the topic plus the current question.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reading:
    """One way of asking the question: its text, and whether the topic was added to it."""

    query: str
    with_topic: bool


def readings(question: str, topic: str | None) -> list[Reading]:
    """The question alone, then (when there is a topic that is not the question) with it."""
    alone = Reading(question, False)
    if not topic or " ".join(topic.split()).casefold() == question.casefold():
        return [alone]
    return [alone, Reading(f"{topic} {question}", True)]


def next_topic(topic: str | None, question: str, with_topic: bool, abstained: bool) -> str | None:
    """The topic for the next turn: a question answered on its own becomes the topic."""
    if abstained or with_topic:
        return topic
    return question
