"""Answer a question with verbatim, cited quotes, or say that the articles do not answer it.

`answer_question` is the one answering function: the CLI, the web chat and the evaluation
runner all call it. It needs no language model: the answer is the sentences of the
retrieved passages that best match the question, each an exact span of its article.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .engine import Engine
from .language import GERMAN, detect_language
from .lexical import tokenize
from .retrieval import PassageHit

FRAMING = {
    "en": "The articles say:",
    "de": "Die Artikel sagen dazu:",
}
ABSTAIN = {
    "en": "The articles do not answer this question.",
    "de": "Die Artikel beantworten diese Frage nicht.",
}
SOURCES_HEADING = {"en": "Sources:", "de": "Quellen:"}
CHARS = {"en": "characters", "de": "Zeichen"}

# Quote score = weighted sum of these features of a candidate sentence (see README: tuning).
SENTENCE_WEIGHT = 0.6  # cosine between question and sentence
PASSAGE_WEIGHT = 0.4  # fused score of the sentence's passage
OVERLAP_WEIGHT = 0.1  # share of question words in the sentence, when the languages match
# A sentence from another article this close to the best quote also supports the answer.
SUPPORT_MARGIN = 0.03


class QuestionError(ValueError):
    """The question cannot be answered as asked (empty, only whitespace)."""


@dataclass(frozen=True)
class Quote:
    number: int
    text: str
    source: str  # the article's file name
    start: int
    end: int
    score: float
    title: str
    date: str | None
    language: str

    def citation(self, language: str) -> str:
        date = f", {self.date}" if self.date else ""
        return f"[{self.number}] {self.title}{date} ({self.source}, {CHARS[language]} {self.start}-{self.end})"


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    language: str
    quotes: list[Quote] = field(default_factory=list)
    related: list[Quote] = field(default_factory=list)  # closest passages when abstaining
    top_score: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Retrieved:
    """A question's ranked passages and what was computed to rank them."""

    language: str
    query: np.ndarray
    tokens: list[str]
    hits: list[PassageHit]


@dataclass
class _Candidate:
    sentence_id: int
    article_id: int
    start: int
    end: int
    score: float


def _overlap(question_tokens: set[str], text: str, language: str) -> float:
    if not question_tokens:
        return 0.0
    return len(question_tokens & set(tokenize(text, language))) / len(question_tokens)


def question_language(engine: Engine, question: str) -> str:
    return detect_language(question, default=GERMAN if engine.mostly_german else "en")


def retrieve(engine: Engine, question: str, files: list[str] | None = None) -> Retrieved:
    """Rank passages for a question: the retrieval step shared by answers and evaluation."""
    question = question[: engine.settings.max_question_chars]
    language = question_language(engine, question)
    query = engine.embedder.encode_queries([question])[0]
    tokens = tokenize(question, language)
    articles = engine.article_ids(files) if files is not None else None
    return Retrieved(language, query, tokens, engine.retriever.search(query, tokens, language, articles))


def _candidates(engine: Engine, retrieved: Retrieved) -> list[_Candidate]:
    data, settings = engine.data, engine.settings
    query, query_tokens, language = retrieved.query, retrieved.tokens, retrieved.language
    hits = retrieved.hits[: settings.quote_passages]
    if not hits:
        return []
    passage_score = {h.passage_id: h.score for h in hits}
    sentence_ids = np.flatnonzero(np.isin(data.sentences[:, 0], list(passage_score)))
    rows = np.asarray(data.sentences[sentence_ids])
    cosines = np.asarray(data.sentence_vectors[sentence_ids]) @ query
    wanted = set(query_tokens)
    candidates = []
    for sentence_id, (passage_id, article_id, start, end), cosine in zip(sentence_ids, rows, cosines):
        article = data.articles[article_id]
        overlap = _overlap(wanted, article["text"][start:end], article["language"]) \
            if article["language"] == language else 0.0
        score = SENTENCE_WEIGHT * cosine + PASSAGE_WEIGHT * passage_score[int(passage_id)] + OVERLAP_WEIGHT * overlap
        candidates.append(_Candidate(int(sentence_id), int(article_id), int(start), int(end), float(score)))
    candidates.sort(key=lambda c: -c.score)
    return candidates


def _select(candidates: list[_Candidate], engine: Engine, limit: int) -> list[_Candidate]:
    """Best sentences, no repeated text; a close runner-up from another article is kept too."""
    chosen, seen = [], set()
    for c in candidates:
        text = engine.data.articles[c.article_id]["text"][c.start:c.end].strip().lower()
        if text in seen:
            continue
        seen.add(text)
        chosen.append(c)
    if not chosen:
        return []
    top = chosen[0]
    support = next((c for c in chosen[1:] if c.article_id != top.article_id), None)
    picked = chosen[:limit]
    if limit > 1 and support is not None and support not in picked and support.score >= top.score - SUPPORT_MARGIN:
        picked = [top, support] + [c for c in picked[1:] if c is not support][: limit - 2]
    return picked


def _quote(engine: Engine, c: _Candidate, number: int) -> Quote:
    article = engine.data.articles[c.article_id]
    return Quote(number=number, text=article["text"][c.start:c.end], source=article["file"], start=c.start,
                 end=c.end, score=round(c.score, 4), title=article["title"], date=article.get("date"),
                 language=article["language"])


def render(question_language: str, quotes: list[Quote], abstained: bool) -> str:
    if abstained:
        return ABSTAIN[question_language]
    lines = [FRAMING[question_language]]
    lines += [f'[{q.number}] "{q.text}"' for q in quotes]
    lines += ["", SOURCES_HEADING[question_language]]
    lines += [q.citation(question_language) for q in quotes]
    return "\n".join(lines)


def answer_question(engine: Engine, question: str, max_quotes: int | None = None,
                    files: list[str] | None = None) -> Answer:
    """Quotes that answer `question`, from all articles or only from `files`."""
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("the question is empty")
    question = " ".join(question.split())
    limit = max_quotes if max_quotes is not None else engine.settings.max_quotes
    if limit < 1:
        raise QuestionError("the number of quotes must be at least 1")
    retrieved = retrieve(engine, question, files)
    language = retrieved.language
    picked = _select(_candidates(engine, retrieved), engine, limit)
    top_score = picked[0].score if picked else 0.0
    abstained = top_score < engine.settings.abstain_threshold or not picked
    quotes = [_quote(engine, c, i) for i, c in enumerate(picked, 1)]
    return Answer(
        question=question,
        answer=render(language, quotes, abstained),
        abstained=abstained,
        language=language,
        quotes=[] if abstained else quotes,
        related=quotes if abstained else [],
        top_score=round(top_score, 4),
    )
