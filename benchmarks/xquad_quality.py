"""XQuAD answer quality: paragraph recall@1/@5 and whether the quotes hold the gold answer.

Corpus: the 240 German XQuAD paragraphs, one article per Wikipedia title. Questions: the
1190 German questions and, separately, their English versions. Uses the product's own
`answer_with_passages` (what `answer_question` runs), so the figures are what a user gets.

    .venv/bin/python benchmarks/xquad_quality.py [--limit N] [--work DIR]

Targets (issue 2): first quote holds the answer for >= 80% (de) / 75% (en) of questions,
any shown quote (3 by default) for >= 93% / 90%.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from _common import REPO, XQUAD_DE, table, write_result

from assistant import Assistant
from assistant.environment import settings_from_env
from assistant.evaluation.metrics import contains_answer
from assistant.evaluation.xquad import import_xquad

XQUAD_EN = XQUAD_DE.with_name("xquad.en.json")


def prepare(work: Path) -> tuple[Path, dict[str, list[dict]]]:
    """Import the corpus once (German paragraphs) with German and English question files."""
    for lang, questions in (("de", None), ("en", XQUAD_EN)):
        if not (work / lang / "questions.jsonl").exists():
            import_xquad(XQUAD_DE, work / lang, questions)
    sets = {lang: [json.loads(line) for line in open(work / lang / "questions.jsonl", encoding="utf-8")]
            for lang in ("de", "en")}
    return work / "de" / "sources", sets


def gold_paragraphs() -> dict[str, int]:
    """Question id -> index of its paragraph within its article."""
    data = json.loads(XQUAD_DE.read_text(encoding="utf-8"))["data"]
    return {qa["id"]: i for article in data for i, para in enumerate(article["paragraphs"]) for qa in para["qas"]}


def paragraph_of(assistant: Assistant, passage_id: int) -> tuple[str, int]:
    """(article file, paragraph index): paragraphs are separated by blank lines in the kept text."""
    passage = assistant.snapshot.view.passage(passage_id)
    article = assistant.snapshot.view.articles[passage.article_id]
    return article.file, article.text[: passage.start].count("\n\n")


def measure(assistant: Assistant, questions: list[dict], gold: dict[str, int]) -> dict:
    counts = {"recall@1": 0, "recall@5": 0, "first_quote": 0, "any_quote": 0, "first_quote_shown": 0,
              "any_quote_shown": 0, "abstained": 0}
    latencies, first_lengths = [], []
    for row in questions:
        target = (row["source"], gold[row["id"]])
        started = time.perf_counter()
        answer, hits = assistant.ask_with_passages(row["question"])
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = list(dict.fromkeys(paragraph_of(assistant, h.passage_id) for h in hits))
        counts["recall@1"] += ranked[:1] == [target]
        counts["recall@5"] += target in ranked[:5]
        # Quote ranking is judged on the quotes the answer picked, whether it then abstained
        # (they are shown as "related") or not; "_shown" counts only answers that did not abstain.
        shown = answer.quotes or answer.related
        holds = [contains_answer(q.text, row["answer"]) for q in shown]  # the rule of `assistant eval`
        if shown:
            first_lengths.append(len(shown[0].text))
        counts["first_quote"] += bool(holds and holds[0])
        counts["any_quote"] += any(holds)
        counts["first_quote_shown"] += bool(holds and holds[0]) and not answer.abstained
        counts["any_quote_shown"] += any(holds) and not answer.abstained
        counts["abstained"] += answer.abstained
    n = len(questions)
    result = {k: round(v / n, 4) for k, v in counts.items()}
    result["questions"] = n
    result["median_answer_ms"] = round(sorted(latencies)[n // 2], 1)
    # Longer quotes hold answers more easily: keep their length in view beside the hit rates.
    result["mean_first_quote_chars"] = round(sum(first_lengths) / max(len(first_lengths), 1))
    return result


def parse_args(description: str) -> argparse.Namespace:
    """Options shared by the XQuAD benchmarks."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions per language")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / ".work" / "xquad")
    return parser.parse_args()


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    sources, sets = prepare(args.work)
    settings = settings_from_env(os.environ).with_paths(sources, args.work / "index")
    assistant = Assistant(settings=settings, update=True, progress=True)
    gold = gold_paragraphs()
    rows = []
    for lang, questions in sets.items():
        rows.append({"questions_in": lang, **measure(assistant, questions[: args.limit], gold)})
    columns = ["questions_in", "questions", "recall@1", "recall@5", "first_quote", "any_quote", "abstained",
               "first_quote_shown", "any_quote_shown", "mean_first_quote_chars", "median_answer_ms"]
    print(table(rows, columns))
    path = write_result("xquad_quality", {"corpus": "XQuAD German paragraphs (240)", "results": rows,
                                          "targets": {"de": {"first_quote": 0.80, "any_quote": 0.93},
                                                      "en": {"first_quote": 0.75, "any_quote": 0.90}}})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
