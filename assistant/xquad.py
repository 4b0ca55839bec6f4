"""Turn an XQuAD/SQuAD file into a corpus (one article per title) and a question file."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path


class XquadError(ValueError):
    pass


def _read(path: Path) -> list[dict]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise XquadError(f"{path} is not a readable XQuAD/SQuAD file ({exc})") from exc
    return data


def article_file_name(number: int, title: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")[:60] or "article"
    return f"{number:03d}_{slug}.txt"


def import_xquad(corpus_file: Path, out: Path, questions_file: Path | None = None) -> tuple[int, int]:
    """Write out/sources/*.txt and out/questions.jsonl; returns (articles, questions)."""
    data = _read(corpus_file)
    translated = {}
    if questions_file is not None:
        translated = {qa["id"]: qa["question"] for article in _read(questions_file)
                      for para in article["paragraphs"] for qa in para["qas"]}
    sources = out / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    rows = []
    for number, article in enumerate(data):
        name = article_file_name(number, article.get("title", ""))
        paragraphs = [p["context"].strip() for p in article["paragraphs"]]
        (sources / name).write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                if questions_file is not None and qa["id"] not in translated:
                    raise XquadError(f"question {qa['id']} is missing from {questions_file}")
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                rows.append({"id": qa["id"], "question": translated.get(qa["id"], qa["question"]),
                             "answer": answers, "source": name})
    with open(out / "questions.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(data), len(rows)


def import_command(args: argparse.Namespace) -> int:
    articles, questions = import_xquad(args.xquad, args.out, args.questions)
    print(f"wrote {articles} articles to {args.out / 'sources'} and {questions} questions to "
          f"{args.out / 'questions.jsonl'}")
    return 0
