"""Measure the reader on XQuAD with the gold paragraph given (TEST DATA: report only, never tune).

    python training/measure_reader_xquad.py [--weights assistant/models/reader/weights] [--out training/results/xquad_gold_paragraph.json]

For the German paragraphs (xquad.de.json), asked the German questions (de-de) and the English
questions with the same ids (xquad.en.json; en-de):
- EM / F1 of the best span of the paragraph against the German gold answers (SQuAD normalisation;
  published anchor for a large reader on German XQuAD: EM 61.5 / F1 78.8);
- the share of questions whose best span starts in the sentence holding the gold answer, and the
  share where the sentence with the best span *inside it* is that sentence (how the product uses
  the reader to rank sentences);
- the share of these answerable pairs the shipped threshold would refuse.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

from assistant.ingest.passages import split_sentences  # noqa: E402
from assistant.models.reader.model import WEIGHTS_DIR, Reader, best_span  # noqa: E402
from training.squad_metrics import best_exact, best_f1  # noqa: E402

XQUAD = Path("/work/shared/data/xquad")


def load(path: Path) -> list[dict]:
    """(id, question, context, answers) rows of an XQuAD file."""
    rows = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                rows.append({
                    "id": qa["id"], "question": qa["question"], "context": para["context"],
                    "answers": [(a["text"], a["answer_start"]) for a in qa["answers"]],
                })
    return rows


def sentence_of(sentences: list[tuple[int, int]], char: int) -> int | None:
    for k, (s, e) in enumerate(sentences):
        if s <= char < e:
            return k
    return None


def measure(reader: Reader, rows: list[dict], questions: dict[str, str], batch: int = 16) -> dict:
    em, f1, in_sentence, best_sentence, refused = [], [], [], [], []
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]["context"]))
    for lo in tqdm(range(0, len(order), batch), unit="batch", mininterval=5):
        idx = order[lo:lo + batch]
        readings = reader.read_pairs([(questions[rows[i]["id"]], rows[i]["context"]) for i in idx])
        for i, reading in zip(idx, readings):
            row = rows[i]
            golds = [a for a, _ in row["answers"]]
            span = best_span(reading)
            text = row["context"][span.start:span.end] if span else ""
            em.append(best_exact(text, golds))
            f1.append(best_f1(text, golds))
            refused.append(reading.margin(span) <= reader.threshold)
            sentences = split_sentences(row["context"], "de")
            gold_sentences = {sentence_of(sentences, start) for _, start in row["answers"]} - {None}
            in_sentence.append(span is not None and sentence_of(sentences, span.start) in gold_sentences)
            per_sentence = [best_span(reading, s, e) for s, e in sentences]
            scores = [sp.score if sp else -np.inf for sp in per_sentence]
            best_sentence.append(int(np.argmax(scores)) in gold_sentences)
    return {
        "questions": len(rows),
        "em": float(np.mean(em)) * 100,
        "f1": float(np.mean(f1)) * 100,
        "best_span_in_gold_sentence": float(np.mean(in_sentence)),
        "best_sentence_is_gold_sentence": float(np.mean(best_sentence)),
        "refused_at_shipped_threshold": float(np.mean(refused)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--out", type=Path, default=REPO / "training" / "results" / "xquad_gold_paragraph.json")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    reader = Reader.load(args.weights)
    de = load(XQUAD / "xquad.de.json")
    en_questions = {r["id"]: r["question"] for r in load(XQUAD / "xquad.en.json")}
    de_questions = {r["id"]: r["question"] for r in de}
    missing = [r["id"] for r in de if r["id"] not in en_questions]
    if missing:
        raise SystemExit(f"{len(missing)} German ids have no English question")
    t0 = time.time()
    results = {
        "note": "XQuAD is test data: measured once, nothing tuned on it. Gold German paragraph given.",
        "weights": str(args.weights),
        "config": json.loads((args.weights / "reader_config.json").read_text()),
        "anchor_large_reader_de": {"em": 61.5, "f1": 78.8},
        "de-de": measure(reader, de, de_questions),
        "en-de": measure(reader, de, en_questions),
        "seconds": None,
    }
    results["seconds"] = round(time.time() - t0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: results[k] for k in ("de-de", "en-de", "seconds")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
