"""Which ranked candidates become the answer's quotes."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import NamedTuple

from ..config import AbstentionPolicy, ReaderPolicy
from ..index.view import IndexView
from ..normalise import NUMBER, normalise, normalise_number
from .abstention import above_threshold
from .candidates import Candidate


def distinct(view: IndexView, candidates: list[Candidate]) -> list[Candidate]:
    """The candidates in order, without repeated text (a line can appear twice in an article)."""
    chosen, seen = [], set()
    for c in candidates:
        text = view.text(c.article_id, c.start, c.end).strip().lower()
        if text not in seen:
            seen.add(text)
            chosen.append(c)
    return chosen


def join_tied_neighbours(chosen: list[Candidate], tie_margin: float) -> list[Candidate]:
    """The two best, neighbours in one passage and within `tie_margin` in score, become one quote."""
    if len(chosen) < 2:
        return chosen
    top, second = chosen[0], chosen[1]
    neighbours = abs(top.sentence_id - second.sentence_id) == 1 and top.passage_id == second.passage_id
    if not neighbours or top.score - second.score > tie_margin:
        return chosen
    joined = replace(top, start=min(top.start, second.start), end=max(top.end, second.end))
    return [joined] + chosen[2:]


def answers_agree(a: str, language_a: str | None, b: str, language_b: str | None) -> bool:
    """Do two answer spans say the same? When both hold figures, they agree when a figure is the
    same ("$1.5 billion" and "1,5 Milliarden US-Dollar": two reports of one fact, in two
    languages); otherwise their normalised texts must be equal."""
    figures_a = {normalise_number(n, language_a) for n in re.findall(NUMBER, a)}
    figures_b = {normalise_number(n, language_b) for n in re.findall(NUMBER, b)}
    if figures_a and figures_b:
        return bool(figures_a & figures_b)
    return normalise(a, language_a) == normalise(b, language_b) != ""


class SpanAnswer(NamedTuple):
    """A read quote's answer as the short-answer rule sees it: plain values, so that the answer
    path and benchmarks/fit_answer_policy.py (which has only its readings) apply one rule."""

    article: int
    language: str  # the article's
    probability: float  # that the quote holds the answer
    span: str | None  # its answer span's text; None when it has none


def another_article_disagrees(policy: ReaderPolicy, best: SpanAnswer, others: list[SpanAnswer]) -> bool:
    """Does a quote of another article, sure enough to count, give a different answer than the
    best quote's? Then no short answer is shown. Sure enough: at least its language's
    short-answer bar (ReaderPolicy.short_answer_gate); a quote in a language without a gate
    always counts."""
    if best.span is None:
        return False
    for other in others:
        if other.article == best.article or other.span is None:
            continue
        gate = policy.short_answer_gate(other.language)
        if (gate is None or other.probability >= gate.above) and \
                not answers_agree(other.span, other.language, best.span, best.language):
            return True
    return False


def span_answer(view: IndexView, c: Candidate) -> SpanAnswer:
    """A read candidate as SpanAnswer."""
    span = view.text(c.article_id, c.span.start, c.span.end) if c.span is not None else None
    return SpanAnswer(c.article_id, view.articles[c.article_id].language, float(c.reader_score or 0.0), span)


def same_answer(view: IndexView, a: Candidate, b: Candidate) -> bool:
    """Do the two candidates' answer spans say the same (answers_agree)?"""
    if a.span is None or b.span is None:
        return False
    return answers_agree(view.text(a.article_id, a.span.start, a.span.end), view.articles[a.article_id].language,
                         view.text(b.article_id, b.span.start, b.span.end), view.articles[b.article_id].language)


def close_support(rules: SimilaritySelection, view: IndexView, ranked: list[Candidate], language: str
                  ) -> Candidate | None:
    """The best candidate from another article than the first, when it scores within
    `support_margin` of it above each one's abstention threshold: quotes in the other language
    score lower (cosines across languages run lower), so a German and an English report of the
    same fact compare fairly only after that shift."""
    if not ranked:
        return None
    top = ranked[0]
    support = next((c for c in ranked[1:] if c.article_id != top.article_id), None)
    if support is None or above_threshold(rules.abstention, view, support, language) < \
            above_threshold(rules.abstention, view, top, language) - rules.support_margin:
        return None
    return support


def is_the_title(title: str, sentence: str) -> bool:
    """Is the sentence the article's title (its first sentence, perhaps cut short)? The model was
    trained on titles that are not the sentence it reads; read twice, the sentence misleads it."""
    title, sentence = title.strip().rstrip(".!?"), sentence.strip()
    return bool(title) and sentence.startswith(title) and len(title) >= len(sentence) / 2


def is_the_headline(view: IndexView, c: Candidate) -> bool:
    """Is the candidate sentence its article's title? Then it only repeats the citation's title:
    filler, never a further quote nor a closest passage of a refusal."""
    return is_the_title(view.articles[c.article_id].title or "", view.text(c.article_id, c.start, c.end))


def further_quote_floor(policy: ReaderPolicy, first: float) -> float:
    """How likely a further quote must be, given the first quote's probability `first`."""
    return max(policy.keep_share * first, policy.refuse_below)


def select_read(policy: ReaderPolicy, view: IndexView, ranked: list[Candidate], limit: int) -> list[Candidate]:
    """Answer-model mode: the first sentence, and further ones only when they are at least
    `reader_policy.keep_share` as likely to hold the answer as the first (no filler quotes far
    below it, and no headline that only repeats its citation's title)."""
    if not ranked:
        return []
    top = ranked[0]
    keep = further_quote_floor(policy, top.reader_score)
    return [top] + [c for c in ranked[1:] if c.reader_score >= keep and not is_the_headline(view, c)][: limit - 1]


def confirmations(view: IndexView, quotes: list[Candidate]) -> list[int | None]:
    """Per quote, the number of the first earlier quote from another article whose answer it
    repeats (two sources agree), or None."""
    return [next((j for j, earlier in enumerate(quotes[:i], 1)
                  if earlier.article_id != c.article_id and same_answer(view, c, earlier)), None)
            for i, c in enumerate(quotes)]


@dataclass(frozen=True)
class SimilaritySelection:
    """The similarity mode's slice of the settings for choosing quotes."""

    abstention: AbstentionPolicy
    support_margin: float
    neighbour_tie_margin: float


def select(rules: SimilaritySelection, view: IndexView, candidates: list[Candidate], limit: int, language: str
           ) -> list[Candidate]:
    """Best sentences, no repeated text; tied neighbours as one quote; a close runner-up from
    another article is kept too.

    "Close" is measured above each quote's own abstention threshold: quotes in the other
    language score lower (cosines across languages run lower), so a German and an English
    report of the same fact compare fairly only after that shift.
    """
    chosen = join_tied_neighbours(distinct(view, candidates), rules.neighbour_tie_margin)
    if not chosen:
        return []
    top = chosen[0]
    support = close_support(rules, view, chosen, language)
    picked = chosen[:limit]
    if limit > 1 and support is not None and support not in picked:
        picked = [top, support] + [c for c in picked[1:] if c is not support][: limit - 2]
    return picked
