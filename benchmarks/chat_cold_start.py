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
import os
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc): on a busy shared machine
    this, not the wall time, shows what the start costs by itself."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_start(sources: Path, index: Path, log: Path) -> dict:
    started = time.monotonic()
    server = start_chat(sources, index, log, started=started)
    page_s = time.monotonic() - started
    try:
        answer = api_answer(server.url, QUESTION)
        answer_s = time.monotonic() - started
        cpu_s = cpu_seconds(server.process.pid)
    finally:
        server.stop()
    assert answer["quotes"], answer
    return {"page_s": round(page_s, 2), "first_answer_s": round(answer_s, 2), "server_cpu_s": round(cpu_s, 2)}


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
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "question": QUESTION,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "first_start_with_index_build": first,
        "runs_with_existing_index": runs,
        "median_page_s": statistics.median(r["page_s"] for r in runs),
        "median_first_answer_s": statistics.median(r["first_answer_s"] for r in runs),
        "median_server_cpu_s": statistics.median(r["server_cpu_s"] for r in runs),
        "target_first_answer_s": 20,
    }
    print(f"{'start':<28}{'page served (s)':>18}{'first answer (s)':>18}{'server CPU (s)':>16}")
    rows = [("first (builds index)", first)] + [(f"existing index, run {i}", r) for i, r in enumerate(runs, 1)]
    rows.append(("median (existing index)", {"page_s": result["median_page_s"], "server_cpu_s":
                 result["median_server_cpu_s"], "first_answer_s": result["median_first_answer_s"]}))
    for label, r in rows:
        print(f"{label:<28}{r['page_s']:>18.2f}{r['first_answer_s']:>18.2f}{r['server_cpu_s']:>16.2f}")
    print(f"load average after: {result['load_average_after']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
