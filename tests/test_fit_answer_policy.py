"""benchmarks/fit_answer_policy.py outcome(): what the product would show for a question's kept
readings, through the product's own rules: here, that a sentence whose article cannot answer what
the question names (abstention.names_what_is_asked, kept as "names_asked") is never the answer."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
_spec = importlib.util.spec_from_file_location("fit_answer_policy", REPO / "benchmarks" / "fit_answer_policy.py")
fit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fit)

from assistant.config import READER_WEIGHTS_DIR, load_reader_policy  # noqa: E402


def item(**extra) -> dict:
    """Two German sentences read for an answerable German question: the first likelier, the
    second the one holding the answer."""
    same = np.ones(2)
    x = np.column_stack([np.zeros(2), np.zeros(2), np.zeros(2), np.ones(2), same])
    return {"x": x, "y": np.array([False, True]), "f1": np.zeros(2), "spans": ["", ""],
            "p": np.array([0.9, 0.6]), "articles": [0, 1], "languages": ["de", "de"],
            "row": {"question": "Wer hatte 1916 das Kommando?", "answer": ["Kapitän X"], "lang": "de", "pair": "de-de"},
            **extra}


def test_a_sentence_from_an_article_that_cannot_answer_what_is_named_never_answers():
    policy = load_reader_policy(READER_WEIGHTS_DIR)
    assert not fit.outcome(item(), policy)["first"]  # readings kept before the rule: every sentence counts
    assert not fit.outcome(item(names_asked=np.array([True, True])), policy)["first"]
    second_only = fit.outcome(item(names_asked=np.array([False, True])), policy)
    assert not second_only["refused"] and second_only["first"]
    assert fit.outcome(item(names_asked=np.array([False, False])), policy)["refused"]
