"""answer/selection.py: which ranked sentences become the quotes (on the shipped articles), and
when two quotes' answers agree (on hand-made spans)."""

from __future__ import annotations

from dataclasses import replace

from conftest import first_stage_candidates

from assistant.answer.candidates import Candidate, ReadSpan
from assistant.answer.judging import SimilarityJudge
from assistant.answer.selection import (SpanAnswer, another_article_disagrees, answers_agree, confirmations, distinct,
                                        select, select_read)
from assistant.config import Settings, ShortAnswerGate

GOLEM, INSIDER, TELEKOM = "000_ce0777626153ace7.txt", "001_1885b208a7ea917e.txt", "002_3699eb8ecc81ec22.txt"


def ranked(assistant, question: str):
    snapshot = assistant.snapshot
    return (snapshot, *first_stage_candidates(snapshot, question))


def similarity_select(snapshot, candidates, limit: int, language: str):
    """select() with the similarity mode's slice of `snapshot`'s settings."""
    return select(SimilarityJudge.of(snapshot).rules, snapshot.view, candidates, limit, language)


def text(snapshot, c) -> str:
    return snapshot.view.text(c.article_id, c.start, c.end)


def test_a_repeated_line_is_quoted_once(shipped_assistant):
    snapshot, _, candidates = ranked(shipped_assistant, "Wie viele Kunden hat Vodacom?")
    doubled = [candidates[0], candidates[0], candidates[1], candidates[0]]
    assert distinct(snapshot.view, doubled) == [candidates[0], candidates[1]]


def test_select_keeps_the_best_first_within_the_limit(shipped_assistant):
    snapshot, retrieved, candidates = ranked(shipped_assistant, "Wie viele Kunden hat Vodacom?")
    for limit in (1, 2, 3):
        picked = similarity_select(snapshot, [candidates[0]] + candidates, limit, retrieved.language)
        texts = [text(snapshot, c) for c in picked]
        assert 1 <= len(picked) <= limit and len(set(texts)) == len(texts)
        # the best sentence leads (alone, or joined with a tied neighbour: then it covers it)
        assert picked[0].start <= candidates[0].start and candidates[0].end <= picked[0].end
        assert "132,6 Millionen" in texts[0]


def test_a_close_report_from_another_article_is_kept_as_the_second_quote(shipped_assistant):
    # similarity ranks the English article's sentences first; the German report of the
    # investment ranks 8th but is close to the first above its own (cross-language) threshold
    snapshot, retrieved, candidates = ranked(shipped_assistant, "How much will Vodafone invest?")
    assert snapshot.view.articles[candidates[0].article_id].file == INSIDER
    for limit in (2, 3):
        picked = similarity_select(snapshot, candidates, limit, retrieved.language)
        texts = [text(snapshot, c) for c in picked]
        assert len(picked) == limit and picked[0] == candidates[0], texts
        assert "1,5 Milliarden US-Dollar" in texts[1], texts  # ahead of the English runners-up
    assert len(similarity_select(snapshot, candidates, 1, retrieved.language)) == 1  # no room for it: the best alone


def read_sentence(snapshot, file: str, needle: str, answer: str, probability: float) -> Candidate:
    """The sentence of `file` holding `needle` as the answer model hands it on: `answer` (a text
    in it) its span, `probability` its reader score."""
    view = snapshot.view
    article_id = int(view.article_ids([file])[0])
    at = view.articles[article_id].text.index(needle)
    sentences = view.sentences_of(view.passages_of_articles([article_id]))
    i = next(i for i, (start, end) in enumerate(zip(sentences.starts, sentences.ends)) if start <= at < end)
    start, end = int(sentences.starts[i]), int(sentences.ends[i])
    span_at = view.articles[article_id].text.index(answer, start, end)
    return Candidate(int(sentences.ids[i]), int(sentences.passage_ids[i]), article_id, start, end, score=0.5,
                     span=ReadSpan(span_at, span_at + len(answer), 5.0), reader_score=probability)


def test_a_further_quote_from_another_article_with_the_same_answer_agrees_with_the_first(shipped_assistant):
    snapshot = shipped_assistant.snapshot
    floor = snapshot.settings.reader_policy.keep_share * 0.8  # of the first quote's probability
    top = read_sentence(snapshot, GOLEM, "Der britische Vodafone-Konzern werde", "1,5 Milliarden US-Dollar", 0.8)
    same_article = read_sentence(snapshot, GOLEM, "KI, Cloud und IoT", "1,5-Milliarden", 0.7)
    other_agrees = read_sentence(snapshot, INSIDER, "The carrier is investing", "$1.5 billion", 0.6)
    other_differs = read_sentence(snapshot, INSIDER, "Vodafone and Microsoft have announced", "300 million", 0.5)
    unlikely = read_sentence(snapshot, TELEKOM, "Das kündigten beide", "Donnerstag", floor - 0.01)
    ranked = [top, same_article, other_agrees, other_differs, unlikely]
    # below the floor: not shown; the headline only repeats its citation's title: not shown; the
    # same figure from another article agrees with the first quote, from its own article it is
    # no second source
    picked = select_read(snapshot.settings.reader_policy, snapshot.view, ranked, 10)
    assert picked == [top, other_agrees, other_differs]
    assert confirmations(snapshot.view, picked) == [None, 1, None]
    assert confirmations(snapshot.view, [top, same_article]) == [None, None]
    assert select_read(snapshot.settings.reader_policy, snapshot.view, ranked, 2) == [top, other_agrees]
    unread = replace(other_agrees, span=None)  # the model found no span in it: nothing to agree with
    assert confirmations(snapshot.view, select_read(snapshot.settings.reader_policy, snapshot.view, [top, unread], 10)) == [None, None]
    assert confirmations(snapshot.view, select_read(snapshot.settings.reader_policy, snapshot.view, [other_agrees, top], 10)) == [None, 1]
    assert select_read(snapshot.settings.reader_policy, snapshot.view, [], 3) == []


def test_two_reports_of_one_figure_agree_across_languages_and_formats():
    assert answers_agree("$1.5 billion", "en", "1,5 Milliarden US-Dollar", "de")
    assert answers_agree("65 Prozent", "de", "65 percent", "en")
    assert not answers_agree("$1.5 billion", "en", "1,18 Milliarden Pfund", "de")
    assert answers_agree("Maja Smoltczyk", "de", "maja smoltczyk", "en")
    assert not answers_agree("Maja Smoltczyk", "de", "Nick Read", "en")
    assert not answers_agree("", "de", "", "en")


def test_a_sure_quote_of_another_article_with_another_answer_forbids_the_short_answer():
    """The one rule the answer path and fit_answer_policy.outcome use (on plain values)."""
    policy = replace(Settings().reader_policy, short_answer=(ShortAnswerGate("de", 0.5, 2.0),))
    best = SpanAnswer(0, "de", 0.9, "65 Prozent")
    sure_other = SpanAnswer(1, "de", 0.6, "99 Prozent")
    assert another_article_disagrees(policy, best, [sure_other])
    # not sure enough by its language's bar, the same figure in another form, the same article,
    # or no span at all: the short answer stands
    assert not another_article_disagrees(policy, best, [sure_other._replace(probability=0.4)])
    assert not another_article_disagrees(policy, best, [sure_other._replace(span="65 %")])
    assert not another_article_disagrees(policy, best, [sure_other._replace(article=0)])
    assert not another_article_disagrees(policy, best, [sure_other._replace(span=None)])
    # a quote in a language without a gate always counts, however unsure
    assert another_article_disagrees(policy, best, [SpanAnswer(2, "en", 0.01, "99 percent")])
