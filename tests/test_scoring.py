"""Quote-scoring features on hand-made vectors and tiny German and English questions."""

from __future__ import annotations

import re

import numpy as np

from assistant.answer.scoring import (answer_type, best_matches, content_token_mask, has_answer_type, maxsim,
                               word_coverage)


def spans_of(question: str) -> np.ndarray:
    """One token per word, as (start, end) spans: enough to test the word-level rules."""
    return np.array([(m.start(), m.end()) for m in re.finditer(r"\w+", question)], dtype=np.int64)


def test_best_matches_and_maxsim():
    question = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    text = np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    best = best_matches(question, text)
    assert np.allclose(best, [1.0, 0.8])
    assert abs(maxsim(best) - 0.9) < 1e-6
    assert abs(maxsim(best[[False, True]]) - 0.8) < 1e-6
    assert np.array_equal(best_matches(question, np.zeros((0, 2), np.float32)), [0.0, 0.0])
    assert maxsim(np.zeros(0, np.float32)) == 0.0


def test_content_token_mask_drops_function_words_in_both_languages():
    question = "Wie viele Kunden hat Vodacom?"
    assert content_token_mask(question, spans_of(question)).tolist() == [False, True, True, False, True]
    question = "What share of Vodacom does Vodafone own?"
    # "own" is on bm25s's English stop-word list too.
    assert content_token_mask(question, spans_of(question)).tolist() == [False, True, False, True, False, True, False]
    only_function_words = "Was ist das?"
    assert content_token_mask(only_function_words, spans_of(only_function_words)).all()


def test_answer_types():
    assert answer_type("Wann wurde M-Pesa gestartet?") == "time"
    assert answer_type("When did Vodafone sign?") == "time"
    assert answer_type("Wie viele Kunden hat Vodacom?") == "number"
    assert answer_type("How much is Vodafone investing?") == "number"
    assert answer_type("Who is the CEO of Vodafone?") is None
    assert has_answer_type("time", "im Jahr 2007 gestartet") and not has_answer_type("time", "im Frühjahr")
    assert has_answer_type("number", "132,6 Millionen Kunden") and has_answer_type("number", "zehn Jahre")
    assert not has_answer_type("number", "viele Kunden") and not has_answer_type(None, "2007")


def test_word_coverage_looks_at_names_and_figures_only():
    question = "When did Apple acquire Vodafone?"
    spans = spans_of(question)  # When did Apple acquire Vodafone
    tokens = np.eye(5, dtype=np.float32)
    # The text matches every word but "Apple": coverage is Apple's best match.
    text = np.stack([tokens[0], tokens[1], 0.5 * tokens[2] + np.sqrt(0.75) * tokens[3], tokens[3], tokens[4]])
    assert abs(word_coverage(question, "en", spans, tokens, text) - 0.5) < 1e-6
    # A German question capitalises every noun: only figures and inner capitals count as names.
    german = "Wie viel kostet ein Abo?"
    assert word_coverage(german, "de", spans_of(german), np.eye(5, dtype=np.float32),
                         np.zeros((1, 5), np.float32)) == 1.0
    figure = "Wie viel kostet ein iPhone 15?"
    assert word_coverage(figure, "de", spans_of(figure), np.eye(6, dtype=np.float32),
                         np.eye(6, dtype=np.float32)[:4]) == 0.0
