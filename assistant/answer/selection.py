"""Which ranked candidates become the answer's quotes."""

from __future__ import annotations

from dataclasses import replace

from .abstention import above_threshold
from .candidates import Candidate
from .snapshot import Snapshot


def distinct(snapshot: Snapshot, candidates: list[Candidate]) -> list[Candidate]:
    """The candidates in order, without repeated text (a line can appear twice in an article)."""
    chosen, seen = [], set()
    for c in candidates:
        text = snapshot.view.text(c.article_id, c.start, c.end).strip().lower()
        if text not in seen:
            seen.add(text)
            chosen.append(c)
    return chosen


def join_tied_neighbours(snapshot: Snapshot, chosen: list[Candidate]) -> list[Candidate]:
    """The two best, neighbours in one passage and tied in score, become one quote."""
    if len(chosen) < 2:
        return chosen
    top, second = chosen[0], chosen[1]
    neighbours = abs(top.sentence_id - second.sentence_id) == 1 and top.passage_id == second.passage_id
    if not neighbours or top.score - second.score > snapshot.settings.neighbour_tie_margin:
        return chosen
    joined = replace(top, start=min(top.start, second.start), end=max(top.end, second.end))
    return [joined] + chosen[2:]


def _same_answer(snapshot: Snapshot, a: Candidate, b: Candidate) -> bool:
    from ..normalise import normalise

    text = lambda c: normalise(snapshot.view.text(c.article_id, c.span.start, c.span.end))  # noqa: E731
    return a.span is not None and b.span is not None and text(a) == text(b) != ""


def close_support(snapshot: Snapshot, ranked: list[Candidate], language: str) -> Candidate | None:
    """The best candidate from another article than the first, when it scores within
    `support_margin` of it above each one's abstention threshold: quotes in the other language
    score lower on late interaction, so a German and an English report of the same fact compare
    fairly only after that shift."""
    if not ranked:
        return None
    top = ranked[0]
    support = next((c for c in ranked[1:] if c.article_id != top.article_id), None)
    margin = snapshot.settings.support_margin
    if support is None or above_threshold(snapshot, support, language) < above_threshold(snapshot, top, language) - margin:
        return None
    return support


def select_read(snapshot: Snapshot, candidates: list[Candidate], limit: int,
                language: str) -> list[tuple[Candidate, int | None]]:
    """Reader mode: the read candidates whose span scores within `evidence_gap` of the best,
    best first, each with the number of the quote whose answer it repeats from another article
    (two sources agree), or None. Candidates the reader did not read are not quoted; the first
    stage's close runner-up from another article is kept when the reader finds a span in it."""
    read = [c for c in distinct(snapshot, candidates) if c.reader_score is not None]
    if not read:
        return []
    top = read[0]
    floor = (top.span.margin if top.span else float("-inf")) - snapshot.settings.evidence_gap
    kept = [top] + [c for c in read[1:] if c.span is not None and c.span.margin >= floor]
    support = close_support(snapshot, sorted(read, key=lambda c: -c.score), language)
    if support is not None and support.span is not None and support not in kept[:limit] and limit > 1:
        kept = kept[:limit - 1] + [support]
    kept = kept[:limit]
    return [(c, 1 if i > 0 and c.article_id != top.article_id and _same_answer(snapshot, c, top) else None)
            for i, c in enumerate(kept)]


def select(snapshot: Snapshot, candidates: list[Candidate], limit: int, language: str) -> list[Candidate]:
    """Best sentences, no repeated text; tied neighbours as one quote; a close runner-up from
    another article is kept too.

    "Close" is measured above each quote's own abstention threshold: quotes in the other
    language score lower on late interaction, so a German and an English report of the same
    fact compare fairly only after that shift.
    """
    chosen = join_tied_neighbours(snapshot, distinct(snapshot, candidates))
    if not chosen:
        return []
    top = chosen[0]
    support = close_support(snapshot, chosen, language)
    picked = chosen[:limit]
    if limit > 1 and support is not None and support not in picked:
        picked = [top, support] + [c for c in picked[1:] if c is not support][: limit - 2]
    return picked
