"""What an answer is: typed results that the CLI, the chat and the evaluation all read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


class QuestionError(ValueError):
    """The question cannot be answered as asked (empty, only whitespace)."""


@dataclass(frozen=True)
class Quote:
    """An exact span of an article: `text == article.text[start:end]`."""

    number: int
    text: str
    source: str  # the article's file name
    start: int
    end: int
    # On the scale of the mode that answered: the answer model's probability that the quote holds
    # the answer (0-1), or with ASSISTANT_READER=0 the first stage's weighted similarity. Compare
    # scores within one mode only; the evaluation records which (summary.json "mode").
    score: float
    title: str
    date: str | None
    language: str
    authors: tuple[str, ...] = ()
    # The number of an earlier quote, from another article, whose answer this quote repeats
    # ("two sources agree"); None when it adds evidence of its own.
    confirms: int | None = None


@dataclass(frozen=True)
class ShortAnswer:
    """The shortest span that answers the question, inside quote number `quote`."""

    text: str
    source: str
    start: int
    end: int
    quote: int


@dataclass(frozen=True)
class MetadataCitation:
    """An answer taken from an article's metadata (its web page's author field), not its text:
    there is no span to quote, so the answer says where it came from."""

    field: str  # "authors"
    value: tuple[str, ...]
    source: str
    title: str


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str  # the whole answer as plain text (render.py)
    abstained: bool
    language: str
    quotes: list[Quote] = field(default_factory=list)
    related: list[Quote] = field(default_factory=list)  # closest passages when abstaining
    top_score: float = 0.0  # the first quote's score (Quote.score: its scale is the mode's)
    # The question's worst-matched name or figure against the best quote's passage (0-1).
    coverage: float = 0.0
    short_answer: ShortAnswer | None = None
    # The query that was answered, when the conversation's topic was added to the question.
    understood_as: str | None = None
    metadata: MetadataCitation | None = None
    # The articles disagree (answer/conflict.py): sure answers from different articles say
    # different things. Then `sides` holds one answer span per different answer, each in its own
    # quote (the first quotes, newest article first), and there is no single short answer.
    conflict: bool = False
    sides: list[ShortAnswer] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)
