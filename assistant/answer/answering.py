"""Answer a question with verbatim, cited quotes, or say that the articles do not answer it.

`answer_question` is the one answering function: `Assistant.ask`, and through it the CLI, the
web chat and the evaluation runner, all call it. The answer is the sentences of the retrieved
passages that best match the question, each an exact span of its article.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..index.retrieval import PassageHit
from ..index.snapshot import Snapshot
from .abstention import abstains, above_threshold, coverage, min_coverage
from .authorship import asks_for_author, author_span, authorship
from .candidates import Candidate, Retrieved, rank_candidates, retrieve
from .conflict import answers, conflict_sides, with_sides_first
from .conversation import Reading, readings
from .question import NoContentWords, check_question, check_quote_count, content_words
from .reading import margin_above_refusal, read_candidates, read_further, read_spans, refuses
from .render import render
from .scoring import answer_type, fits_the_question, question_names, word_coverage
from .selection import (another_article_disagrees, answers_agree, confirmations, is_the_headline, select,
                        select_read, span_answer)
from .types import Answer, MetadataCitation, QuestionError, Quote, ShortAnswer


@dataclass(frozen=True)
class _Outcome:
    """One reading of the question, its quotes and whether they answer it."""

    reading: Reading
    retrieved: Retrieved
    picked: list[Candidate]
    coverage: float
    abstained: bool
    margin: float  # how far the best quote is above the point where the answer is refused
    confirms: list[int | None] = field(default_factory=list)  # per picked candidate (reader mode)
    read: bool = False  # the reader has read the picked candidates (they carry their spans)
    sides: int = 0  # in a conflict (conflict.py), the first `sides` picked are one per different answer


def _quote(snapshot: Snapshot, c: Candidate, number: int, confirms: int | None = None) -> Quote:
    article = snapshot.view.articles[c.article_id]
    score = c.reader_score if c.reader_score is not None else c.score
    return Quote(number=number, text=article.text[c.start:c.end], source=article.file, start=c.start,
                 end=c.end, score=round(score, 4), title=article.title, date=article.date,
                 language=article.language, authors=article.authors, confirms=confirms)


def _short_answer(snapshot: Snapshot, outcome: _Outcome, question: str) -> ShortAnswer | None:
    """The best quote's answer span, when the answer model is sure enough of it for a quote in
    its language (ReaderPolicy.allows_short_answer, fitted for precision per text language on the
    development split), the span is the kind of thing asked for (scoring.fits_the_question),
    and no other sure quote from another article answers differently."""
    if outcome.abstained or not outcome.read or not outcome.picked or outcome.sides:
        return None
    policy, articles = snapshot.settings.reader_policy, snapshot.view.articles
    best = outcome.picked[0]
    article = articles[best.article_id]
    if best.span is None or not policy.allows_short_answer(article.language, best.reader_score, best.span.margin):
        return None
    text = article.text[best.span.start:best.span.end]
    if not fits_the_question(question, text):
        return None
    if outcome.reading.with_topic and not _answers_as_asked(snapshot, outcome, question, text):
        return None
    if another_article_disagrees(policy, span_answer(snapshot, best),
                                 [span_answer(snapshot, c) for c in outcome.picked[1:]]):
        return None
    return ShortAnswer(text, article.file, best.span.start, best.span.end, 1)


def _answers_as_asked(snapshot: Snapshot, outcome: _Outcome, question: str, text: str) -> bool:
    """A short answer found with the topic added must still answer the follow-up as asked: the
    names the follow-up asks about are in the quote ("And who runs Microsoft?" is not answered by
    "Margherita Della Valle, CEO of Vodafone Group"), and the answer model, reading the quote with
    the follow-up alone, is as sure of the same answer ("Und wie viel investiert Microsoft?" is not
    answered by Vodafone's 1,5 Milliarden US-Dollar)."""
    best, language = outcome.picked[0], outcome.retrieved.language
    quote = snapshot.view.text(best.article_id, best.start, best.end)
    if word_coverage(question, language, quote) < min_coverage(snapshot, best, language):
        return False
    _, span, margin = read_spans(snapshot, question, [best])[0]
    article = snapshot.view.articles[best.article_id]
    gate = snapshot.settings.reader_policy.short_answer_gate(article.language)
    if span is None or gate is None or margin < gate.margin:
        return False
    alone = snapshot.view.text(best.article_id, span.start, span.end)
    return answers_agree(alone, article.language, text, article.language)


def _side_answers(snapshot: Snapshot, outcome: _Outcome) -> list[ShortAnswer]:
    """In a conflict, each side's answer span, in the quote that shows it (the first quotes)."""
    if outcome.abstained:
        return []
    view = snapshot.view
    return [ShortAnswer(view.text(c.article_id, c.span.start, c.span.end), view.articles[c.article_id].file,
                        c.span.start, c.span.end, number)
            for number, c in enumerate(outcome.picked[:outcome.sides], 1)]


def clean_question(question: object, max_chars: int, topic: str | None = None) -> str:
    """The question with its whitespace collapsed; QuestionError when it is empty, too long or
    has nothing to search for, alone or with its topic (question.py: the one rule for every caller)."""
    return check_question(question, max_chars, topic)


def _read(snapshot: Snapshot, reading: Reading, retrieved: Retrieved, limit: int) -> _Outcome:
    candidates = rank_candidates(snapshot, retrieved)
    if snapshot.reader is not None and candidates:
        return _read_with_reader(snapshot, reading, retrieved, candidates, limit)
    picked = select(snapshot, candidates, limit, retrieved.language)
    if not picked:
        return _Outcome(reading, retrieved, [], 0.0, True, float("-inf"))
    top_coverage = coverage(snapshot, retrieved, picked[0])
    refused = abstains(snapshot, picked[0], retrieved.language, top_coverage)
    return _Outcome(reading, retrieved, picked, top_coverage, refused,
                    above_threshold(snapshot, picked[0], retrieved.language))


def _nothing_of_the_kind_asked(question: str, ranked: list[Candidate]) -> bool:
    """A "when" or "how many" question, and no sentence read holds a time or figure the answer
    model would give ("Wann wurde die Deutsche Telekom gegründet?" against sentences without a
    year): the articles do not answer it."""
    return answer_type(question) is not None and all(c.span is None for c in ranked)


def _read_with_reader(snapshot: Snapshot, reading: Reading, retrieved: Retrieved, candidates: list[Candidate],
                      limit: int) -> _Outcome:
    """The answer model's order, refusal and quotes (reading.py, selection.select_read)."""
    ranked = read_candidates(snapshot, retrieved, candidates)
    if not ranked:
        return _Outcome(reading, retrieved, [], 0.0, True, float("-inf"))
    if refuses(snapshot, ranked) or _nothing_of_the_kind_asked(retrieved.question, ranked):
        # the closest sentences, most likely first, not an answer: no headline that only repeats
        # its citation's title
        closest = sorted(ranked, key=lambda c: -c.reader_score)
        picked = [c for c in closest if not is_the_headline(snapshot, c)][:limit] or closest[:1]
        return _Outcome(reading, retrieved, picked, coverage(snapshot, retrieved, picked[0]), True,
                        margin_above_refusal(snapshot, ranked), read=True)
    picked = select_read(snapshot, ranked, limit)
    sides = _sides(snapshot, retrieved, candidates, ranked)
    if sides:
        picked = with_sides_first(sides, picked, limit)
    return _Outcome(reading, retrieved, picked, coverage(snapshot, retrieved, picked[0]), False,
                    margin_above_refusal(snapshot, ranked), confirmations(snapshot, picked), read=True,
                    sides=len(sides))


def _sides(snapshot: Snapshot, retrieved: Retrieved, candidates: list[Candidate], ranked: list[Candidate]
           ) -> list[Candidate]:
    """One quote per different answer when articles disagree (conflict.py). When two or more of
    the sentences read answer, copies of one claim may fill every place the answer model reads:
    then the next first-stage sentences are read too, so the other claim cannot stay unread."""
    answering = sum(answers(snapshot, c, retrieved.question) for c in ranked)
    if answering >= 2:
        ranked = ranked + read_further(snapshot, retrieved, candidates)
    return conflict_sides(snapshot, ranked, retrieved.question) if answering else []


def _keeps_the_question(snapshot: Snapshot, alone: _Outcome, other: _Outcome) -> bool:
    """Does the topic reading's best quote still match the question's own names and figures?
    Without this a new question whose own reading is weak ("What share of Vodacom ...?" after a
    question about a zoo) is answered from the old topic's article."""
    top = other.picked[0]
    return coverage(snapshot, alone.retrieved, top) >= min_coverage(snapshot, top, alone.retrieved.language)


def _finds_its_own_subject(snapshot: Snapshot, alone: _Outcome) -> bool:
    """Does the question name something of its own ("And who runs Microsoft?") that its own
    reading answers with a passage holding those names? Then it is not read with the topic."""
    if alone.abstained or not alone.picked or not question_names(alone.retrieved.question, alone.retrieved.language):
        return False
    return alone.coverage >= min_coverage(snapshot, alone.picked[0], alone.retrieved.language)


def _choose(snapshot: Snapshot, outcomes: list[_Outcome], margin: float) -> _Outcome:
    """The question alone, unless reading it with the topic answers it clearly better."""
    alone = outcomes[0]
    if _finds_its_own_subject(snapshot, alone):
        return alone
    for other in outcomes[1:]:
        if not other.abstained and (alone.abstained or other.margin > alone.margin + margin) \
                and _keeps_the_question(snapshot, alone, other):
            return other
    return alone


def _author_answer(snapshot: Snapshot, question: str, language: str, retrieved: Retrieved) -> Answer:
    """The byline (or page metadata) of the article the question is about (authorship.py)."""
    found = authorship(snapshot.view.articles[retrieved.hits[0].article_id]) if retrieved.hits else None
    if found is None:
        return Answer(question=question, answer=render(language, [], True), abstained=True, language=language)
    article = found.article
    if found.from_metadata:
        cited = MetadataCitation("authors", article.authors, article.file, article.title)
        return Answer(question=question, answer=render(language, [], False, metadata=cited), abstained=False,
                      language=language, metadata=cited)
    quote = Quote(number=1, text=article.text[found.start:found.end], source=article.file, start=found.start,
                  end=found.end, score=1.0, title=article.title, date=article.date, language=article.language,
                  authors=article.authors)
    start, end = author_span(article, found.start, found.end)
    short = ShortAnswer(article.text[start:end], article.file, start, end, quote=1)
    return Answer(question=question, answer=render(language, [quote], False, short), abstained=False,
                  language=language, quotes=[quote], top_score=1.0, coverage=1.0, short_answer=short)


def answer_question(snapshot: Snapshot, question: str, max_quotes: int | None = None,
                    files: list[str] | None = None, topic: str | None = None) -> Answer:
    """Quotes that answer `question`, from all articles or only from `files`; `topic` is the
    conversation's topic question, for follow-ups (conversation.py)."""
    return answer_with_passages(snapshot, question, max_quotes, files, topic)[0]


def answer_with_passages(snapshot: Snapshot, question: str, max_quotes: int | None = None,
                         files: list[str] | None = None, topic: str | None = None
                         ) -> tuple[Answer, list[PassageHit]]:
    """The answer and the ranked passages it was drawn from (for evaluation of retrieval)."""
    question = clean_question(question, snapshot.settings.max_question_chars, topic)
    limit = check_quote_count(max_quotes, snapshot.settings.max_quotes_limit) or snapshot.settings.max_quotes
    first_retrieved = retrieve(snapshot, question, files)
    language = first_retrieved.language  # the question's own language, also with the topic added
    if asks_for_author(question):  # the byline answers it: nothing to rank or read
        return _author_answer(snapshot, question, language, first_retrieved), first_retrieved.hits
    with_topic = readings(question, topic, snapshot.settings.max_question_chars)[1:]
    others = [_read(snapshot, r, retrieve(snapshot, r.query, files, language), limit) for r in with_topic]
    if content_words(question):
        first = _read(snapshot, Reading(question, False), first_retrieved, limit)
        chosen = _choose(snapshot, [first, *others], snapshot.settings.followup_margin)
    elif others:  # "Und wann?": nothing to search for alone, so it is read with its topic only
        chosen = others[0]
    else:
        raise NoContentWords("the question has no words to search for, even with the conversation's topic "
                             "(too long together): ask with the names or things it is about")
    confirms = chosen.confirms or [None] * len(chosen.picked)
    quotes = [_quote(snapshot, c, i, agrees) for i, (c, agrees) in enumerate(zip(chosen.picked, confirms), 1)]
    short = _short_answer(snapshot, chosen, question)
    sides = _side_answers(snapshot, chosen)
    answer = Answer(
        question=question,
        answer=render(language, quotes, chosen.abstained, short, sides=sides),
        abstained=chosen.abstained,
        language=language,
        quotes=[] if chosen.abstained else quotes,
        related=quotes if chosen.abstained else [],
        top_score=quotes[0].score if quotes else 0.0,
        coverage=round(chosen.coverage, 4),
        understood_as=chosen.reading.query if chosen.reading.with_topic else None,
        short_answer=short,
        conflict=bool(sides),
        sides=sides,
    )
    return answer, chosen.retrieved.hits
