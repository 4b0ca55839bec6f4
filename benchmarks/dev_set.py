"""The development corpora: held-out TRAINING data that every answering choice is fitted on.

XQuAD and the shipped questions are test data: nothing may be chosen by them. The quote ranking,
the refusal and short-answer thresholds and the number of candidates read are fitted on these
corpora instead: the development split of training/splits.py (half of the MLQA articles we hold,
by German article, and a fifth of the SQuAD 2.0 articles), which the answer model never trains on.

Two corpora, one per text language, each written like `assistant import-xquad` writes one (one
article file each, paragraphs separated by blank lines) with a question file in the evaluation
format:

- `de/`: the German MLQA paragraphs, asked in German (`pair` de-de) and English (en-de), and the
  development side of the new German data (training/retriever_data.py: GermanQuAD test two
  thirds by article, the MLQA test subset by paragraph; de-de), so that German text has enough
  questions to decide on (several hundred instead of 56);
- `en/`: the English MLQA paragraphs, asked in English (en-en) and German (de-en), and the
  SQuAD 2.0 articles with their unanswerable questions (near misses: `pair` en-en, no answer).

Only every other MLQA article is indexed: the questions about a left-out article expect a refusal
(`left_out` names it), as a question about news the corpus does not cover does.

And per text language a corpus of **near misses** (`de-near/`, `en-near/`), the questions users ask
that are hardest to refuse: a question about the corpus's topic whose figure or name no article
gives. Each left-out article is indexed there with every sentence that holds an answer to one of
its questions removed (sentences as the product splits them), and its answerable questions expect
a refusal (`near_miss` names the article); a question with a word of its answer still in what is left is
dropped. The refusal is fitted on these and on the left-out articles' questions.

    .venv/bin/python benchmarks/dev_set.py [--out benchmarks/.work/dev]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from _common import REPO

from assistant.answer.question import content_words
from assistant.ingest.language import WORD
from assistant.ingest.passages import split_sentences

from training.retriever_data import holds_answer, required_file
from training.splits import (
    GERMANQUAD_TEST,
    MLQA_TEST_DE,
    in_dev,
    MLQA_FILES,
    SQUAD2_FILE,
    find_file,
    load_mlqa,
    mlqa_split_keys,
    pair_of,
    read_json,
    split_file,
)

SEED = 13
MAX_QUESTIONS_PER_ARTICLE = 12  # MLQA articles have one to a few questions each
MAX_SQUAD2_QUESTIONS = 160  # a SQuAD 2.0 article has hundreds; its unanswerable ones are the near misses


def file_name(number: int, title: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", title.split(":")[-1]).strip("_")[:50] or "article"
    return f"{number:03d}_{slug}.txt"


def _new_german_dev() -> list[tuple[str, str, dict]]:
    """The development side of the new German files, as articles: GermanQuAD's by title, each
    held-out MLQA test paragraph an article of its own (its copy has no titles; the title given
    is its first words, as the product would make one)."""
    out = []
    for name in (GERMANQUAD_TEST, MLQA_TEST_DE):
        data = read_json(required_file(name))
        for article in data["data"]:
            title = article.get("title") or ""
            for para in article["paragraphs"]:
                if not in_dev(name, title, para["context"], {}):
                    continue
                own = title or "MLQA " + " ".join(para["context"].split()[:8])
                out.append(("de", name, {"title": own, "paragraphs": [para]}))
    return out


def _dev_articles() -> dict[str, list[tuple[str, str, dict]]]:
    """Text language -> [(question language, file name, SQuAD-format article)] of the dev split."""
    mlqa = load_mlqa()
    keys = mlqa_split_keys(mlqa)
    out: dict[str, list] = {"de": _new_german_dev(), "en": []}
    for name in MLQA_FILES:
        context, question = pair_of(name)
        _, dev = split_file(name, mlqa[name], keys)
        out[context].extend((question, name, a) for a in dev["data"])
    path = find_file(SQUAD2_FILE)
    if path is not None:
        _, dev = split_file(SQUAD2_FILE, read_json(path), keys)
        out["en"].extend(("en", SQUAD2_FILE, a) for a in dev["data"])
    return out


def _articles(entries: list[tuple[str, str, dict]]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """(title -> its paragraphs, in order, each once; title -> its file name)."""
    paragraphs: dict[str, list[str]] = {}
    for _, _, article in entries:
        kept = paragraphs.setdefault(article["title"], [])
        for p in article["paragraphs"]:
            if p["context"].strip() not in kept:
                kept.append(p["context"].strip())
    return paragraphs, {title: file_name(n, title) for n, title in enumerate(sorted(paragraphs))}


def write_corpus(text_language: str, entries: list[tuple[str, str, dict]], out: Path) -> dict[str, int]:
    """One corpus folder (sources/ and questions.jsonl); returns counts per pair and kind."""
    sources = out / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    paragraphs, names = _articles(entries)
    squad2 = {names[a["title"]] for _, file, a in entries if file == SQUAD2_FILE}
    indexed = set(sorted(set(names.values()) - squad2)[::2]) | squad2  # SQuAD 2.0: always indexed
    for title, name in names.items():
        if name in indexed:
            (sources / name).write_text("\n\n".join(paragraphs[title]) + "\n", encoding="utf-8")
    rng = random.Random(SEED)
    rows, counts = [], {}
    for question_language, file, article in entries:
        qas = [qa for p in article["paragraphs"] for qa in p["qas"]]
        rng.shuffle(qas)
        name = names[article["title"]]
        for qa in qas[:MAX_SQUAD2_QUESTIONS if file == SQUAD2_FILE else MAX_QUESTIONS_PER_ARTICLE]:
            answers = list(dict.fromkeys(a["text"].strip() for a in qa.get("answers", [])))
            pair = f"{question_language}-{text_language}"
            row = {"id": f"{pair}:{qa['id']}", "question": qa["question"], "answer": answers, "source": name,
                   "lang": question_language, "pair": pair, "file": file}
            if name not in indexed:
                row.update(answer=[], source=None, left_out=name)
            kind = "left out" if name not in indexed else ("answerable" if answers else "unanswerable")
            counts[f"{pair} {kind}"] = counts.get(f"{pair} {kind}", 0) + 1
            rows.append(row)
    with open(out / "questions.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return counts


def _mentions_answer(text: str, answers: list[str]) -> bool:
    """Does the text still name part of an answer (a content word of it, inflected or not:
    "Anning" of "Annings")? Then the question may still be answerable, and is no near miss."""
    from rapidfuzz import fuzz, process

    words = list({w.casefold() for w in WORD.findall(text)})
    return bool(words) and any(process.extractOne(w.casefold(), words, scorer=fuzz.ratio)[1] >= 80
                               for a in answers for w in content_words(a))


def without_answers(paragraph: str, language: str, answers: list[str]) -> str:
    """The paragraph without the sentences (as the product splits them) that hold an answer."""
    kept = [paragraph[start:end] for start, end in split_sentences(paragraph, language)
            if not holds_answer(paragraph[start:end], answers)]
    return " ".join(kept)


def write_near_misses(text_language: str, corpus: Path, entries: list[tuple[str, str, dict]], out: Path) -> dict[str, int]:
    """The near-miss corpus of one text language: the left-out articles of `corpus` (written by
    write_corpus from the same entries) without their answer sentences, and their answerable
    questions, expecting none."""
    rows = [json.loads(line) for line in (corpus / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    paragraphs, names = _articles(entries)
    left_out = {r["left_out"] for r in rows if r.get("left_out")}
    answers_of: dict[str, list[str]] = {}  # file -> every answer of every question about it
    answers_to: dict[tuple[str, str], list[str]] = {}  # (source file, question id) -> its answers
    for _, file, article in entries:
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                answers = [a["text"].strip() for a in qa.get("answers", []) if a["text"].strip()]
                answers_of.setdefault(names[article["title"]], []).extend(answers)
                answers_to[(file, qa["id"])] = answers
    sources = out / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    texts = {}
    for title, name in names.items():
        if name not in left_out:
            continue
        kept = (without_answers(p, text_language, answers_of.get(name, [])) for p in paragraphs[title])
        texts[name] = "\n\n".join(t for t in kept if t)
        if texts[name].strip():
            (sources / name).write_text(texts[name] + "\n", encoding="utf-8")
    counts: dict[str, int] = {}
    with open(out / "questions.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            name = row.get("left_out")
            answers = answers_to.get((row["file"], row["id"].split(":", 1)[1]), [])
            if not name or not answers or not texts.get(name, "").strip() or _mentions_answer(texts[name], answers):
                continue
            near = {k: v for k, v in row.items() if k != "left_out"}
            handle.write(json.dumps({**near, "id": row["id"] + ":near", "near_miss": name}, ensure_ascii=False) + "\n")
            counts[f"{row['pair']} near miss"] = counts.get(f"{row['pair']} near miss", 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / ".work" / "dev")
    parser.add_argument("--near-misses-only", action="store_true",
                        help="write only the near-miss corpora, beside corpora written before")
    args = parser.parse_args()
    for language, entries in _dev_articles().items():
        if not args.near_misses_only:
            counts = write_corpus(language, entries, args.out / language)
            print(f"{args.out / language}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        near = args.out / f"{language}-near"
        counts = write_near_misses(language, args.out / language, entries, near)
        print(f"{near}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
