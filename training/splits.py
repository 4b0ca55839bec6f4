"""Which training articles are held out as the development split, and where the data lives.

Everything the product fits or chooses (quote ranking weights, refusal and short-answer
thresholds, the number of candidates read) is fitted on the development split; the answer model is
trained on the rest. XQuAD and the shipped questions are test data and never choose anything.

The development split mirrors the external test it stands in for (questions by other people over
German Wikipedia paragraphs, asked in German and English): half of the MLQA articles we hold,
in all four language pairs, plus a fifth of the SQuAD 2.0 articles (English, with unanswerable
questions). MLQA's four files share question ids (the same question in German and English over
the German and the English paragraph), so a question and its translations always land on the same
side: the split key of a question is its German article's title, and an English article goes
with the German article of its first translated question.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The team's shared folder beside the checkout holds every training file (training/data/README.md
# says where each comes from and how the fetched ones were rebuilt); fetched data is never
# committed, so a retrain runs from any clone that has ../shared beside it.
DATA_DIRS = (REPO.parent / "shared" / "data" / "train",)

MLQA_PREFIX = "mlqa_dev_trainhalf-context-"
MLQA_FILES = tuple(f"{MLQA_PREFIX}{c}-question-{q}.json.gz" for c in ("de", "en") for q in ("de", "en"))
SQUAD2_FILE = "squad2_train_PARTIAL_first10articles.json.gz"
MLQA_DEV_SHARE = 0.5
SQUAD2_DEV_SHARE = 0.2
# The new German data (public test splits of GermanQuAD and MLQA, trained on here): GermanQuAD's
# held-out side by article title, MLQA's by paragraph (its public copy has no titles, so paragraphs
# of one Wikipedia article may land on both sides).
GERMANQUAD_TEST = "germanquad_test_twothirds.json.gz"
MLQA_TEST_DE = "mlqa_test_subset-context-de-question-de.json.gz"
DEV_SHARE = {GERMANQUAD_TEST: 0.3, MLQA_TEST_DE: 0.2}


def find_file(name: str, dirs: tuple[Path, ...] = DATA_DIRS) -> Path | None:
    return next((d / name for d in dirs if (d / name).is_file()), None)


def read_json(path: Path) -> dict:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def stable_fraction(key: str) -> float:
    """A number in [0, 1) fixed by the key (the same on every machine and Python)."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) / 2**32


def pair_of(name: str) -> tuple[str, str] | None:
    """(context language, question language) of an MLQA file name, else None."""
    if not name.startswith(MLQA_PREFIX):
        return None
    rest = name[len(MLQA_PREFIX):]
    return rest[0:2], rest[-10:-8] if rest.endswith(".json.gz") else rest[-7:-5]


def mlqa_split_keys(mlqa: dict[str, dict]) -> dict[tuple[str, str], str]:
    """(file name, article title) -> split key, for the MLQA files given (name -> parsed JSON)."""
    german_title: dict[str, str] = {}
    for name, data in mlqa.items():
        if pair_of(name)[0] == "de":
            for article in data["data"]:
                for para in article["paragraphs"]:
                    for qa in para["qas"]:
                        german_title[qa["id"]] = article["title"]
    keys = {}
    for name, data in mlqa.items():
        for article in data["data"]:
            ids = sorted(qa["id"] for para in article["paragraphs"] for qa in para["qas"])
            twin = next((german_title[i] for i in ids if i in german_title), None)
            keys[(name, article["title"])] = "de:" + twin if twin else "en:" + article["title"]
    return keys


def is_dev(name: str, title: str, mlqa_keys: dict[tuple[str, str], str]) -> bool:
    """Is this article of this file in the development split?"""
    if name.startswith(MLQA_PREFIX):
        return stable_fraction(mlqa_keys[(name, title)]) < MLQA_DEV_SHARE
    if name == SQUAD2_FILE:
        return stable_fraction("squad2:" + title) < SQUAD2_DEV_SHARE
    return False


def in_dev(name: str, title: str, context: str, mlqa_keys: dict) -> bool:
    """Is this paragraph held out (the development split) rather than trained on? The one rule
    for the answer model, the first stage and the development corpora."""
    if name in DEV_SHARE:
        key = title if name == GERMANQUAD_TEST else context.strip()
        return stable_fraction(f"{name}:{key}") < DEV_SHARE[name]
    if name in MLQA_FILES or name == SQUAD2_FILE:
        return is_dev(name, title, mlqa_keys)
    return False


def split_file(name: str, data: dict, mlqa_keys: dict[tuple[str, str], str]) -> tuple[dict, dict]:
    """(train part, dev part) of one SQuAD-format file, by `in_dev`: whole articles, or single
    paragraphs where the file has no titles (MLQA test)."""
    train, dev = [], []
    for article in data["data"]:
        title = article.get("title", "")
        sides: dict[bool, list] = {False: [], True: []}
        for para in article["paragraphs"]:
            sides[in_dev(name, title, para["context"], mlqa_keys)].append(para)
        for held_out, out in ((False, train), (True, dev)):
            if sides[held_out]:
                out.append({**article, "paragraphs": sides[held_out]})
    return {**data, "data": train}, {**data, "data": dev}


def load_mlqa(dirs: tuple[Path, ...] = DATA_DIRS) -> dict[str, dict]:
    found = {name: find_file(name, dirs) for name in MLQA_FILES}
    missing = [n for n, p in found.items() if p is None]
    if missing:
        raise FileNotFoundError(f"MLQA files not found in {', '.join(map(str, dirs))}: {', '.join(missing)}")
    return {name: read_json(path) for name, path in found.items()}
