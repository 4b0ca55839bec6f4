"""Turn an XQuAD/SQuAD file into a corpus (one article per title) and a question file.

`DIR/sources/NNN_Title.txt` holds an article's paragraphs separated by blank lines;
`DIR/questions.jsonl` holds one row per question in the evaluation format (see eval_data):
`id`, `question`, `answer` (the distinct answer texts; empty for a SQuAD 2.0 question marked
impossible, so the assistant should abstain) and `source` (the article file). With a parallel
`--questions` file the question texts come from it (matched by id), the answers stay in the
corpus's language.
"""

from __future__ import annotations

import json
import re
from pathlib import Path


class XquadError(ValueError):
    pass


def _read(path: Path) -> list[dict]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
        for article in data:
            for para in article["paragraphs"]:
                if not isinstance(para["context"], str):
                    raise TypeError("a context is not a string")
                for qa in para["qas"]:
                    qa["id"], qa["question"]  # noqa: B018 - every question needs both
                    if not all(isinstance(a["text"], str) for a in qa.get("answers", [])):
                        raise TypeError(f"question {qa['id']} has an answer that is not a string")
    except KeyError as exc:
        raise XquadError(f"{path} is not an XQuAD/SQuAD file (no {exc} field)") from exc
    except (OSError, ValueError, TypeError) as exc:
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
        missing = [qa["id"] for article in data for para in article["paragraphs"] for qa in para["qas"]
                   if qa["id"] not in translated]
        if missing:  # checked before anything is written
            raise XquadError(f"{len(missing)} question(s) are missing from {questions_file}, e.g. {missing[0]}")
    sources = out / "sources"
    names = [article_file_name(number, article.get("title", "")) for number, article in enumerate(data)]
    if sources.is_dir():
        stale = sorted(p.name for p in sources.iterdir() if p.name not in names)
        if stale:  # another corpus lives there: mixing the two would skew every figure
            raise XquadError(f"{sources} holds other files ({', '.join(stale[:3])}...); use a new --out folder")
    sources.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, article in zip(names, data):
        paragraphs = [p["context"].strip() for p in article["paragraphs"]]
        (sources / name).write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                answers = list(dict.fromkeys(a["text"].strip() for a in qa.get("answers", []) if a["text"].strip()))
                rows.append({"id": qa["id"], "question": translated.get(qa["id"], qa["question"]),
                             "answer": answers, "source": name})
    with open(out / "questions.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(data), len(rows)

