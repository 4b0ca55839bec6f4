"""Question -> passage pairs for training the first stage (training/train_retriever.py), and the
development split it is measured on.

Every pair is a question, the paragraph that answers it (the positive), that paragraph's
article title, and one hard negative, drawn at random from two kinds where both exist: another
paragraph of the same article (what the index holds next to the answer) and the best BM25
paragraph of another article in the same language (words shared, answer absent). A paragraph
holding an answer text of the question is never its negative.

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
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from training.qa_data import COLLECTION_PARAGRAPHS, refuse_test_contexts
from training.splits import (
    MLQA_FILES,
    SQUAD2_FILE,
    find_file,
    is_dev,
    load_mlqa,
    mlqa_split_keys,
    pair_of,
    read_json,
    stable_fraction,
)

GERMANQUAD_TEST = "germanquad_test_twothirds.json.gz"
MLQA_TEST_DE = "mlqa_test_subset-context-de-question-de.json.gz"
DEV_SHARE = {GERMANQUAD_TEST: 0.3, MLQA_TEST_DE: 0.2}

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
    negative: str = ""


def required_file(name: str) -> Path:
    """The data file, or FileNotFoundError: a retrain never quietly trains on less."""
    path = find_file(name)
    if path is None:
        raise FileNotFoundError(
            f"{name} not found in training/data/ or ../shared/data/train/ (training/data/README.md says "
            "where each file comes from)")
    return path


def in_dev(name: str, title: str, context: str, mlqa_keys: dict) -> bool:
    """Is this paragraph held out (the development split) rather than trained on?"""
    if name in DEV_SHARE:
        key = title if name == GERMANQUAD_TEST else context.strip()
        return stable_fraction(f"{name}:{key}") < DEV_SHARE[name]
    if name in MLQA_FILES or name == SQUAD2_FILE:
        return is_dev(name, title, mlqa_keys)
    return False


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


def with_hard_negatives(pairs: list[Pair], seed: int = 13) -> list[Pair]:
    """Each pair with one hard negative (module docstring: a sibling or BM25's best of another
    article, at random); pairs with neither keep ""."""
    import bm25s
    import Stemmer

    rng = random.Random(seed)
    by_article: dict[str, list[str]] = defaultdict(list)
    for p in pairs:
        if p.passage not in by_article[p.article]:
            by_article[p.article].append(p.passage)
    out: list[Pair] = []
    for language in sorted({p.text_language for p in pairs}):
        stemmer = Stemmer.Stemmer("german" if language == "de" else "english")
        corpus = sorted({p.passage for p in pairs if p.text_language == language})
        owner = {}
        for p in pairs:
            owner.setdefault(p.passage, p.article)
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(corpus, stopwords=language, stemmer=stemmer, show_progress=False),
                        show_progress=False)
        mine = [p for p in pairs if p.text_language == language]
        # questions of the other language find little by BM25: the text's language decides the stemmer
        tokens = bm25s.tokenize([p.question for p in mine], stopwords=language, stemmer=stemmer,
                                show_progress=False)
        hits, _ = retriever.retrieve(tokens, k=min(10, len(corpus)), show_progress=False, n_threads=1)
        for p, row in zip(mine, hits):
            siblings = [s for s in by_article[p.article] if s != p.passage and not holds_answer(s, p.answers)]
            lexical = [corpus[i] for i in row if owner[corpus[i]] != p.article
                       and not holds_answer(corpus[i], p.answers)]
            choices = ([rng.choice(siblings)] if siblings else []) + lexical[:1]
            negative = rng.choice(choices) if choices else ""
            out.append(Pair(**{**p.__dict__, "negative": negative}))
    return out


def batches(pairs: list[Pair], size: int, seed: int) -> list[list[Pair]]:
    """Shuffled batches with at most one question per article and per passage: in-batch
    negatives then never include a question's own answer paragraph or a sibling mined for it."""
    rng = random.Random(seed)
    pending = pairs[:]
    rng.shuffle(pending)
    out: list[list[Pair]] = []
    while pending:
        batch, seen, rest = [], set(), []
        for p in pending:
            if len(batch) < size and p.article not in seen and p.passage not in seen:
                batch.append(p)
                seen.update((p.article, p.passage))
            else:
                rest.append(p)
        out.append(batch)
        pending = rest
    return [b for b in out if len(b) > 1]
