"""Answer a question with verbatim, cited quotes, or say that the articles do not answer it.

`answer_question` is the one answering function: `Assistant.ask`, and through it the CLI, the
web chat and the evaluation runner, all call it. The answer is the sentences of the retrieved
passages that best match the question, each an exact span of its article.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import AbstentionPolicy
from ..index.retrieval import PassageHit
from ..index.snapshot import Snapshot
from ..index.view import IndexView
from .abstention import coverage, min_coverage
from .authorship import asks_for_author, author_span, authorship
from .candidates import Candidate, Retrieved, SimilarityFirstStage
from .conversation import Reading, readings
from .judging import AnswerModelJudge, SimilarityJudge
from .question import NoContentWords, check_question, check_quote_count, content_words
from .reading import AnswerModelReading
from .render import render
from .scoring import question_names
from .short_answer import SpanShortAnswer
from .stages import Judgement, Stages
from .types import Answer, MetadataCitation, Quote, ShortAnswer


def stages_of(snapshot: Snapshot) -> Stages:
    """The stages an answer runs on this snapshot: the one place that lists them."""
    first_stage = SimilarityFirstStage.of(snapshot)
    if snapshot.reader is None:
        return Stages(first_stage, SimilarityJudge.of(snapshot))
    reading = AnswerModelReading.of(snapshot)
    return Stages(first_stage, AnswerModelJudge(reading), SpanShortAnswer(reading))


@dataclass(frozen=True)
class _Outcome:
    """One reading of the question, what was retrieved for it and what the judge decided."""

    reading: Reading
    retrieved: Retrieved
    judged: Judgement


def _quote(view: IndexView, c: Candidate, number: int, confirms: int | None = None) -> Quote:
    article = view.articles[c.article_id]
    score = c.reader_score if c.reader_score is not None else c.score
    return Quote(number=number, text=article.text[c.start:c.end], source=article.file, start=c.start,
                 end=c.end, score=round(score, 4), title=article.title, date=article.date,
                 language=article.language, authors=article.authors, confirms=confirms)


def _side_answers(view: IndexView, judged: Judgement) -> list[ShortAnswer]:
    """In a conflict, each side's answer span, in the quote that shows it (the first quotes)."""
    if judged.abstained:
        return []
    return [ShortAnswer(view.text(c.article_id, c.span.start, c.span.end), view.articles[c.article_id].file,
                        c.span.start, c.span.end, number)
            for number, c in enumerate(judged.picked[:judged.sides], 1)]


def clean_question(question: object, max_chars: int, topic: str | None = None) -> str:
    """The question with its whitespace collapsed; QuestionError when it is empty, too long or
    has nothing to search for, alone or with its topic (question.py: the one rule for every caller)."""
    return check_question(question, max_chars, topic)


def _judge(stages: Stages, reading: Reading, retrieved: Retrieved, limit: int) -> _Outcome:
    return _Outcome(reading, retrieved, stages.judge.judge(retrieved, stages.first_stage.rank(retrieved), limit))


def _keeps_the_question(policy: AbstentionPolicy, view: IndexView, alone: _Outcome, other: _Outcome) -> bool:
    """Does the topic reading's best quote still match the question's own names and figures?
    Without this a new question whose own reading is weak ("What share of Vodacom ...?" after a
    question about a zoo) is answered from the old topic's article."""
    top, language = other.judged.picked[0], alone.retrieved.language
    return coverage(view, alone.retrieved, top) >= min_coverage(policy, view, top, language)


def _finds_its_own_subject(policy: AbstentionPolicy, view: IndexView, alone: _Outcome) -> bool:
    """Does the question name something of its own ("And who runs Microsoft?") that its own
    reading answers with a passage holding those names? Then it is not read with the topic."""
    judged, retrieved = alone.judged, alone.retrieved
    if judged.abstained or not judged.picked or not question_names(retrieved.question, retrieved.language):
        return False
    return judged.coverage >= min_coverage(policy, view, judged.picked[0], retrieved.language)


def _choose(snapshot: Snapshot, outcomes: list[_Outcome]) -> _Outcome:
    """The question alone, unless reading it with the topic answers it clearly better (by more
    than `Settings.followup_margin`)."""
    policy, view, margin = snapshot.settings.abstention, snapshot.view, snapshot.settings.followup_margin
    alone = outcomes[0]
    if _finds_its_own_subject(policy, view, alone):
        return alone
    for other in outcomes[1:]:
        if not other.judged.abstained and (alone.judged.abstained or other.judged.margin > alone.judged.margin + margin) \
                and _keeps_the_question(policy, view, alone, other):
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
                         files: list[str] | None = None, topic: str | None = None, stages: Stages | None = None
                         ) -> tuple[Answer, list[PassageHit]]:
    """The answer and the ranked passages it was drawn from (for evaluation of retrieval);
    `stages` to answer with other stages than `stages_of(snapshot)`."""
    stages = stages or stages_of(snapshot)
    question = clean_question(question, snapshot.settings.max_question_chars, topic)
    limit = check_quote_count(max_quotes, snapshot.settings.max_quotes_limit) or snapshot.settings.max_quotes
    first_retrieved = stages.first_stage.retrieve(question, files)
    language = first_retrieved.language  # the question's own language, also with the topic added
    if asks_for_author(question):  # the byline answers it: nothing to rank or read
        return _author_answer(snapshot, question, language, first_retrieved), first_retrieved.hits
    with_topic = readings(question, topic, snapshot.settings.max_question_chars)[1:]
    others = [_judge(stages, r, stages.first_stage.retrieve(r.query, files, language), limit) for r in with_topic]
    if content_words(question):
        chosen = _choose(snapshot, [_judge(stages, Reading(question, False), first_retrieved, limit), *others])
    elif others:  # "Und wann?": nothing to search for alone, so it is read with its topic only
        chosen = others[0]
    else:
        raise NoContentWords("the question has no words to search for, even with the conversation's topic "
                             "(too long together): ask with the names or things it is about")
    return _answer(snapshot.view, stages, chosen, question, language), chosen.retrieved.hits


def _answer(view: IndexView, stages: Stages, chosen: _Outcome, question: str, language: str) -> Answer:
    """The chosen reading as the answer the user sees."""
    judged = chosen.judged
    confirms = judged.confirms or [None] * len(judged.picked)
    quotes = [_quote(view, c, i, agrees) for i, (c, agrees) in enumerate(zip(judged.picked, confirms), 1)]
    short = stages.short_answer.short_answer(judged, chosen.retrieved, question, chosen.reading.with_topic) \
        if stages.short_answer is not None else None
    sides = _side_answers(view, judged)
    return Answer(
        question=question,
        answer=render(language, quotes, judged.abstained, short, sides=sides),
        abstained=judged.abstained,
        language=language,
        quotes=[] if judged.abstained else quotes,
        related=quotes if judged.abstained else [],
        top_score=quotes[0].score if quotes else 0.0,
        coverage=round(judged.coverage, 4),
        understood_as=chosen.reading.query if chosen.reading.with_topic else None,
        short_answer=short,
        conflict=bool(sides),
        sides=sides,
    )
