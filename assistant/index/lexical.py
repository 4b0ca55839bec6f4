"""Lexical ranking: BM25 (bm25s) over stemmed German and English tokens.

Each text is stemmed with the Snowball stemmer of its own language (PyStemmer), so German
questions match German articles' inflected forms. Numbers are written one way, read in
the text's language (normalise.py: German "1.500" and English "1,500" are one token), which also
lets figures and names match across languages.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..normalise import NUMBER, normalise_number

_TOKEN = re.compile(NUMBER + r"|[^\W\d_]+", re.UNICODE)
_STEMMER_NAMES = {"de": "german", "en": "english"}


@lru_cache(maxsize=None)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(_STEMMER_NAMES.get(language, "english"))


@lru_cache(maxsize=None)
def _stopwords(language: str) -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_GERMAN

    return frozenset(STOPWORDS_GERMAN if language == "de" else STOPWORDS_EN_PLUS)


def tokenize(text: str, language: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed tokens."""
    words, stop = [], _stopwords(language)
    for raw in _TOKEN.findall(text.lower()):
        if raw[0].isdigit():
            words.append(normalise_number(raw, language))
        elif raw not in stop and len(raw) > 1:
            words.append(raw)
    numbers = {w for w in words if w[0].isdigit()}
    stems = _stemmer(language).stemWords([w for w in words if w not in numbers])
    it = iter(stems)
    return [w if w in numbers else next(it) for w in words]


class LexicalIndex:
    """BM25 over a list of tokenised documents, saved as plain bm25s files."""

    def __init__(self, retriever):
        self.retriever = retriever

    @classmethod
    def build(cls, documents: list[list[str]]) -> "LexicalIndex":
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.ERROR)  # it logs every build at WARNING
        retriever = bm25s.BM25()
        # An empty document still needs a row: give it a token no query produces.
        retriever.index([doc or ["\u2400"] for doc in documents], show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> "LexicalIndex":
        import bm25s

        return cls(bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False, verbosity=0))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every document; zeros when no query token is in the vocabulary."""
        vocab = self.retriever.vocab_dict
        known = [t for t in query_tokens if t in vocab]
        n_docs = self.retriever.scores["num_docs"]
        if not known:
            return np.zeros(n_docs, dtype=np.float32)
        return np.asarray(self.retriever.get_scores(known), dtype=np.float32)
