"""Indexing throughput: a full `assistant index` of the XQuAD corpus against plain
`SentenceTransformer.encode` in float32 on the same passages, side by side in one run; and
XQuAD paragraph recall@1 with float32 vectors against the configured precision.

    .venv/bin/python benchmarks/index_throughput.py [--rounds 2] [--skip-recall]

The index run embeds every passage AND every sentence (sentence vectors are needed at
answer time); the baseline embeds only the passages. Both rates are quoted in passages per
second of the corpus. Rounds alternate the order (AB, BA, ...) because the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import machine, table, write_result, xquad_corpus, xquad_paragraphs


def flops_per_token(config, length: int) -> float:
    """Forward FLOPs of one token in a sequence of `length` tokens (matmuls only)."""
    h, inter, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    linear = 4 * h * h + 2 * h * inter  # Q, K, V, O and the two feed-forward matrices
    attention = 2 * length * h  # QK^T and attention x V
    return layers * 2 * (linear + attention)


def job_flops(config, token_counts) -> float:
    return float(sum(n * flops_per_token(config, n) for n in token_counts))


def peak_gflops(precision: str, cores: int, mhz: float, family: str) -> tuple[float, str]:
    """Rough peak: Zen 5 (family 26) has two 512-bit FMA pipes per core: 64 float32 FLOP a
    cycle; vdpbf16ps doubles that for bfloat16. Zen 4 (family 25) has half the width."""
    per_cycle = 64 if family == "26" else 32
    if precision == "bfloat16":
        per_cycle *= 2
    note = f"{cores} cores x {mhz / 1000:.2f} GHz x {per_cycle} FLOP/cycle ({precision})"
    return cores * mhz / 1000 * per_cycle, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-recall", action="store_true")
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    from assistant.environment import settings_from_env
    from assistant.models.embedding import Embedder, default_model_folder
    from assistant.index.indexer import update_index
    from assistant.ingest.passages import build_passages
    from assistant.ingest.sources import load_articles

    work = Path(tempfile.mkdtemp(prefix="bench-index-"))
    try:
        corpus = xquad_corpus(work / "xquad")
        base = settings_from_env(os.environ).with_paths(corpus / "sources", work / "index")
        articles, _ = load_articles(base.sources_dir)
        split = [(a.text, build_passages(a.text, a.language, base.passage_max_chars)) for a in articles]
        passage_texts = [text[p.start:p.end] for text, passages in split for p in passages]
        sentence_texts = [text[s:e] for text, passages in split for p in passages for s, e in p.sentences]
        # what the indexer embeds: every passage (its pass also pools each sentence in context)
        # and every distinct sentence on its own
        embedded = passage_texts + list(dict.fromkeys(sentence_texts))
        folder = default_model_folder(base)
        plain = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        embedder = Embedder(base)
        embedder.model  # noqa: B018 - load outside the timings
        config = plain[0].auto_model.config
        tokenizer = plain.tokenizer
        count = lambda texts: [min(len(ids), 512) for ids in tokenizer(["passage: " + t for t in texts])["input_ids"]]  # noqa: E731
        flops_plain = job_flops(config, count(passage_texts))
        flops_index = job_flops(config, count(embedded))

        def run_plain() -> float:
            started = time.perf_counter()
            plain.encode(passage_texts, prompt_name="passage", batch_size=32, normalize_embeddings=True,
                         convert_to_numpy=True, show_progress_bar=False)
            return time.perf_counter() - started

        def run_index() -> float:
            shutil.rmtree(base.index_dir, ignore_errors=True)
            started = time.perf_counter()
            report = update_index(base, embedder, rebuild=True, progress=False)
            assert report.wrote
            return time.perf_counter() - started

        plain.encode(passage_texts[:4], prompt_name="passage")  # warm both
        embedder.encode_passages(passage_texts[:4])
        rounds = []
        for r in range(args.rounds):
            order = [("plain", run_plain), ("index", run_index)]
            if r % 2:
                order.reverse()
            timing = {name: fn() for name, fn in order}
            rounds.append(timing)
            print(f"round {r + 1}: plain float32 encode {timing['plain']:.1f} s, assistant index {timing['index']:.1f} s, "
                  f"ratio {timing['plain'] / timing['index']:.2f}x", flush=True)
        n = len(passage_texts)
        plain_s = float(np.median([t["plain"] for t in rounds]))
        index_s = float(np.median([t["index"] for t in rounds]))
        ratios = [t["plain"] / t["index"] for t in rounds]
        info = machine()
        mhz = float(info.get("cpu_mhz", 0) or 0)
        cores = torch.get_num_threads()
        peak32, note32 = peak_gflops("float32", cores, mhz, info.get("cpu_family", ""))
        # torch bfloat16, or OpenVINO, which computes in bfloat16 on CPUs that have it
        arithmetic = "float32" if embedder.precision == "torch-float32" else "bfloat16"
        peak_idx, note_idx = peak_gflops(arithmetic, cores, mhz, info.get("cpu_family", ""))
        rows = [
            {"run": "plain ST encode float32 (passages only)", "texts": n, "seconds": plain_s,
             "passages/s": n / plain_s, "GFLOP/passage": flops_plain / n / 1e9,
             "GFLOP/s": flops_plain / plain_s / 1e9, "peak GFLOP/s": peak32, "of peak": flops_plain / plain_s / 1e9 / peak32},
            {"run": f"assistant index ({embedder.precision}, passages+sentences)", "texts": len(embedded),
             "seconds": index_s, "passages/s": n / index_s, "GFLOP/passage": flops_index / n / 1e9,
             "GFLOP/s": flops_index / index_s / 1e9, "peak GFLOP/s": peak_idx,
             "of peak": flops_index / index_s / 1e9 / peak_idx},
        ]
        print()
        print(table(rows, list(rows[0])))
        print(f"\nspeed-up of indexing over plain float32 encode: median {float(np.median(ratios)):.2f}x "
              f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}); target >= 2.5x")
        print(f"peaks assumed: {note32}; {note_idx}")

        recall = None
        if not args.skip_recall:
            paragraphs, questions = xquad_paragraphs()
            gold = np.array([g for _, g, _ in questions])
            texts = [q for q, _, _ in questions]
            started = time.perf_counter()
            p32 = plain.encode(paragraphs, prompt_name="passage", normalize_embeddings=True, convert_to_numpy=True)
            q32 = plain.encode(texts, prompt_name="query", normalize_embeddings=True, convert_to_numpy=True)
            t32 = time.perf_counter() - started
            started = time.perf_counter()
            pset = embedder.encode_passages(paragraphs)
            qset = embedder.encode_queries(texts)
            tset = time.perf_counter() - started
            r32 = float(np.mean((q32 @ p32.T).argmax(1) == gold))
            rset = float(np.mean((qset @ pset.T).argmax(1) == gold))
            agreement = float(np.min(np.sum(p32 * pset, axis=1)))
            recall = {"paragraphs": len(paragraphs), "questions": len(questions), "recall_at_1_float32": r32,
                      f"recall_at_1_{embedder.precision}": rset, "difference_points": 100 * (rset - r32),
                      "min_cosine_paragraph_vectors": agreement, "float32_seconds": t32,
                      f"{embedder.precision}_seconds": tset}
            print(f"\nXQuAD de paragraph recall@1 ({len(questions)} questions, {len(paragraphs)} paragraphs): "
                  f"float32 {r32:.4f}, {embedder.precision} {rset:.4f} ({100 * (rset - r32):+.2f} points; target within 1); "
                  f"min cosine float32 vs {embedder.precision} paragraph vectors {agreement:.5f}; "
                  f"time {t32:.0f} s vs {tset:.0f} s")
        path = write_result("index_throughput", {
            "corpus": "XQuAD de (48 articles, 240 paragraphs)", "passages": n, "sentences": len(sentence_texts),
            "embedded_unique_texts": len(embedded), "precision": embedder.precision, "rounds": rounds,
            "plain_seconds_median": plain_s, "index_seconds_median": index_s,
            "speedup_median": float(np.median(ratios)), "table": rows, "recall": recall,
            "peak_notes": [note32, note_idx],
        })
        print(f"wrote {path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
