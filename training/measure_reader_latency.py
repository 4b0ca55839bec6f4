"""Forward latency of the reader: one question against 3 passages of 256 tokens, float32.

    python training/measure_reader_latency.py [--layers 12 6 4 3] [--repeats 15]

For each layer count (the reader runs the first N of e5's 12 layers) and 1 and 2 torch threads:
the median and p90 of a plain forward pass over a [3, 256] batch, and for the shipped reader
the whole `Reader.read` call (tokenising, windows, numpy out) on three real ~250-token passages.
The load average is printed beside the figures: the cores are shared, so compare figures of one run.
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

from assistant.models.reader.model import WEIGHTS_DIR, Reader, ReaderConfig, build_net, default_base_folder  # noqa: E402


def timed(fn, repeats: int) -> tuple[float, float]:
    fn()
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times)), float(np.percentile(times, 90))


def passages_of_about(tokens: int, reader: Reader) -> list[str]:
    """Three real passages from the shipped articles, cut to about `tokens` tokens each."""
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((REPO / "sources").glob("*.txt")))
    words = text.split()
    out, pos = [], 0
    for _ in range(3):
        n = 150
        while len(reader.tokenizer(" ".join(words[pos:pos + n]), add_special_tokens=False)["input_ids"]) < tokens - 20:
            n += 10
        out.append(" ".join(words[pos:pos + n]))
        pos += n
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, nargs="+", default=[12, 8, 6, 4, 3])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--out", type=Path, default=REPO / "training" / "results" / "reader_latency.json")
    args = parser.parse_args(argv)
    results: dict = {"load_average_start": os.getloadavg(), "forward_3x%d_ms" % args.tokens: {}, "reader_read_ms": {}}
    ids = torch.randint(5, 200_000, (3, args.tokens))
    mask = torch.ones_like(ids)
    for layers in args.layers:
        net, _ = build_net(default_base_folder(), ReaderConfig(num_layers=layers))
        net.merge_adapters()
        net.eval()
        for threads in (1, 2):
            torch.set_num_threads(threads)
            with torch.inference_mode():
                median, p90 = timed(lambda: net(ids, mask), args.repeats)
            results["forward_3x%d_ms" % args.tokens][f"{layers} layers, {threads} threads"] = {"median": round(median, 1), "p90": round(p90, 1)}
            print(f"{layers:2d} layers {threads} threads: forward median {median:.1f} ms, p90 {p90:.1f} ms", flush=True)
    if (WEIGHTS_DIR / "reader_config.json").exists():
        reader = Reader.load()
        passages = passages_of_about(args.tokens, reader)
        question = "What share of Vodacom does Vodafone own?"
        for threads in (1, 2):
            torch.set_num_threads(threads)
            median, p90 = timed(lambda: reader.read(question, passages), args.repeats)
            results["reader_read_ms"][f"shipped ({reader.config.num_layers} layers), {threads} threads"] = {"median": round(median, 1), "p90": round(p90, 1)}
            print(f"shipped reader.read, {threads} threads: median {median:.1f} ms, p90 {p90:.1f} ms", flush=True)
        # Not shipped, measured as an option: int8 dynamic quantisation of the Linear layers.
        exact = reader.read(question, passages)
        reader.net = torch.ao.quantization.quantize_dynamic(reader.net, {torch.nn.Linear}, dtype=torch.qint8)
        quant = reader.read(question, passages)
        diff = max(float(np.abs(a.start_logits - b.start_logits).max()) for a, b in zip(exact, quant))
        results["int8_dynamic_max_start_logit_diff"] = round(diff, 3)
        for threads in (1, 2):
            torch.set_num_threads(threads)
            median, p90 = timed(lambda: reader.read(question, passages), args.repeats)
            results["reader_read_ms"][f"shipped, int8 dynamic (not shipped), {threads} threads"] = {"median": round(median, 1), "p90": round(p90, 1)}
            print(f"int8 reader.read, {threads} threads: median {median:.1f} ms, p90 {p90:.1f} ms (max start-logit diff {diff:.3f})", flush=True)
    results["load_average_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
