"""SQuAD-format QA data, loaded with a test-data guard: a file named like test data, or holding
any XQuAD paragraph, is refused (training/answer_data.py makes the training windows)."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

# Test data must never be trained on: XQuAD, SQuAD dev (XQuAD was built from SQuAD v1.1 dev),
# the shipped questions. The guard that counts is by content (any XQuAD paragraph); the name
# check only catches the obvious. Public sets' "test" splits that the team put in
# ../shared/data/train/ (MLQA test, GermanQuAD test) are training data here, not our test data.
BANNED_NAME = re.compile(r"xquad|shipped|squad.*dev|dev.*squad", re.IGNORECASE)
# Found from the repository (the team's shared folder beside the checkout), not a fixed path.
XQUAD_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "xquad"


@dataclass(frozen=True)
class QA:
    qid: str
    question: str
    answers: tuple[tuple[str, int], ...]  # (text, char start); empty when unanswerable

    @property
    def impossible(self) -> bool:
        return not self.answers


@dataclass(frozen=True)
class Paragraph:
    context: str
    qas: tuple[QA, ...]


@dataclass(frozen=True)
class Article:
    title: str
    source: str  # file name it came from
    paragraphs: tuple[Paragraph, ...]


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@functools.lru_cache(maxsize=4)
def _test_contexts(xquad_dir: Path | None = None) -> frozenset[str]:
    """Contexts of XQuAD, to refuse any training file that holds one. Missing XQuAD is an
    error, not an empty set: a guard that finds nothing to guard against would pass anything."""
    xquad_dir = XQUAD_DIR if xquad_dir is None else xquad_dir
    paths = sorted(xquad_dir.glob("xquad.*.json")) if xquad_dir.is_dir() else []
    if not paths:
        raise FileNotFoundError(f"XQuAD not found in {xquad_dir}: the test-data guard needs it")
    found: set[str] = set()
    for path in paths:
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            found.update(p["context"].strip() for p in article["paragraphs"])
    return frozenset(found)


def refuse_test_contexts(name: str, contexts: Iterable[str], xquad_dir: Path | None = None) -> None:
    """ValueError when a file is named like test data or holds an XQuAD paragraph."""
    if BANNED_NAME.search(name):
        raise ValueError(f"{name}: looks like test data; never train on it")
    banned = _test_contexts(xquad_dir)
    for context in contexts:
        if context.strip() in banned:
            raise ValueError(f"{name}: holds an XQuAD paragraph (test data); never train on it")


# A titled "article" with more paragraphs than this is a collection (all of Reddit in SQuAD-Shifts,
# MLQA as one untitled article): its paragraphs are split and held out one by one.
COLLECTION_PARAGRAPHS = 300


def load_squad_files(paths: Sequence[Path]) -> list[Article]:
    """Articles from SQuAD 1.1/2.0-format files (GermanQuAD and MLQA use the same format).

    Refuses files named like test/dev data and any paragraph that is in XQuAD. Articles with the
    same title in several files are merged (a question id is kept once), so the calibration split
    by article cannot see a training paragraph again.
    """
    banned = _test_contexts()
    merged: dict[str, tuple[str, dict[str, list[QA]]]] = {}  # title -> (source, context -> qas)
    seen_ids: set[str] = set()
    loose: list[Article] = []
    for path in map(Path, paths):
        if BANNED_NAME.search(path.name):
            raise ValueError(f"{path.name}: looks like test or dev data; never train on it")
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "data" not in data:
            raise ValueError(f"{path.name}: not a SQuAD-format file (no 'data')")
        for art in data["data"]:
            title = art.get("title") or ""
            collection = not title or len(art["paragraphs"]) > COLLECTION_PARAGRAPHS
            for k, para in enumerate(art["paragraphs"]):
                context = para["context"]
                if context.strip() in banned:
                    raise ValueError(f"{path.name}: a paragraph of {title!r} is in XQuAD (test data)")
                qas = []
                for qa in para["qas"]:
                    qid = str(qa["id"])
                    if qid in seen_ids:
                        continue  # the same question in another file (SQuAD 2.0 re-uses 1.1 ids)
                    answers = () if qa.get("is_impossible") else tuple(
                        (a["text"], int(a["answer_start"])) for a in qa.get("answers", [])
                    )
                    answers = tuple(a for a in answers if context[a[1]:a[1] + len(a[0])] == a[0])
                    if not qa.get("is_impossible") and not answers:
                        continue  # an answer span that does not match its context: skip the question
                    seen_ids.add(qid)
                    qas.append(QA(qid, qa["question"].strip(), answers))
                if collection:
                    loose.append(Article(f"{path.name}:{title}#{k}", path.name, (Paragraph(context, tuple(qas)),)))
                else:
                    source, contexts = merged.setdefault(title, (path.name, {}))
                    contexts.setdefault(context, []).extend(qas)
    articles = [
        Article(title, source, tuple(Paragraph(c, tuple(q)) for c, q in contexts.items()))
        for title, (source, contexts) in merged.items()
    ]
    return articles + loose
