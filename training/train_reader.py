"""Train the extractive reader (LoRA on the first N e5 layers + a start/end head).

    python training/train_reader.py --config reduced       # 2-core CPU, under an hour
    python training/train_reader.py --config full          # accelerator (CUDA if present)

Re-runnable: fixed seed, data files and sha256 recorded, checkpoints every few minutes (a killed
run resumes where it stopped: run the same command again). Writes the shipped weights
(`assistant/models/reader/weights/`, or --out) and the figures reached (`training/results/<config>.json`).
The calibration split (whole articles held out) picks the no-answer threshold; XQuAD never does.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

from assistant.models.reader.model import (  # noqa: E402
    WEIGHTS_DIR,
    Reader,
    ReaderConfig,
    build_net,
    default_base_folder,
    save_weights,
)
from training.evaluate import by_source, calibrate, score_examples  # noqa: E402
from training.qa_data import (  # noqa: E402
    Article,
    Example,
    Window,
    load_squad_files,
    make_examples,
    make_windows,
    sha256,
    split_by_article,
)

DATA_DIR = Path("/work/shared/data/train")

ENGLISH_FILES = [
    "squad2_train_partial.json",
    "squad1.1_train_part_ermeba.json",
    "squadshifts_new_wiki_v1.0.json",
    "squadshifts_amazon_reviews_v1.0.json",
    "squadshifts_reddit_v1.0.json",
]
GERMAN_FILES = ["mlqa_dev_de_de.json"]

# Same code, two budgets. "reduced" is sized to finish on the 2-core CPU in under an hour
# (data prep, training, calibration): a sample of the English files, the German file three
# times. "full" is for a GPU: every file whole (COVID-QA too), more negatives and epochs.
# file_share: pattern in the file name -> share of its training questions used (>1: repeated).
CONFIGS: dict[str, dict] = {
    "reduced": dict(
        files=ENGLISH_FILES + GERMAN_FILES,
        file_share={"squadshifts": 0.25, "mlqa": 3.0},
        num_layers=8, lora_rank=16, lora_alpha=32.0, max_length=320, stride=96,
        epochs=1, batch_size=8, lr=1e-3, head_lr=1e-3, warmup=0.06, weight_decay=0.01,
        negatives_per_question=1, max_empty_windows=2, calib_fraction=0.2, max_calib_questions=150,
        time_budget_min=42, max_train_windows=None,
    ),
    "full": dict(
        files=ENGLISH_FILES + GERMAN_FILES + ["covidqa_200423_preliminary.json"],
        file_share={"mlqa": 3.0},
        num_layers=8, lora_rank=16, lora_alpha=32.0, max_length=320, stride=96,
        epochs=3, batch_size=32, lr=1e-3, head_lr=1e-3, warmup=0.06, weight_decay=0.01,
        negatives_per_question=2, max_empty_windows=2, calib_fraction=0.2, max_calib_questions=1000,
        time_budget_min=None, max_train_windows=None,
    ),
}


def sample_articles(articles: list[Article], share: dict[str, float], seed: int) -> list[Article]:
    """Each file's training articles at the configured share (whole articles; >1 repeats them)."""
    rng = random.Random(seed)
    out: list[Article] = []
    for art in articles:
        factor = next((v for k, v in share.items() if k in art.source), 1.0)
        copies = int(factor) + (rng.random() < factor - int(factor))
        out.extend([art] * copies)
    return out


def calibration_examples(articles: list[Article], max_questions: int, seed: int) -> list[Example]:
    """Each held-out question with its own paragraph and two other paragraphs (hard negatives),
    at most max_questions per file."""
    examples = make_examples(articles, 2, seed)
    by_file: dict[str, list[str]] = {}
    for ex in examples:
        if "#neg" not in ex.qid:
            by_file.setdefault(ex.source, []).append(ex.qid)
    keep: set[str] = set()
    for qids in by_file.values():
        keep.update(random.Random(seed).sample(qids, min(max_questions, len(qids))))
    return [ex for ex in examples if ex.qid.split("#")[0] in keep]


def batches_for_epoch(windows: list[Window], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled batches of similar length (less padding), the same order for the same seed/epoch."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(windows)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for lo in range(0, len(order), chunk):
        part = sorted(order[lo:lo + chunk], key=lambda i: len(windows[i].input_ids))
        batches.extend(part[i:i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def collate(windows: list[Window], idx: list[int], pad_id: int, device: torch.device):
    width = max(len(windows[i].input_ids) for i in idx)
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    allowed = torch.zeros((len(idx), width), dtype=torch.bool)  # context tokens and <s> (no answer)
    for row, i in enumerate(idx):
        x = windows[i].input_ids
        ids[row, : len(x)] = torch.tensor(x)
        mask[row, : len(x)] = 1
        allowed[row, windows[i].context_start: len(x) - 1] = True
        allowed[row, 0] = True
    starts = torch.tensor([windows[i].start for i in idx])
    ends = torch.tensor([windows[i].end for i in idx])
    return ids.to(device), mask.to(device), allowed.to(device), starts.to(device), ends.to(device)


def save_checkpoint(folder: Path, net, optimizer, step: int, meta: dict) -> None:
    """Trainable weights and AdamW moments as safetensors, counters as JSON (no pickle)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"param.{k}": v.cpu() for k, v in net.trained_state().items()}
    names = {id(p): n for n, p in net.named_parameters()}
    opt_steps = {}
    for group in optimizer.param_groups:
        for p in group["params"]:
            state = optimizer.state.get(p)
            if state:
                name = names[id(p)]
                tensors[f"exp_avg.{name}"] = state["exp_avg"].detach().cpu().contiguous()
                tensors[f"exp_avg_sq.{name}"] = state["exp_avg_sq"].detach().cpu().contiguous()
                opt_steps[name] = float(state["step"])
    tmp = folder / "checkpoint.safetensors.tmp"
    save_file(tensors, str(tmp))
    os.replace(tmp, folder / "checkpoint.safetensors")
    (folder / "checkpoint.json.tmp").write_text(json.dumps({**meta, "step": step, "opt_steps": opt_steps}))
    os.replace(folder / "checkpoint.json.tmp", folder / "checkpoint.json")


def load_checkpoint(folder: Path, net, optimizer, meta: dict) -> int:
    """Restore a checkpoint of the same run (same config, seed and data); returns its step."""
    from safetensors.torch import load_file

    info_path = folder / "checkpoint.json"
    if not info_path.exists():
        return 0
    info = json.loads(info_path.read_text())
    if any(info.get(k) != v for k, v in meta.items()):
        print(f"checkpoint in {folder} is from another run; starting afresh", flush=True)
        return 0
    tensors = load_file(str(folder / "checkpoint.safetensors"))
    params = dict(net.named_parameters())
    with torch.no_grad():
        for key, value in tensors.items():
            if key.startswith("param."):
                params[key[6:]].copy_(value.to(params[key[6:]].device))
    for group in optimizer.param_groups:
        for p in group["params"]:
            name = next(n for n, q in params.items() if q is p)
            if f"exp_avg.{name}" in tensors:
                optimizer.state[p] = {
                    "step": torch.tensor(info["opt_steps"][name]),
                    "exp_avg": tensors[f"exp_avg.{name}"].to(p.device),
                    "exp_avg_sq": tensors[f"exp_avg_sq.{name}"].to(p.device),
                }
    return int(info["step"])


class ThreadTuner:
    """Picks 1 or 2+ torch threads by measured speed, re-checked now and then.

    Why: the cores are shared. With another process busy on one of the two cores, two threads
    ran a training step 3x slower than one thread (measured); idle, two threads are ~1.8x faster.
    """

    def __init__(self, enabled: bool, every: int = 150, trial: int = 8) -> None:
        self.enabled = enabled and (os.cpu_count() or 1) > 1
        self.options = [1, os.cpu_count() or 1]
        self.current = self.options[-1]
        self.every, self.trial = every, trial
        self.speed: dict[int, float] = {}
        self._mark: tuple[int, float, int] | None = None  # (threads, start time, tokens so far)
        self._tokens = 0
        self._steps = 0
        if self.enabled:
            torch.set_num_threads(self.current)

    def step(self, tokens: int) -> None:
        if not self.enabled:
            return
        self._steps += 1
        self._tokens += tokens
        phase = self._steps % self.every
        if phase == 1:  # start measuring the current choice
            self._mark = (self.current, time.perf_counter(), self._tokens)
        elif phase == 1 + self.trial and self._mark:  # measured current; now try the other
            self._record()
            self.current = [t for t in self.options if t != self.current][0]
            torch.set_num_threads(self.current)
            self._mark = (self.current, time.perf_counter(), self._tokens)
        elif phase == 1 + 2 * self.trial and self._mark:
            self._record()
            self.current = max(self.speed, key=self.speed.get)
            torch.set_num_threads(self.current)
            self._mark = None

    def _record(self) -> None:
        threads, start, tokens = self._mark
        self.speed[threads] = (self._tokens - tokens) / max(1e-6, time.perf_counter() - start)


def _parse_value(value: str, old):
    """A --set value, typed like the default it overrides."""
    if value == "None":
        return None
    if isinstance(old, bool):
        return value.lower() in ("1", "true", "yes")
    if isinstance(old, float):
        return float(value)
    return int(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=sorted(CONFIGS), default="reduced")
    parser.add_argument("--data", type=Path, nargs="+", default=None, help="SQuAD-format training files")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="where the trained weights go")
    parser.add_argument("--results", type=Path, default=None, help="figures JSON (default training/results/<config>.json)")
    parser.add_argument("--checkpoints", type=Path, default=REPO / "training" / "checkpoints")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override a config value")
    args = parser.parse_args(argv)

    t0 = time.time()
    cfg = dict(CONFIGS[args.config])
    for item in args.set:
        key, _, value = item.partition("=")
        if key not in cfg:
            parser.error(f"unknown config key {key}")
        cfg[key] = _parse_value(value, cfg[key])
    run_name = args.config + "".join(f"_{s.replace('=', '-')}" for s in args.set)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if args.threads:
        torch.set_num_threads(args.threads)
    tuner = ThreadTuner(enabled=device.type == "cpu" and not args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    files = args.data or [DATA_DIR / name for name in cfg["files"] if (DATA_DIR / name).exists()]
    print(f"data: {[str(f) for f in files]}", flush=True)
    articles = load_squad_files(files)
    train_articles, calib_articles = split_by_article(articles, cfg["calib_fraction"], args.seed)
    train_examples = make_examples(sample_articles(train_articles, cfg["file_share"], args.seed), cfg["negatives_per_question"], args.seed)
    calib_examples = calibration_examples(calib_articles, cfg["max_calib_questions"], args.seed + 1)

    reader_cfg = ReaderConfig(
        num_layers=cfg["num_layers"], lora_rank=cfg["lora_rank"], lora_alpha=cfg["lora_alpha"],
        max_length=cfg["max_length"], stride=cfg["stride"],
    )
    base_folder = default_base_folder()
    net, tokenizer = build_net(base_folder, reader_cfg)
    net.set_trainable()
    net.to(device)
    reader = Reader(net, tokenizer, reader_cfg)
    windows = make_windows(train_examples, reader, cfg["max_empty_windows"], args.seed)
    if cfg["max_train_windows"] and len(windows) > cfg["max_train_windows"]:
        windows = random.Random(args.seed).sample(windows, cfg["max_train_windows"])
    prep_s = time.time() - t0
    n_trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    print(
        f"{len(train_articles)} train / {len(calib_articles)} calibration articles; "
        f"{len(train_examples)} train pairs -> {len(windows)} windows "
        f"({sum(w.start > 0 for w in windows)} with an answer); {len(calib_examples)} calibration pairs; "
        f"{n_trainable:,} trainable parameters; device {device}; prep {prep_s:.0f} s",
        flush=True,
    )

    head = [p for n, p in net.named_parameters() if p.requires_grad and n.startswith("qa_head.")]
    body = [p for n, p in net.named_parameters() if p.requires_grad and not n.startswith("qa_head.")]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": cfg["lr"]}, {"params": head, "lr": cfg["head_lr"]}],
        weight_decay=cfg["weight_decay"],
    )
    base_lrs = [cfg["lr"], cfg["head_lr"]]
    epoch_batches = [batches_for_epoch(windows, cfg["batch_size"], args.seed, e) for e in range(cfg["epochs"])]
    total = sum(len(b) for b in epoch_batches)
    warmup = max(1, int(cfg["warmup"] * total))

    data_meta = {str(f): sha256(f) for f in files}
    meta = {"run": run_name, "seed": args.seed, "config": cfg, "data": data_meta}
    ckpt_dir = args.checkpoints / run_name
    step = load_checkpoint(ckpt_dir, net, optimizer, meta)
    if step:
        print(f"resumed from {ckpt_dir} at step {step}/{total}", flush=True)
    # With a time budget the learning rate decays by steps or by time, whichever is further on,
    # so a run on a busy machine still ends with a fully decayed rate inside the budget.
    budget = cfg["time_budget_min"] * 60 if cfg["time_budget_min"] else math.inf
    stopped_early = False
    net.train()
    losses: list[float] = []
    last_ckpt = time.time()
    done = 0
    bar = tqdm(total=total, initial=step, desc="train", unit="step", mininterval=10)
    for epoch, batches in enumerate(epoch_batches):
        for idx in batches:
            done += 1
            if done <= step:
                continue
            elapsed = time.time() - t0
            if elapsed > budget:
                stopped_early = True
                break
            progress = max(done / total, elapsed / budget)
            factor = done / warmup if done < warmup else min(1.0, max(0.0, 1.0 - progress) / (1.0 - warmup / total))
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr * factor
            ids, mask, allowed, starts, ends = collate(windows, idx, tokenizer.pad_token_id, device)
            s_logits, e_logits = net(ids, mask)
            s_logits = s_logits.float().masked_fill(~allowed, -1e4)
            e_logits = e_logits.float().masked_fill(~allowed, -1e4)
            loss = (torch.nn.functional.cross_entropy(s_logits, starts) + torch.nn.functional.cross_entropy(e_logits, ends)) / 2
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], 1.0)
            optimizer.step()
            tuner.step(int(mask.sum()))
            losses.append(float(loss))
            step = done
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", epoch=epoch, threads=torch.get_num_threads())
            if time.time() - last_ckpt > 300:
                save_checkpoint(ckpt_dir, net, optimizer, step, meta)
                last_ckpt = time.time()
        if stopped_early:
            break
    bar.close()
    save_checkpoint(ckpt_dir, net, optimizer, step, meta)
    train_s = time.time() - t0 - prep_s
    print(f"trained {step}/{total} steps in {train_s:.0f} s; last loss {np.mean(losses[-100:]) if losses else float('nan'):.3f}", flush=True)

    net.eval()
    scored = score_examples(reader, calib_examples, on_batch=ThreadTuner(enabled=device.type == "cpu" and not args.threads, every=40, trial=3).step)
    figures = calibrate(scored)
    thresholds = {
        "best_f1": figures["at_best_f1"]["threshold"],
        "max_5pct_false_refusal": figures["at_max_5pct_false_refusal"]["threshold"],
    }
    figures["by_file"] = by_source(scored, thresholds)
    shipped_cfg = dataclasses.replace(
        reader_cfg, no_answer_threshold=thresholds["max_5pct_false_refusal"], thresholds=thresholds
    )
    net.cpu()
    weights_file = save_weights(net, shipped_cfg, args.out)
    total_s = time.time() - t0
    results = {
        "config_name": args.config,
        "run": run_name,
        "config": cfg,
        "seed": args.seed,
        "data": data_meta,
        "train_articles": len(train_articles),
        "calibration_articles": sorted(a.title for a in calib_articles),
        "train_pairs": len(train_examples),
        "train_windows": len(windows),
        "steps": step,
        "total_steps": total,
        "stopped_early_by_time_budget": stopped_early,
        "final_train_loss": float(np.mean(losses[-100:])) if losses else None,
        "trainable_parameters": n_trainable,
        "weights_bytes": weights_file.stat().st_size,
        "device": str(device),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, torch {torch.__version__}, threads {torch.get_num_threads()}",
        "wall_seconds": {"prep": round(prep_s), "train": round(train_s), "total": round(total_s)},
        "calibration": figures,
        "shipped_threshold": shipped_cfg.no_answer_threshold,
    }
    results_path = args.results or REPO / "training" / "results" / f"{run_name}.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2), flush=True)
    print(f"weights -> {args.out} ({results['weights_bytes']:,} bytes); figures -> {results_path}; {total_s / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
