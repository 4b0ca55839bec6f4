"""Load on the web chat: N questions sent at once through the /chat API with gradio_client to a
real `assistant chat` on loopback; every answer must contain the expected quote.

Prints a latency table (median, p95, max per request; wall time; answers per second) and writes
benchmarks/results/chat_load.json.

    .venv/bin/python benchmarks/chat_load.py [--concurrent 50]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from chat_server import LOAD_QUESTIONS as QUESTIONS, start_chat  # noqa: E402
from _common import pct  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "chat_load.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=50)
    args = parser.parse_args()
    from gradio_client import Client

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "sources", root / "sources")
        server = start_chat(root / "sources", root / "index", root / "chat.log")
        try:
            client = Client(server.url, verbose=False)
            for question, _, _ in QUESTIONS:  # warm: each question once, and checks the expectations hold
                client.predict(question, api_name="/chat")

            def one(i: int) -> dict:
                question, source, expected = QUESTIONS[i % len(QUESTIONS)]
                started = time.monotonic()
                result = client.predict(question, api_name="/chat")
                seconds = time.monotonic() - started
                ok = any(q["source"] == source and expected in q["text"] for q in result["quotes"])
                return {"question": question, "seconds": seconds, "correct": ok}

            wall_started = time.monotonic()
            with ThreadPoolExecutor(max_workers=args.concurrent) as pool:
                rows = list(pool.map(one, range(args.concurrent)))
            wall = time.monotonic() - wall_started
        finally:
            server.stop()
    latencies = [r["seconds"] for r in rows]
    correct = sum(r["correct"] for r in rows)
    result = {
        "benchmark": "chat_load",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "concurrent_requests": args.concurrent,
        "server_concurrency_limit": 2,
        "answered_correctly": correct,
        "median_s": round(statistics.median(latencies), 3),
        "p95_s": round(pct(latencies, 95), 3),  # numpy's linear interpolation (was nearest rank)
        "max_s": round(max(latencies), 3),
        "wall_s": round(wall, 3),
        "answers_per_s": round(len(rows) / wall, 2),
        "wrong": [r["question"] for r in rows if not r["correct"]],
    }
    print(f"{'requests':>9}{'correct':>9}{'median s':>10}{'p95 s':>8}{'max s':>8}{'wall s':>8}{'answers/s':>11}")
    print(f"{args.concurrent:>9}{correct:>9}{result['median_s']:>10.2f}{result['p95_s']:>8.2f}"
          f"{result['max_s']:>8.2f}{result['wall_s']:>8.2f}{result['answers_per_s']:>11.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0 if correct == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
