"""Run the embedding transformer on the fastest correct engine of this machine, measured.

Candidates: torch in float32; torch in bfloat16 (fast where the CPU has AMX or AVX-512 BF16,
emulated and several times slower elsewhere); OpenVINO (Intel's inference runtime, from PyPI:
it fuses the layers and picks bfloat16 itself on CPUs that have it; on this project's Xeon it
embedded news passages and their sentences 1.15x faster than torch bfloat16 and a question in
6 ms instead of 22, benchmarks/README.md: indexing throughput). Which one is fastest depends on the CPU, so a short
probe times each on a batch shaped like indexing's and keeps the fastest whose vectors agree
with float32 (cosine >= MIN_AGREEMENT); the result is cached per machine and model, so the
probe runs once. A GPU, when torch sees one, is used as it is (bfloat16 where it has it).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ENGINES = ("torch-float32", "torch-bfloat16", "openvino")
PROBE_FILE = "embedding-engine.json"
# A faster engine replaces torch float32 only when it measures at least this much faster: a
# smaller gain is within the noise of a shared machine and not worth its rounding.
MIN_GAIN = 1.15
# Pooled vectors of the probe batch must agree with float32's this closely (bfloat16 measured
# 0.99999 on news passages; a broken conversion is far below).
MIN_AGREEMENT = 0.999


class EngineError(Exception):
    """An engine that cannot run this model; the message says why."""


def resolve_engine(setting: str) -> str:
    """"auto" or one of ENGINES ("float32" / "bfloat16" also name torch's)."""
    value = (setting or "auto").strip().lower()
    aliases = {"float32": "torch-float32", "fp32": "torch-float32", "bfloat16": "torch-bfloat16",
               "bf16": "torch-bfloat16"}
    value = aliases.get(value, value)
    if value != "auto" and value not in ENGINES:
        raise EngineError(f"unknown embedding engine {setting!r}: use auto, {', '.join(ENGINES)}")
    return value


class TorchEngine:
    """The transformer itself; its weights converted to bfloat16 when asked (pass a copy to keep
    the float32 ones: casting each matmul instead, autocast, ran 30% slower)."""

    def __init__(self, transformer, bfloat16: bool):
        import torch

        self.name = "torch-bfloat16" if bfloat16 else "torch-float32"
        self.transformer = transformer.to(torch.bfloat16) if bfloat16 else transformer
        self.device = transformer.device

    def __call__(self, input_ids, mask):
        import torch

        with torch.inference_mode():
            out = self.transformer(input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device))
        return out.last_hidden_state.float().cpu()


class OpenVinoEngine:
    """The transformer converted to OpenVINO once (kept under `folder`), compiled for the CPU."""

    def __init__(self, transformer, tokenizer, folder: Path, threads: int = 0):
        import openvino as ov

        self.name = "openvino"
        path = folder / "model.xml"
        core = ov.Core()
        if not path.exists():
            _convert(transformer, tokenizer, folder)
        config = {"PERFORMANCE_HINT": "LATENCY"}
        if threads > 0:
            config["INFERENCE_NUM_THREADS"] = threads
        try:
            self.compiled = core.compile_model(core.read_model(path), "CPU", config)
        except RuntimeError as exc:
            raise EngineError(f"OpenVINO cannot compile {path}: {exc}") from exc
        self._local = threading.local()  # an infer request serves one thread at a time

    def __call__(self, input_ids, mask):
        import torch

        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        out = request.infer({"input_ids": input_ids.numpy(), "attention_mask": mask.numpy()})
        return torch.from_numpy(np.array(out[0], dtype=np.float32))


def _convert(transformer, tokenizer, folder: Path) -> None:
    """Convert and save the model (a few seconds), written beside and renamed into place."""
    import openvino as ov
    import torch

    example = tokenizer(["passage: Beispiel.", "query: example?"], padding=True, return_tensors="pt")
    staging = folder.with_name(folder.name + f".tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on branches that are constant for a padded batch
            model = ov.convert_model(transformer, example_input={"input_ids": example["input_ids"],
                                                                  "attention_mask": example["attention_mask"]})
        staging.mkdir(parents=True)
        ov.save_model(model, staging / "model.xml")  # weights kept as float16: half the disk
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, folder)
    except OSError as exc:
        if (folder / "model.xml").exists():  # another process converted it meanwhile
            return
        raise EngineError(f"cannot write the OpenVINO model to {folder}: {exc}") from exc
    except Exception as exc:  # any conversion failure means: not this engine for this model
        raise EngineError(f"OpenVINO cannot convert this model: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def machine_key() -> str:
    """What an engine measurement holds for: the CPU, its core count, the library builds."""
    import platform

    import torch

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import openvino

        runtime = openvino.__version__
    except ImportError:
        runtime = "none"
    return (f"{cpu}|{torch.backends.cpu.get_cpu_capability()}|{os.cpu_count()} cores|torch {torch.__version__}|"
            f"openvino {runtime}|threads {torch.get_num_threads()}")


def probe_batch(tokenizer, texts: int = 16, words: int = 120):
    """A batch shaped like indexing's: news sentences in both languages, about 200 tokens each."""
    sentence = ("Die Regierung in Berlin kündigte am Montag neue Hilfen an. "
                "The company said on Tuesday that profits rose by 12 percent. ")
    text = " ".join((sentence * 20).split()[:words])
    encoded = tokenizer([f"{text} {i}" for i in range(texts)], truncation=True, max_length=256, padding=True,
                        return_tensors="pt")
    return encoded["input_ids"], encoded["attention_mask"]


def mean_pooled(hidden, mask):
    """Each text's unit-length mean over its own tokens (the model's pooling), in float32."""
    import torch

    weights = mask.unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0), dim=-1)


def measure(candidates: dict, tokenizer, repeats: int = 3) -> dict:
    """Seconds a probe batch takes on each engine (best of `repeats`, after a warm-up run),
    agreement with torch float32, and the choice. `candidates`: name -> a callable making it
    (an engine that fails to build is reported, not chosen)."""
    ids, mask = probe_batch(tokenizer)
    seconds, agreement, failed, reference = {}, {}, {}, None
    for name, make in candidates.items():
        try:
            engine = make()
            hidden = engine(ids, mask)
        except (EngineError, ImportError, RuntimeError) as exc:
            failed[name] = str(exc)[:300]
            continue
        best = float("inf")
        for _ in range(repeats):
            begin = time.perf_counter()
            engine(ids, mask)
            best = min(best, time.perf_counter() - begin)
        seconds[name] = round(best, 4)
        vectors = mean_pooled(hidden, mask).numpy()
        reference = vectors if reference is None else reference
        agreement[name] = round(float((vectors * reference).sum(1).min()), 6)
    baseline = seconds.get("torch-float32")
    good = {n: s for n, s in seconds.items() if agreement[n] >= MIN_AGREEMENT}
    fastest = min(good, key=good.get) if good else "torch-float32"
    choice = fastest if baseline is None or baseline / good[fastest] >= MIN_GAIN else "torch-float32"
    return {"seconds": seconds, "agreement": agreement, "failed": failed, "choice": choice}


def cached_choice(cache_dir: Path, model_id: str, run_probe) -> str:
    """The engine measured for this machine and model, probing once (`run_probe()`) and keeping
    the figures in cache_dir/PROBE_FILE: the probe costs seconds, and a start should not."""
    from ..files import atomic_write_text

    path = Path(cache_dir) / PROBE_FILE
    key = f"{machine_key()}|{model_id}"
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    entry = known.get(key)
    if isinstance(entry, dict) and entry.get("choice") in ENGINES:
        return entry["choice"]
    entry = run_probe()
    known[key] = entry
    log.info("embedding engines measured (s a batch): %s; using %s", entry["seconds"], entry["choice"])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(known, indent=1))
    except OSError as exc:  # a read-only cache only costs the probe again next time
        log.warning("could not keep the embedding engine measurement in %s: %s", path, exc)
    return entry["choice"]
