"""answer/selection.py: which ranked sentences become the quotes (on the shipped articles), and
when two quotes' answers agree (on hand-made spans)."""

from __future__ import annotations

from assistant.answer.candidates import rank_candidates, retrieve
from assistant.answer.selection import answers_agree, distinct, select


def ranked(assistant, question: str):
    snapshot = assistant.snapshot
    retrieved = retrieve(snapshot, question)
    return snapshot, retrieved, rank_candidates(snapshot, retrieved)


def text(snapshot, c) -> str:
    return snapshot.view.text(c.article_id, c.start, c.end)


def test_a_repeated_line_is_quoted_once(shipped_assistant):
    snapshot, _, candidates = ranked(shipped_assistant, "Wie viele Kunden hat Vodacom?")
    doubled = [candidates[0], candidates[0], candidates[1], candidates[0]]
    assert distinct(snapshot, doubled) == [candidates[0], candidates[1]]


def test_select_keeps_the_best_first_within_the_limit(shipped_assistant):
    snapshot, retrieved, candidates = ranked(shipped_assistant, "Wie viele Kunden hat Vodacom?")
    for limit in (1, 2, 3):
        picked = select(snapshot, [candidates[0]] + candidates, limit, retrieved.language)
        texts = [text(snapshot, c) for c in picked]
        assert 1 <= len(picked) <= limit and len(set(texts)) == len(texts)
        # the best sentence leads (alone, or joined with a tied neighbour: then it covers it)
        assert picked[0].start <= candidates[0].start and candidates[0].end <= picked[0].end
        assert "132,6 Millionen" in texts[0]


def test_two_reports_of_one_figure_agree_across_languages_and_formats():
    assert answers_agree("$1.5 billion", "en", "1,5 Milliarden US-Dollar", "de")
    assert answers_agree("65 Prozent", "de", "65 percent", "en")
    assert not answers_agree("$1.5 billion", "en", "1,18 Milliarden Pfund", "de")
    assert answers_agree("Maja Smoltczyk", "de", "maja smoltczyk", "en")
    assert not answers_agree("Maja Smoltczyk", "de", "Nick Read", "en")
    assert not answers_agree("", "de", "", "en")
