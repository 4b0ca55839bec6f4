"""Pure scoring functions for the evaluation runner: no model, no index, no I/O.

Answers are compared after `assistant.normalise.normalise`: case folded, punctuation,
whitespace and articles dropped (as the official SQuAD and MLQA evaluations drop them), and
numbers written one way, read in the text's language where it is known ("1,5" and "1.5" ->
"1.5"; German "1.000", English "1,000" and "1000" -> "1000"), so a quote matches an expected
answer whatever the article's number format.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from ..answer.scoring import mentions_a_number
from ..normalise import answer_tokens, normalise


def contains_answer(text: str, answers: Iterable[str], language: str | None = None,
                    answer_language: str | None = None) -> bool:
    """Does `text` contain one of `answers` as whole normalised tokens ("65" is not in "650")?
    `language` / `answer_language`: the languages their numbers are written in (None: unknown)."""
    haystack = f" {normalise(text, language)} "
    for answer in answers:
        needle = normalise(answer, answer_language)
        if needle and f" {needle} " in haystack:
            return True
    return False


def token_f1(prediction: str, answer: str, language: str | None = None,
             answer_language: str | None = None) -> float:
    """SQuAD-style F1 of the normalised token bags of `prediction` and `answer`."""
    return bag_f1(answer_tokens(prediction, language), answer_tokens(answer, answer_language))


def bag_f1(predicted: Sequence[str], expected: Sequence[str]) -> float:
    """F1 of two token bags, as SQuAD scores answers (0 when either is empty). The one
    definition: training/squad_metrics.py scores the reader's training figures with it too."""
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def best_f1(texts: Sequence[str], answers: Sequence[str], languages: Sequence[str | None] | None = None,
            answer_language: str | None = None) -> float:
    """The best token F1 of any text against any acceptable answer (0 with none); `languages`,
    one per text, and `answer_language` say how their numbers are written (None: unknown)."""
    languages = languages if languages is not None else [None] * len(texts)
    return max((token_f1(t, a, lang, answer_language) for t, lang in zip(texts, languages, strict=True)
                for a in answers), default=0.0)


def hit_at(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose first hit is at rank <= k (None: no questions)."""
    if not ranks:
        return None
    return sum(r is not None and r <= k for r in ranks) / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float | None:
    """Mean reciprocal rank; a question with no hit counts 0."""
    if not ranks:
        return None
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks)


def passage_retrieval(qrels: dict[str, dict[str, int]], results: dict[str, dict[str, float]],
                      ks: Sequence[int] = (1, 5, 10), cutoff: int = 10) -> dict[str, float | None]:
    """The standard passage retrieval metrics, as BEIR reports them, so the figures compare with
    the field: Recall@k (the share of a question's relevant passages in its top k), MRR@cutoff
    (1 / the rank of the first relevant passage, 0 past the cutoff) and nDCG@cutoff (gain = the
    relevance, discounted by log2(rank + 1), over the ideal order's).

    `qrels`: {question: {passage: relevance}}; `results`: {question: {passage: score}}, ranked by
    score (ties keep the order given). Averaged over the questions with a relevant passage in
    `qrels` (one without any cannot be scored, as in BEIR); None when there is none.
    """
    judged = {q: {p for p, rel in docs.items() if rel > 0} for q, docs in qrels.items()}
    judged = {q: relevant for q, relevant in judged.items() if relevant}
    names = [f"recall@{k}" for k in ks] + [f"mrr@{cutoff}", f"ndcg@{cutoff}"]
    if not judged:
        return dict.fromkeys(names)
    totals = dict.fromkeys(names, 0.0)
    for q, relevant in judged.items():
        scores = results.get(q, {})
        ranked = sorted(scores, key=lambda p: -scores[p])  # stable: ties keep the order given
        for k in ks:
            totals[f"recall@{k}"] += len(relevant.intersection(ranked[:k])) / len(relevant)
        first = next((i for i, p in enumerate(ranked[:cutoff], 1) if p in relevant), None)
        totals[f"mrr@{cutoff}"] += 1.0 / first if first else 0.0
        dcg = sum(qrels[q].get(p, 0) / math.log2(i + 1) for i, p in enumerate(ranked[:cutoff], 1))
        ideal = sorted(qrels[q].values(), reverse=True)[:cutoff]
        totals[f"ndcg@{cutoff}"] += dcg / sum(rel / math.log2(i + 1) for i, rel in enumerate(ideal, 1))
    return {name: total / len(judged) for name, total in totals.items()}


def share(flags: Iterable[bool | None]) -> float | None:
    """Share of True among the flags that are not None (None when none apply)."""
    applicable = [bool(f) for f in flags if f is not None]
    if not applicable:
        return None
    return sum(applicable) / len(applicable)


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linearly interpolated (numpy's default); None without values."""
    if not 0 <= q <= 100:
        raise ValueError("percentile must be between 0 and 100")
    if len(values) == 0:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


# --------------------------------------------------------------------------- answer types

_MONTH_NAMES = ("januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember|january|"
                "february|march|may|june|july|october|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|okt|nov|"
                "dec|dez")
# "2007", "April 2024", "Dezember 2020", "16. Januar 2024", "January 16, 2024", "2024-01-16", "im Jahr 2007".
_DATE_ANSWER = re.compile(
    r"^(?:(?:am|on|im|in|seit|since|im jahr|in the year)\s+)?(?:"
    r"\d{4}-\d{2}(?:-\d{2})?"
    r"|\d{1,2}\.\d{1,2}\.\d{4}"
    r"|(?:\d{1,2}\.?\s+)?(?:" + _MONTH_NAMES + r")\.?(?:\s+\d{1,2},?)?\s+\d{4}"
    r"|(?:1[5-9]|20)\d{2}"
    r")$",
    re.IGNORECASE,
)
# Lower-case words inside names ("Ursula von der Leyen", "Bank of England").
_NAME_JOINERS = {"von", "van", "der", "den", "de", "del", "la", "le", "of", "and", "und", "&"}


def gold_answer_type(answers: Sequence[str]) -> str:
    """What kind of answer a question expects, read from its accepted answers: "date" (a date or a
    year), "number" (digits or number words), "name" (capitalised words: people, companies,
    places, products; German nouns land here too), else "other"; "unanswerable" without answers.

    With several accepted answers a date wins over a number, a number over the rest, and "name"
    needs every alternative to be one ("zehnjährige" / "10-year" is a number).
    """
    if not answers:
        return "unanswerable"
    kinds = {_answer_kind(a) for a in answers}
    for kind in ("date", "number"):
        if kind in kinds:
            return kind
    return "name" if kinds == {"name"} else "other"


def _answer_kind(answer: str) -> str:
    text = " ".join(answer.split()).strip(" .")
    if _DATE_ANSWER.match(text):
        return "date"
    words = re.findall(r"[^\W_]+(?:[-'’.][^\W_]+)*", text)
    if mentions_a_number(text):
        return "number"
    if words and len(words) <= 6 and words[0][0].isupper() and all(
            w[0].isupper() or any(c.isupper() for c in w) or w.lower() in _NAME_JOINERS for w in words):
        return "name"
    return "other"
