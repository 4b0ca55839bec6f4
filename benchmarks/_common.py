"""Helpers shared by the benchmarks: machine description, tables, JSON results, XQuAD paths."""

from __future__ import annotations

import json
import os
import platform
import sys
import shutil
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
XQUAD_DE = REPO.parent / "shared" / "data" / "xquad" / "xquad.de.json"
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version(), "date": time.strftime("%Y-%m-%d %H:%M")}
    try:
        text = Path("/proc/cpuinfo").read_text()
        for key, name in (("model name", "cpu_model"), ("cpu family", "cpu_family"), ("cpu MHz", "cpu_mhz")):
            for line in text.splitlines():
                if line.startswith(key):
                    info[name] = line.split(":", 1)[1].strip()
                    break
        flags = next(line for line in text.splitlines() if line.startswith("flags")).split()
        info["bf16_flags"] = sorted(f for f in flags if "bf16" in f or f.startswith("amx") or f == "avx512_vnni")
    except (OSError, StopIteration):
        pass
    info["loadavg_start"] = os.getloadavg()[0]
    return info


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


def table(rows: list[dict], columns: list[str]) -> str:
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)
    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def write_result(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "machine": machine(), **payload}
    payload["machine"]["loadavg_end"] = os.getloadavg()[0]
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def xquad_paragraphs(path: Path = XQUAD_DE) -> tuple[list[str], list[tuple[str, int, list[str]]]]:
    """The paragraphs and (question, paragraph number, answers) of an XQuAD file."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs, questions = [], []
    for article in data:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                questions.append((qa["question"], len(paragraphs), [a["text"] for a in qa["answers"]]))
            paragraphs.append(para["context"].strip())
    return paragraphs, questions


# The three shipped articles: benchmarks copy them, never the live sources/ folder users add to.
SHIPPED_ARTICLES = ("000_ce0777626153ace7.txt", "001_1885b208a7ea917e.txt", "002_3699eb8ecc81ec22.txt")


def shipped_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED_ARTICLES:
        shutil.copy(REPO / "sources" / name, folder / name)
    return folder


def xquad_corpus(root: Path) -> Path:
    """Import the German XQuAD file into root/ (sources/ and questions.jsonl), once."""
    from assistant.evaluation.xquad import import_xquad

    if not (root / "questions.jsonl").exists():
        import_xquad(XQUAD_DE, root)
    return root
