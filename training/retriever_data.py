"""Question -> passage pairs for training the first stage (training/train_retriever.py), and the
development split it is measured on.

Every pair is a question, the paragraph that answers it (the positive), that paragraph's
article title and the question's answers (train_retriever.py masks any other paragraph holding
one: it is no negative). The first run's mined hard negatives (a sibling paragraph or BM25's best
of another article) and article-unique batches are at commit ab75bb4; the pool of every training
paragraph replaced them.

The development split holds whole articles out of training, so that every figure the first
stage reports is on text it never saw:
- the product's development split (training/splits.py: half the MLQA articles in all four
  language pairs, a fifth of the SQuAD 2.0 articles), which the answer policy is fitted on;
- from the new German data, GermanQuAD test two thirds by article title (DEV_SHARE) and the
  MLQA test subset by paragraph (the public copy dropped the titles, so paragraphs of one
  Wikipedia article may land on both sides; noted in the model card).
XQuAD is refused by content (qa_data.refuse_test_contexts), never trained on or measured here.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from training.qa_data import COLLECTION_PARAGRAPHS, refuse_test_contexts
from training.splits import (
    GERMANQUAD_TEST,
    MLQA_FILES,
    MLQA_TEST_DE,
    SQUAD2_FILE,
    find_file,
    in_dev,
    load_mlqa,
    mlqa_split_keys,
    pair_of,
    read_json,
)

# (file, text language, question language, share of its training questions used). The English
# sets are large next to the German ones: a share keeps the mix about half German text.
TRAIN_FILES: tuple[tuple[str, str, str, float], ...] = (
    (GERMANQUAD_TEST, "de", "de", 1.0),
    (MLQA_TEST_DE, "de", "de", 1.0),
    ("germanquad_train_subset_pfalztrafo.json.gz", "de", "de", 1.0),
    ("germandpr_train_subset_pfalztrafo.json.gz", "de", "de", 1.0),
    *((name, *pair_of(name), 1.0) for name in MLQA_FILES),
    (SQUAD2_FILE, "en", "en", 0.3),
    ("squad1.1_train_part_ermeba.json.gz", "en", "en", 1.0),
    ("squadshifts_new_wiki_v1.0.json.gz", "en", "en", 0.08),
    ("squadshifts_amazon_reviews_v1.0.json.gz", "en", "en", 0.04),
    ("squadshifts_reddit_v1.0.json.gz", "en", "en", 0.04),
)


# Longer paragraphs (COVID-QA's whole papers) are unlike the product's passages (at most 1,200
# characters) and cut at the encoder's 512 tokens, often before their answer: not a positive.
MAX_PASSAGE_CHARS = 2000  # training pairs only: the development split keeps every paragraph


@dataclass(frozen=True)
class Pair:
    question: str
    question_language: str
    passage: str
    text_language: str
    title: str
    article: str  # source file + article: at most one question of an article in a batch
    answers: tuple[str, ...]


def required_file(name: str) -> Path:
    """The data file, or FileNotFoundError: a retrain never quietly trains on less."""
    path = find_file(name)
    if path is None:
        raise FileNotFoundError(
            f"{name} not found in training/data/ or ../shared/data/train/ (training/data/README.md says "
            "where each file comes from)")
    return path


def _pairs_of_file(name: str, text_language: str, question_language: str, mlqa_keys: dict,
                   dev: bool) -> list[Pair]:
    data = read_json(required_file(name))
    refuse_test_contexts(name, (p["context"] for a in data["data"] for p in a["paragraphs"]))
    out = []
    for number, article in enumerate(data["data"]):
        title = article.get("title") or ""
        for para in article["paragraphs"]:
            context = para["context"].strip()
            if in_dev(name, title, context, mlqa_keys) != dev:
                continue
            # untitled entries (MLQA test) and collections (all of Reddit in SQuAD-Shifts) are
            # grouped by paragraph, as qa_data.load_squad_files does
            whole = title and len(article["paragraphs"]) <= COLLECTION_PARAGRAPHS
            group = f"{name}:{number}" if whole else f"{name}:{context[:120]}"
            for qa in para["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", []) if a["text"].strip())
                if qa.get("is_impossible") or not answers or (not dev and len(context) > MAX_PASSAGE_CHARS):
                    continue
                out.append(Pair(qa["question"].strip(), question_language, context, text_language,
                                title.replace("_", " "), group, answers))
    return out


def load_pairs(dev: bool, seed: int = 13) -> list[Pair]:
    """The training pairs (dev=False, each file's share sampled) or the development pairs (all)."""
    mlqa_keys = mlqa_split_keys(load_mlqa())
    rng = random.Random(seed)
    out: list[Pair] = []
    for name, text_language, question_language, share in TRAIN_FILES:
        pairs = _pairs_of_file(name, text_language, question_language, mlqa_keys, dev)
        if not dev and share < 1.0:
            pairs = rng.sample(pairs, round(len(pairs) * share))
        out.extend(pairs)
    return out


def holds_answer(passage: str, answers: Iterable[str]) -> bool:
    folded = passage.casefold()
    return any(a.strip().casefold() in folded for a in answers)
