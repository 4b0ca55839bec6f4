"""Articles that disagree: sure answers from different articles that say different things.

A reader must see a disagreement, not one side of it: when sentences of two or more articles
answer the question (`answers`: more likely than not to hold the answer, with an answer span of
the kind asked that beats "no answer" or nearly) and their spans do not say the same (`selection.same_answer`), the
answer is a conflict. It shows one quote for each different answer, newest article first, before
any quote that repeats an answer (three copies of one claim must not push the other claim out),
and no single short answer.
"""

from __future__ import annotations

from ..config import ReaderPolicy
from ..index.view import IndexView
from .candidates import Candidate
from .scoring import fits_the_question
from .selection import is_the_headline, same_answer


def answers(policy: ReaderPolicy, view: IndexView, c: Candidate, question: str) -> bool:
    """Does this read candidate answer the question: at least `reader_policy.conflict_above`
    likely to hold the answer, not a headline, and a span of the kind asked
    (scoring.fits_the_question) at least `reader_policy.conflict_margin` above "no answer"?"""
    if c.span is None or c.reader_score is None or c.span.margin < policy.conflict_margin \
            or c.reader_score < policy.conflict_above or is_the_headline(view, c):
        return False
    return fits_the_question(question, view.text(c.article_id, c.span.start, c.span.end))


def answer_groups(view: IndexView, candidates: list[Candidate]) -> list[list[Candidate]]:
    """The candidates grouped by what their spans say, in order of each group's first candidate."""
    groups: list[list[Candidate]] = []
    for c in candidates:
        group = next((g for g in groups if same_answer(view, g[0], c)), None)
        if group is None:
            groups.append([c])
        else:
            group.append(c)
    return groups


def _date(view: IndexView, c: Candidate) -> str:
    """The article's date ("2024-01-16", "2020-12"; "" when unknown): ISO strings sort by time."""
    return view.articles[c.article_id].date or ""


def conflict_sides(policy: ReaderPolicy, view: IndexView, read: list[Candidate], question: str) -> list[Candidate]:
    """One candidate per different answer (the likeliest of each), newest article first, when
    candidates from different articles answer the question differently; [] when they do not."""
    answering = sorted((c for c in read if answers(policy, view, c, question)), key=lambda c: -c.reader_score)
    groups = answer_groups(view, answering)
    if len(groups) < 2:
        return []
    sides = [g[0] for g in groups]
    if len({c.article_id for c in sides}) < 2:
        return []  # one article giving two figures is not articles disagreeing
    return sorted(sides, key=lambda c: _date(view, c), reverse=True)  # stable: ties keep their order


def with_sides_first(sides: list[Candidate], picked: list[Candidate], limit: int) -> list[Candidate]:
    """The sides' quotes first, then the picked quotes not yet shown; at least every side, else
    at most `limit` quotes."""
    shown = {(c.article_id, c.start, c.end) for c in sides}
    rest = [c for c in picked if (c.article_id, c.start, c.end) not in shown]
    return sides + rest[: max(0, limit - len(sides))]
