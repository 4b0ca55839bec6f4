"""The answer path's stages and their contracts.

An answer is made by three stages. Each is an object with a typed contract (a Protocol: what it
takes and what it returns), built with only what it reads: its slice of the settings and the
parts of the loaded index and models it uses, as Haystack's components are.

- `FirstStage`: finds the question's passages and ranks their sentences as quote candidates.
- `Judge`: reads the candidates (or not), decides whether they answer the question and picks
  the quotes.
- `ShortAnswerer`: the short answer inside the best quote, when it is sure enough.

`answering.stages_of` is the one place that lists them for a loaded snapshot. A new stage (a
re-ranker that reorders the first stage's candidates, say) is a class that keeps one of these
contracts and a line there; `answering` and the evaluation need no change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from .candidates import Candidate, Retrieved
from .types import ShortAnswer


@dataclass(frozen=True)
class Judgement:
    """What a judge decided about a question's candidates."""

    picked: list[Candidate]  # the quotes, best first (when refused: the closest sentences)
    coverage: float  # the question's worst-matched name or figure in the best quote's passage
    abstained: bool
    margin: float  # how far the best quote is above the point where the answer is refused
    confirms: list[int | None] = field(default_factory=list)  # per picked candidate (reader mode)
    read: bool = False  # the answer model has read the picked candidates (they carry their spans)
    sides: int = 0  # in a conflict (conflict.py), the first `sides` picked are one per different answer


@runtime_checkable
class FirstStage(Protocol):
    def retrieve(self, question: str, files: list[str] | None = None, language: str | None = None) -> Retrieved:
        """The question's passages, best first, from all articles or only from `files`;
        `language` is the question's (detected from it when None)."""
        ...

    def rank(self, retrieved: Retrieved) -> list[Candidate]:
        """Sentences of the best passages as quote candidates, best first."""
        ...


@runtime_checkable
class Judge(Protocol):
    def judge(self, retrieved: Retrieved, candidates: list[Candidate], limit: int) -> Judgement:
        """At most `limit` quotes from `candidates`, and whether they answer the question."""
        ...


@runtime_checkable
class ShortAnswerer(Protocol):
    def short_answer(self, judgement: Judgement, retrieved: Retrieved, question: str, with_topic: bool
                     ) -> ShortAnswer | None:
        """The best quote's answer span, or None; `question` is as the user asked it, and
        `with_topic` says that `retrieved` searched with the conversation's topic added."""
        ...


@dataclass(frozen=True)
class Stages:
    """The stages one answer runs, in order."""

    first_stage: FirstStage
    judge: Judge
    short_answer: ShortAnswerer | None = None  # None: no short answers (similarity mode)
