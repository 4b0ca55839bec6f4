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
from .embedding import TokenStates
from .lexical import tokenize
from .retrieval import PassageHit
from .scoring import (FEATURES, WEIGHTS, answer_type, best_matches, content_token_mask, has_answer_type, maxsim,
                      word_coverage)

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

# A sentence from another article this close to the best quote (in score above each one's
# abstention threshold) also supports the answer and is quoted too.
SUPPORT_MARGIN = 0.05
# The two best sentences, neighbours in one passage and this close in score, are quoted as one
# span: the ranking cannot tell them apart, and the evidence is often split across them (a
# sentence names the thing, the next gives the fact: "... verbreiteten Theorie. Heute ist dies
# bekannt als die Miasma-Theorie."). On XQuAD this joins 4% (German) / 8% (English) of first quotes.
NEIGHBOUR_TIE_MARGIN = 0.01


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
    # The question's worst-matched name or figure against the best quote's passage (0-1).
    coverage: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Retrieved:
    """A question's ranked passages and what was computed to rank them."""

    question: str
    language: str
    query: np.ndarray  # the question with the query prompt
    as_passage: np.ndarray  # the question with the passage prompt
    token_states: TokenStates | None
    tokens: list[str]  # stemmed words, for BM25 and overlap
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
    query, token_states, as_passage = engine.embedder.encode_question(question)
    tokens = tokenize(question, language)
    articles = engine.article_ids(files) if files is not None else None
    hits = engine.retriever.search(query, tokens, language, articles)
    return Retrieved(question, language, query, as_passage, token_states, tokens, hits)


def _sentences_of(engine: Engine, passage_ids: list[int]) -> np.ndarray:
    """Sentence ids of these passages (sentences are stored in passage order)."""
    owners = engine.data.sentences[:, 0]
    ranges = [np.arange(np.searchsorted(owners, p, "left"), np.searchsorted(owners, p, "right")) for p in passage_ids]
    return np.concatenate(ranges) if ranges else np.zeros(0, dtype=np.int64)


def _late_interaction(engine: Engine, retrieved: Retrieved, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MaxSim of all question tokens, and of its content words only, for each sentence row."""
    states = retrieved.token_states
    if states is None or len(states.vectors) == 0:
        return np.zeros(len(rows)), np.zeros(len(rows))
    content = content_token_mask(retrieved.question, states.spans)
    tokens = engine.data.token_vectors
    all_words, content_words = [], []
    for token_start, token_end in rows[:, 4:6]:
        best = best_matches(states.vectors, np.asarray(tokens[token_start:token_end], dtype=np.float32))
        all_words.append(maxsim(best))
        content_words.append(maxsim(best[content]))  # one similarity matrix serves both
    return np.array(all_words), np.array(content_words)


@dataclass(frozen=True)
class QuoteFeatures:
    """The sentences of a question's top passages and their quote features (one row each,
    columns in `FEATURES` order): what the weights of scoring.py combine, and what
    benchmarks/fit_quote_weights.py fits them on."""

    sentence_ids: np.ndarray
    rows: np.ndarray  # the sentences' rows of the index (passage, article, start, end, tokens)
    values: np.ndarray


def quote_features(engine: Engine, retrieved: Retrieved) -> QuoteFeatures:
    data = engine.data
    hits = retrieved.hits[: engine.settings.quote_passages]
    passage_score = {h.passage_id: h.score for h in hits}
    sentence_ids = _sentences_of(engine, sorted(passage_score))
    rows = np.asarray(data.sentences[sentence_ids])
    if len(sentence_ids) == 0:
        return QuoteFeatures(sentence_ids, rows, np.zeros((0, len(FEATURES))))
    maxsim_all, maxsim_content = _late_interaction(engine, retrieved, rows)
    wanted, kind = set(retrieved.tokens), answer_type(retrieved.question)
    columns = {
        "maxsim": maxsim_all,
        "maxsim_content": maxsim_content,
        "in_context": np.asarray(data.sentence_context_vectors[sentence_ids]) @ retrieved.query,
        "as_passage": np.asarray(data.sentence_vectors[sentence_ids]) @ retrieved.as_passage,
        "passage": np.array([passage_score[int(p)] for p in rows[:, 0]]),
        "overlap": np.zeros(len(rows)),
        "answer_type": np.zeros(len(rows)),
    }
    for i, (_, article_id, start, end) in enumerate(rows[:, :4].astype(int).tolist()):
        article = data.articles[article_id]
        text = article["text"][start:end]
        if article["language"] == retrieved.language:  # stems only meet within one language
            columns["overlap"][i] = _overlap(wanted, text, article["language"])
        columns["answer_type"][i] = has_answer_type(kind, text)
    return QuoteFeatures(sentence_ids, rows, np.column_stack([columns[name] for name in FEATURES]))


def _candidates(engine: Engine, retrieved: Retrieved) -> list[_Candidate]:
    """Sentences of the top passages, scored as quotes (features and weights: scoring.py)."""
    features = quote_features(engine, retrieved)
    scores = features.values @ WEIGHTS.vector()
    candidates = [_Candidate(int(sentence_id), int(row[1]), int(row[2]), int(row[3]), float(score))
                  for sentence_id, row, score in zip(features.sentence_ids, features.rows, scores)]
    candidates.sort(key=lambda c: -c.score)
    return candidates


def _select(candidates: list[_Candidate], engine: Engine, limit: int, language: str) -> list[_Candidate]:
    """Best sentences, no repeated text; tied neighbours as one quote; a close runner-up from
    another article is kept too.

    "Close" is measured above each quote's own abstention threshold: quotes in the other
    language score lower on late interaction, so a German and an English report of the same
    fact compare fairly only after that shift.
    """
    chosen, seen = [], set()
    for c in candidates:
        text = engine.data.articles[c.article_id]["text"][c.start:c.end].strip().lower()
        if text in seen:
            continue
        seen.add(text)
        chosen.append(c)
    if not chosen:
        return []
    chosen = _join_tied_neighbours(engine, chosen)
    top = chosen[0]
    support = next((c for c in chosen[1:] if c.article_id != top.article_id), None)
    picked = chosen[:limit]
    if limit > 1 and support is not None and support not in picked and \
            _above_threshold(engine, support, language) >= _above_threshold(engine, top, language) - SUPPORT_MARGIN:
        picked = [top, support] + [c for c in picked[1:] if c is not support][: limit - 2]
    return picked


def _join_tied_neighbours(engine: Engine, chosen: list[_Candidate]) -> list[_Candidate]:
    if len(chosen) < 2:
        return chosen
    top, second = chosen[0], chosen[1]
    sentences = engine.data.sentences
    neighbours = abs(top.sentence_id - second.sentence_id) == 1 and \
        int(sentences[top.sentence_id][0]) == int(sentences[second.sentence_id][0])
    if not neighbours or top.score - second.score > NEIGHBOUR_TIE_MARGIN:
        return chosen
    joined = _Candidate(top.sentence_id, top.article_id, min(top.start, second.start), max(top.end, second.end),
                        top.score)
    return [joined] + chosen[2:]


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


def _coverage(engine: Engine, retrieved: Retrieved, top: _Candidate) -> float:
    states = retrieved.token_states
    if states is None:
        return 1.0  # no token states for this model: coverage cannot veto
    passage_id = int(engine.data.sentences[top.sentence_id][0])
    rows = engine.data.sentences[_sentences_of(engine, [passage_id])]
    tokens = np.asarray(engine.data.token_vectors[int(rows[0][4]):int(rows[-1][5])], dtype=np.float32)
    return word_coverage(retrieved.question, retrieved.language, states.spans, states.vectors, tokens)


def _same_language(engine: Engine, candidate: _Candidate, language: str) -> bool:
    return engine.data.articles[candidate.article_id]["language"] == language


def _above_threshold(engine: Engine, candidate: _Candidate, language: str) -> float:
    s = engine.settings
    same = _same_language(engine, candidate, language)
    return candidate.score - (s.abstain_threshold if same else s.abstain_threshold_cross_language)


def _abstains(engine: Engine, top: _Candidate, language: str, coverage: float) -> bool:
    """Below the calibrated score or name coverage for the quote's language pair."""
    s = engine.settings
    minimum = s.min_word_coverage if _same_language(engine, top, language) else s.min_word_coverage_cross_language
    return _above_threshold(engine, top, language) < 0 or coverage < minimum


def answer_question(engine: Engine, question: str, max_quotes: int | None = None,
                    files: list[str] | None = None) -> Answer:
    """Quotes that answer `question`, from all articles or only from `files`."""
    return answer_with_passages(engine, question, max_quotes, files)[0]


def answer_with_passages(engine: Engine, question: str, max_quotes: int | None = None,
                         files: list[str] | None = None) -> tuple[Answer, list[PassageHit]]:
    """The answer and the ranked passages it was drawn from (for evaluation of retrieval)."""
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("the question is empty")
    question = " ".join(question.split())
    limit = max_quotes if max_quotes is not None else engine.settings.max_quotes
    if limit < 1:
        raise QuestionError("the number of quotes must be at least 1")
    retrieved = retrieve(engine, question, files)
    language = retrieved.language
    picked = _select(_candidates(engine, retrieved), engine, limit, language)
    top_score = picked[0].score if picked else 0.0
    coverage = _coverage(engine, retrieved, picked[0]) if picked else 0.0
    abstained = not picked or _abstains(engine, picked[0], language, coverage)
    quotes = [_quote(engine, c, i) for i, c in enumerate(picked, 1)]
    answer = Answer(
        question=question,
        answer=render(language, quotes, abstained),
        abstained=abstained,
        language=language,
        quotes=[] if abstained else quotes,
        related=quotes if abstained else [],
        top_score=round(top_score, 4),
        coverage=round(coverage, 4),
    )
    return answer, retrieved.hits
