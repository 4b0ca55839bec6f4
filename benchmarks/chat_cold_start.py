"""Cold start of the web chat: seconds from launching `assistant chat` to the page being served
and to its first answer through the /chat API (issue 3 target: first answer within 20 s).

Each run is a fresh process on an index that already exists (the normal case after the first
start); the first-ever start, which also builds the index, is measured once and reported apart.
Loopback only. Writes benchmarks/results/chat_cold_start.json.

    .venv/bin/python benchmarks/chat_cold_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from chat_server import start_chat  # noqa: E402

QUESTION = "What share of Vodacom does Vodafone own?"
RESULTS = REPO / "benchmarks" / "results" / "chat_cold_start.json"


def api_answer(url: str, question: str, timeout: float = 120) -> dict:
    """One /chat call over plain HTTP (no gradio_client import in the measured path)."""
    request = urllib.request.Request(url + "gradio_api/call/chat", data=json.dumps({"data": [question, 0]}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/chat/{event_id}", timeout=timeout) as stream:
        event = None
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "complete":
                return json.loads(line[5:])[0]
            elif line.startswith("data:") and event == "error":
                raise RuntimeError(line)
    raise RuntimeError("no answer in the event stream")


def one_start(sources: Path, index: Path, log: Path) -> dict:
    started = time.monotonic()
    server = start_chat(sources, index, log, started=started)
    page_s = time.monotonic() - started
    try:
        answer = api_answer(server.url, QUESTION)
        answer_s = time.monotonic() - started
    finally:
        server.stop()
    assert answer["quotes"], answer
    return {"page_s": round(page_s, 2), "first_answer_s": round(answer_s, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "sources", root / "sources")
        first = one_start(root / "sources", root / "index", root / "first.log")
        runs = [one_start(root / "sources", root / "index", root / f"run{i}.log") for i in range(args.runs)]
    result = {
        "benchmark": "chat_cold_start",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, {platform.platform()}",
        "question": QUESTION,
        "load_average_after": [round(x, 2) for x in __import__("os").getloadavg()],
        "first_start_with_index_build": first,
        "runs_with_existing_index": runs,
        "median_page_s": statistics.median(r["page_s"] for r in runs),
        "median_first_answer_s": statistics.median(r["first_answer_s"] for r in runs),
        "target_first_answer_s": 20,
    }
    print(f"{'start':<28}{'page served (s)':>18}{'first answer (s)':>18}")
    print(f"{'first (builds index)':<28}{first['page_s']:>18.2f}{first['first_answer_s']:>18.2f}")
    for i, r in enumerate(runs, 1):
        print(f"{'existing index, run ' + str(i):<28}{r['page_s']:>18.2f}{r['first_answer_s']:>18.2f}")
    print(f"{'median (existing index)':<28}{result['median_page_s']:>18.2f}{result['median_first_answer_s']:>18.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
