"""A development corpus for choices about answering, made from held-out TRAINING data.

XQuAD and the shipped questions are test data: nothing may be chosen by them. Choices such as
how many candidates the reader reads, how its score is combined with the first stage, or where
the answer is refused are made on this set instead: the articles the reader's training held out
for calibration (training/qa_data.split_by_article, same seed and share as the reduced run),
Wikipedia articles (SQuAD, SQuAD-Shifts new-wiki) in English and MLQA paragraphs in German,
written out like `assistant import-xquad` does (one article file each, paragraphs separated by
blank lines) with a question file in the evaluation format.

    .venv/bin/python benchmarks/dev_set.py --out benchmarks/.work/dev [--data ../shared/data/train]

`--half` also writes `half/sources` (every other article) and `half/questions.jsonl`, where the
questions about the left-out articles expect a refusal: the abstention calibration set.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from _common import REPO

from training.qa_data import load_squad_files, split_by_article

WIKI_FILES = ("squad2_train_partial.json", "squad1.1_train_part_ermeba.json", "squadshifts_new_wiki_v1.0.json",
              "mlqa_dev_de_de.json")
ALL_FILES = WIKI_FILES + ("squadshifts_amazon_reviews_v1.0.json", "squadshifts_reddit_v1.0.json")
SEED, CALIB_FRACTION = 13, 0.2  # as training/train_reader.py's reduced run
MAX_QUESTIONS_PER_ARTICLE = 40  # long SQuAD articles would otherwise dominate the set


def file_name(number: int, title: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", title.split(":")[-1]).strip("_")[:50] or "article"
    return f"{number:03d}_{slug}.txt"


def held_out_articles(data: Path) -> list:
    """The calibration articles of the wiki-like files (the split uses every training file, as
    training did, so the same articles are held out)."""
    articles = load_squad_files([data / name for name in ALL_FILES])
    _, calib = split_by_article(articles, CALIB_FRACTION, SEED)
    return [a for a in calib if a.source in WIKI_FILES]


def write_corpus(articles: list, out: Path, seed: int = SEED) -> int:
    sources = out / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    rows = []
    for number, article in enumerate(articles):
        name = file_name(number, article.title)
        (sources / name).write_text("\n\n".join(p.context.strip() for p in article.paragraphs) + "\n",
                                    encoding="utf-8")
        lang = "de" if article.source.startswith("mlqa") else "en"
        qas = [qa for p in article.paragraphs for qa in p.qas]
        rng.shuffle(qas)
        for qa in qas[:MAX_QUESTIONS_PER_ARTICLE]:
            answers = list(dict.fromkeys(text.strip() for text, _ in qa.answers))
            rows.append({"id": qa.qid, "question": qa.question, "answer": answers, "source": name, "lang": lang})
    with open(out / "questions.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)


def write_half(out: Path) -> int:
    """Every other article indexed; questions about the rest expect a refusal."""
    half = out / "half"
    (half / "sources").mkdir(parents=True, exist_ok=True)
    kept = sorted(p.name for p in (out / "sources").iterdir())[::2]
    for name in kept:
        (half / "sources" / name).write_text((out / "sources" / name).read_text(encoding="utf-8"), encoding="utf-8")
    rows = [json.loads(line) for line in open(out / "questions.jsonl", encoding="utf-8")]
    with open(half / "questions.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            if row["source"] not in kept:
                row = {**row, "answer": [], "source": None, "left_out": row["source"]}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "train")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / ".work" / "dev")
    parser.add_argument("--half", action="store_true", help="also write the abstention calibration set")
    args = parser.parse_args()
    articles = held_out_articles(args.data)
    questions = write_corpus(articles, args.out)
    print(f"wrote {len(articles)} articles and {questions} questions to {args.out}")
    if args.half:
        print(f"wrote {write_half(args.out)} questions to {args.out / 'half'}")


if __name__ == "__main__":
    main()
