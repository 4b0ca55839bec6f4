"""Lexical ranking: BM25 (bm25s) over stemmed German and English tokens.

Each text is stemmed with the Snowball stemmer of its own language (PyStemmer), so German
questions match German articles' inflected forms. Numbers are written one way, read in
the text's language (normalise.py: German "1.500" and English "1,500" are one token), which also
lets figures and names match across languages.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..files import save_array
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


STEMS, STEM_OFFSETS, STEM_VOCABULARY = "stems.npy", "stem_offsets.npy", "stem_vocabulary.json"


@dataclass
class PassageStems:
    """Every passage's stemmed tokens as ids into one vocabulary, kept with the index so an
    update builds BM25 again without re-stemming the articles it keeps (stemming 70,000
    passages took longer than the update's whole budget)."""

    vocabulary: list[str]
    ids: np.ndarray  # int32, all passages' token ids one after another
    offsets: np.ndarray  # int64, passage i's ids are ids[offsets[i]:offsets[i + 1]]

    @classmethod
    def empty(cls) -> "PassageStems":
        return cls([], np.zeros(0, np.int32), np.zeros(1, np.int64))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def extend(self, documents: list[list[str]]) -> None:
        """Append passages' tokens, growing the vocabulary with their new words."""
        self._append(self._word_ids([word for doc in documents for word in doc]),
                     np.array([len(doc) for doc in documents], dtype=np.int64))

    def extend_from(self, other: "PassageStems", passages: np.ndarray) -> None:
        """Append passages of another PassageStems (an older index's), by their rows there."""
        if not len(passages):
            return
        starts, ends = other.offsets[passages], other.offsets[passages + 1]
        picked = np.concatenate([other.ids[s:e] for s, e in zip(starts.tolist(), ends.tolist())])
        self._append(self._word_ids(other.vocabulary)[picked], ends - starts)

    def _word_ids(self, words: list[str]) -> np.ndarray:
        """The ids of `words`, words not in the vocabulary yet added to it (one index a call)."""
        index = {word: i for i, word in enumerate(self.vocabulary)}
        for word in words:
            if word not in index:
                index[word] = len(self.vocabulary)
                self.vocabulary.append(word)
        return np.array([index[word] for word in words], dtype=np.int32)

    def _append(self, ids: np.ndarray, lengths: np.ndarray) -> None:
        self.ids = np.concatenate([self.ids, ids])
        self.offsets = np.concatenate([self.offsets, self.offsets[-1] + np.cumsum(lengths)])

    def documents(self) -> list[np.ndarray]:
        return np.split(self.ids, self.offsets[1:-1])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        save_array(folder / STEMS, self.ids)
        save_array(folder / STEM_OFFSETS, self.offsets)
        (folder / STEM_VOCABULARY).write_text(json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "PassageStems":
        vocabulary = json.loads((folder / STEM_VOCABULARY).read_text(encoding="utf-8"))
        return cls(vocabulary, np.load(folder / STEMS), np.load(folder / STEM_OFFSETS))


class LexicalIndex:
    """BM25 over a list of tokenised documents, saved as plain bm25s files."""

    def __init__(self, retriever, stems: PassageStems | None = None):
        self.retriever = retriever
        self.stems = stems  # what it was built from, when built here (saved beside it)

    @classmethod
    def build(cls, documents: list[list[str]]) -> "LexicalIndex":
        stems = PassageStems.empty()
        stems.extend(documents)
        return cls.from_stems(stems)

    @classmethod
    def from_stems(cls, stems: PassageStems) -> "LexicalIndex":
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.ERROR)  # it logs every build at WARNING
        # An empty document still needs a row: give it a token no query produces.
        empty = len(stems.vocabulary)
        vocabulary = {word: i for i, word in enumerate(stems.vocabulary)} | {"\u2400": empty}
        documents = [doc.tolist() if len(doc) else [empty] for doc in stems.documents()]
        retriever = bm25s.BM25()
        retriever.index((documents, vocabulary), show_progress=False)
        return cls(retriever, stems)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder), show_progress=False)
        if self.stems is not None:
            self.stems.save(folder)

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
