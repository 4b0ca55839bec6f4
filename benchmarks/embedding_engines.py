"""The embedding engines side by side (assistant/models/engines.py): what each costs on this
machine and whether it embeds as float32 does.

For each engine, on the same texts in one run: the passages of the first `--articles` news
articles (news_corpus.py's data folder) and their sentences, embedded as the indexer does
(sorted by length, token-budget batches), passages and sentences a second and both passes
together; a question (query and passage prompt, one batch) in ms, median of 30; the lowest
cosine of its passage vectors to torch float32's; and, as a guard only (XQuAD is never used to
choose), XQuAD German paragraph recall@1 against float32's (`--skip-recall` leaves it out).

    .venv/bin/python benchmarks/embedding_engines.py [--data /work/news] [--articles 120]

Writes results/embedding_engines.json.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import machine, table, write_result, xquad_paragraphs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from news_corpus import DEFAULT_OUT, read_order  # noqa: E402


def batches(tokenizer, texts: list[str]) -> list:
    """The texts tokenised and batched as the indexer batches them (embedding.token_batches)."""
    from assistant.models.embedding import token_batches

    ids = tokenizer(texts, truncation=True, max_length=512)["input_ids"]
    return list(token_batches(ids, tokenizer.pad_token_id or 0, 32))


def pooled(engine, prepared, count: int) -> np.ndarray:
    from assistant.models.engines import mean_pooled

    out = np.zeros((count, 384), np.float32)
    for batch, x, mask in prepared:
        out[batch] = mean_pooled(engine(x, mask), mask).numpy()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_OUT, help="data folder of news_corpus.py")
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--skip-recall", action="store_true")
    args = parser.parse_args()

    from assistant.config import Settings
    from assistant.ingest.passages import build_passages
    from assistant.ingest.sources import load_article
    from assistant.models.embedding import Embedder
    from assistant.models.engines import OpenVinoEngine, TorchEngine

    files = [row["file"] for row in read_order(args.data)[: args.articles]]
    passages, sentences = [], []
    for name in files:
        article = load_article(args.data / "articles", name)
        for p in build_passages(article.text, article.language):
            passages.append("passage: " + article.text[p.start:p.end])
            sentences += ["passage: " + article.text[s:e] for s, e in p.sentences]
    reference = Embedder(Settings(embed_engine="torch-float32"))
    tokenizer, transformer, _ = reference._direct
    with tempfile.TemporaryDirectory(prefix="engines-") as tmp:
        engines = {"torch-float32": TorchEngine(transformer, bfloat16=False),
                   "torch-bfloat16": TorchEngine(copy.deepcopy(transformer), bfloat16=True),
                   "openvino": OpenVinoEngine(transformer, tokenizer, Path(tmp) / "openvino")}
        prepared_p, prepared_s = batches(tokenizer, passages), batches(tokenizer, sentences)
        question = tokenizer(["query: Wer ist Chef von T-Systems?", "passage: Wer ist Chef von T-Systems?"],
                             padding=True, return_tensors="pt")
        if not args.skip_recall:
            paragraphs, questions = xquad_paragraphs()
            gold = np.array([g for _, g, _ in questions])
            xquad_p = batches(tokenizer, ["passage: " + t for t in paragraphs])
            xquad_q = batches(tokenizer, ["query: " + q for q, _, _ in questions])
        rows, float32 = [], None
        for name, engine in engines.items():
            engine(*prepared_p[-1][1:])  # warm-up
            started = time.perf_counter()
            vectors = pooled(engine, prepared_p, len(passages))
            passage_s = time.perf_counter() - started
            started = time.perf_counter()
            pooled(engine, prepared_s, len(sentences))
            sentence_s = time.perf_counter() - started
            times = []
            for _ in range(31):
                started = time.perf_counter()
                engine(question["input_ids"], question["attention_mask"])
                times.append(time.perf_counter() - started)
            float32 = vectors if float32 is None else float32
            row = {"engine": name, "passages/s": len(passages) / passage_s, "sentences/s": len(sentences) / sentence_s,
                   "both passes, passages/s": len(passages) / (passage_s + sentence_s),
                   "question ms": 1000 * statistics.median(times[1:]),
                   "min cosine to float32": float((vectors * float32).sum(1).min())}
            if not args.skip_recall:
                p = pooled(engine, xquad_p, len(paragraphs))
                q = pooled(engine, xquad_q, len(questions))
                row["XQuAD de recall@1"] = float(np.mean((q @ p.T).argmax(1) == gold))
            rows.append(row)
            print(table([row], list(row)), flush=True)
    print()
    print(table(rows, list(rows[0])))
    path = write_result("embedding_engines", {"machine": machine(), "threads": os.cpu_count(), "articles": len(files),
                                              "passages": len(passages), "sentences": len(sentences), "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
