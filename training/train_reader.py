"""Train the answer model (models/reader): LoRA on the first N e5 layers, a span head and a holds head.

    python training/train_reader.py                      # the shipped run (2-core CPU, about 80 min)
    python training/train_reader.py --set max_windows=2000 --out /tmp/r   # a quick look

Windows are shaped like the product's input (training/answer_data.py): the question, one
candidate sentence, the article's title and the sentence before the candidate. Labels: does the
sentence hold the answer, and where. The development split (training/splits.py) is never trained
on: it is what the product's thresholds are fitted on (benchmarks/fit_answer_policy.py).

Re-runnable: fixed seed, data files and sha256 recorded, a checkpoint every few minutes (a killed
run resumes where it stopped: run the same command again). Writes the shipped weights
(`assistant/models/reader/weights/`, or --out) and the figures reached
(`training/results/<run>.json`).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a script run by hand: the edge where the environment is set
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
    encode_inputs,
    pad_batch,
)
from training.answer_data import TrainWindow, article_windows  # noqa: E402
from training.qa_data import load_squad_files  # noqa: E402
from training.reader_training import save_weights, set_trainable, trained_state  # noqa: E402
from training.retriever_data import required_file  # noqa: E402
from training.splits import load_mlqa, mlqa_split_keys, read_json, split_file  # noqa: E402
from training.window_metrics import evaluate_windows  # noqa: E402

# file -> share of its training questions used (>1: repeated). German and cross-lingual data is
# scarce and closest to what the product is measured on, so it is repeated; the large English
# review and forum sets are sampled.
FILES: dict[str, float] = {
    "squad2_train_PARTIAL_first10articles.json.gz": 1.0,
    "squad1.1_train_part_ermeba.json.gz": 1.0,
    "squadshifts_new_wiki_v1.0.json.gz": 1.0,
    "squadshifts_amazon_reviews_v1.0.json.gz": 0.35,
    "squadshifts_reddit_v1.0.json.gz": 0.35,
    "covidqa_200423_preliminary.json.gz": 0.5,
    "germanquad_train_subset_pfalztrafo.json.gz": 3.0,
    "germandpr_train_subset_pfalztrafo.json.gz": 2.0,
    "mlqa_dev_trainhalf-context-de-question-de.json.gz": 3.0,
    "mlqa_dev_trainhalf-context-de-question-en.json.gz": 3.0,
    "mlqa_dev_trainhalf-context-en-question-de.json.gz": 3.0,
    "mlqa_dev_trainhalf-context-en-question-en.json.gz": 1.0,
    # the new German data (about 3,200 training questions once the development side is held out)
    "germanquad_test_twothirds.json.gz": 1.5,
    "mlqa_test_subset-context-de-question-de.json.gz": 1.0,
}

CONFIG = dict(
    num_layers=8, lora_rank=16, lora_alpha=32.0,
    epochs=1, batch_size=16, lr=1e-3, head_lr=2e-3, warmup=0.05, weight_decay=0.01,
    same_paragraph_negatives=2, other_paragraph_negatives=1, holds_loss_weight=1.0,
    max_windows=None, dev_windows=3000, precision="auto",
)


def load_split(seed: int) -> tuple[list, list, dict[str, str]]:
    """(train articles with their shares applied, dev articles, file -> sha256) from the data dirs."""
    mlqa = load_mlqa()
    keys = mlqa_split_keys(mlqa)
    train, dev, hashes = [], [], {}
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        for name, share in FILES.items():
            path = required_file(name)  # a retrain never quietly trains on less
            hashes[name] = hashlib.sha256(path.read_bytes()).hexdigest()
            train_part, dev_part = split_file(name, read_json(path), keys)
            plain = name.removesuffix(".gz")
            for part, out in ((train_part, train), (dev_part, dev)):
                if not part["data"]:
                    continue
                file = Path(tmp) / ("dev_" if out is dev else "") / plain
                file.parent.mkdir(exist_ok=True)
                file.write_text(json.dumps(part, ensure_ascii=False), encoding="utf-8")
                articles = load_squad_files([file])  # its test-data guard refuses XQuAD paragraphs
                if out is dev:
                    dev.extend(articles)
                    continue
                for article in articles:
                    copies = int(share) + (rng.random() < share - int(share))
                    train.extend([article] * copies)
    return train, dev, hashes


def make_batches(windows: list[TrainWindow], lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled batches of similar length (less padding), the same order for the same seed/epoch."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(windows)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for lo in range(0, len(order), chunk):
        part = sorted(order[lo:lo + chunk], key=lambda i: lengths[i])
        batches.extend(part[i:i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def span_labels(window: TrainWindow, offsets: list[tuple[int, int]], candidate_start: int) -> tuple[int, int]:
    """Token positions of the answer's first and last token, or (0, 0) (`<s>`: no answer here)."""
    if window.answer is None:
        return 0, 0
    a, b = window.answer
    hit = [k for k, (s, e) in enumerate(offsets) if e > s and s < b and e > a]
    if not hit or offsets[-1][1] < b:  # the answer was cut off with the candidate's tail
        return 0, 0
    return candidate_start + hit[0], candidate_start + hit[-1]


def encode_all(tokenizer, config: ReaderConfig, windows: list[TrainWindow]) -> list[tuple[list[int], int, int, int, int]]:
    """(ids, candidate start, candidate end, start label, end label) per window."""
    out = []
    for w in tqdm(windows, desc="tokenising", unit="window", mininterval=10):
        enc = encode_inputs(tokenizer, config, w.question, [w.input])[0]
        start, end = span_labels(w, enc.offsets, enc.candidate_start)
        out.append((enc.input_ids, enc.candidate_start, enc.candidate_start + len(enc.offsets), start, end))
    return out


def collate(encoded, windows: list[TrainWindow], idx: list[int], pad_id: int):
    ids, mask = pad_batch([encoded[i][0] for i in idx], pad_id)
    allowed = torch.zeros(ids.shape, dtype=torch.bool)  # the candidate's tokens and <s> (no answer)
    for row, i in enumerate(idx):
        allowed[row, encoded[i][1]:encoded[i][2]] = True
        allowed[row, 0] = True
    starts = torch.tensor([encoded[i][3] for i in idx])
    ends = torch.tensor([encoded[i][4] for i in idx])
    holds = torch.tensor([float(windows[i].holds) for i in idx])
    return ids, mask, allowed, starts, ends, holds


def loss_of(net, batch, holds_weight: float, precision: str) -> torch.Tensor:
    ids, mask, allowed, starts, ends, holds = batch
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
        s_logits, e_logits, h_logits = net(ids, mask)
    s_logits = s_logits.float().masked_fill(~allowed, -1e4)  # never a start/end outside the candidate
    e_logits = e_logits.float().masked_fill(~allowed, -1e4)
    ce = torch.nn.functional.cross_entropy
    span = (ce(s_logits, starts) + ce(e_logits, ends)) / 2
    return span + holds_weight * torch.nn.functional.binary_cross_entropy_with_logits(h_logits.float(), holds)


def training_precision(net, encoded, windows, pad_id: int, choice: str, batch_size: int) -> str:
    """"auto": the faster of float32 and bfloat16 autocast over a few real training steps (CPUs
    differ: bfloat16 was 1.1x float32 on an Intel Xeon with AMX here, 1.9x on an AMD EPYC). The
    probe's updates are undone."""
    if choice != "auto":
        return choice
    if not torch.backends.cpu.get_cpu_capability().startswith("AVX512"):
        return "float32"
    saved = {k: v.detach().clone() for k, v in net.state_dict().items()}
    probe = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.0)
    idx = list(range(min(batch_size, len(windows))))
    batch = collate(encoded, windows, idx, pad_id)
    timing = {}
    for precision in ("float32", "bfloat16"):
        best = math.inf
        for _ in range(3):
            begin = time.perf_counter()
            loss_of(net, batch, 1.0, precision).backward()
            probe.zero_grad(set_to_none=True)
            best = min(best, time.perf_counter() - begin)
        timing[precision] = best
    net.load_state_dict(saved)
    chosen = min(timing, key=timing.get)
    print(f"precision: {chosen} (a step took {timing['float32']:.2f} s in float32, {timing['bfloat16']:.2f} s in bfloat16)",
          flush=True)
    return chosen


def save_checkpoint(folder: Path, net, optimizer, scheduler, step: int, meta: dict) -> None:
    """Trainable weights and AdamW moments as safetensors, counters as JSON (no pickle)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"param.{k}": v.cpu() for k, v in trained_state(net).items()}
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
    info = {**meta, "step": step, "opt_steps": opt_steps, "scheduler": scheduler.state_dict()}
    (folder / "checkpoint.json.tmp").write_text(json.dumps(info))
    os.replace(folder / "checkpoint.json.tmp", folder / "checkpoint.json")


def load_checkpoint(folder: Path, net, optimizer, scheduler, meta: dict) -> int:
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
    names = {id(p): n for n, p in params.items()}
    with torch.no_grad():
        for key, value in tensors.items():
            if key.startswith("param."):
                params[key[6:]].copy_(value)
    for group in optimizer.param_groups:
        for p in group["params"]:
            name = names[id(p)]
            if f"exp_avg.{name}" in tensors:
                optimizer.state[p] = {
                    "step": torch.tensor(info["opt_steps"][name]),
                    "exp_avg": tensors[f"exp_avg.{name}"],
                    "exp_avg_sq": tensors[f"exp_avg_sq.{name}"],
                }
    scheduler.load_state_dict(info["scheduler"])
    return int(info["step"])


def _parse_value(value: str, old):
    """A --set value, typed like the default it overrides."""
    if value == "None":
        return None
    if isinstance(old, str):
        return value
    if isinstance(old, bool):
        return value.lower() in ("1", "true", "yes")
    if isinstance(old, float):
        return float(value)
    return int(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="where the trained weights go")
    parser.add_argument("--results", type=Path, default=None, help="figures JSON (default training/results/<run>.json)")
    parser.add_argument("--checkpoints", type=Path, default=REPO / "training" / "checkpoints")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override a config value")
    args = parser.parse_args(argv)

    t0 = time.time()
    cfg = dict(CONFIG)
    for item in args.set:
        key, _, value = item.partition("=")
        if key not in cfg:
            parser.error(f"unknown config key {key}")
        cfg[key] = _parse_value(value, cfg[key])
    run_name = "answer" + "".join(f"_{s.replace('=', '-')}" for s in args.set)
    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    train_articles, dev_articles, hashes = load_split(args.seed)
    windows, skipped = article_windows(train_articles, args.seed, cfg["same_paragraph_negatives"],
                                       cfg["other_paragraph_negatives"])
    dev_windows, _ = article_windows(dev_articles, args.seed + 1, cfg["same_paragraph_negatives"],
                                     cfg["other_paragraph_negatives"])
    if cfg["max_windows"] and len(windows) > cfg["max_windows"]:
        windows = random.Random(args.seed).sample(windows, cfg["max_windows"])
    dev_questions = sorted({w.qid for w in dev_windows})
    keep = set(random.Random(args.seed).sample(dev_questions, min(len(dev_questions), cfg["dev_windows"] // 4)))
    dev_windows = [w for w in dev_windows if w.qid in keep]

    reader_cfg = ReaderConfig(num_layers=cfg["num_layers"], lora_rank=cfg["lora_rank"], lora_alpha=cfg["lora_alpha"])
    net, tokenizer = build_net(default_base_folder(), reader_cfg)
    set_trainable(net)
    encoded = encode_all(tokenizer, reader_cfg, windows)
    prep_s = time.time() - t0
    n_trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    print(f"{len(train_articles)} train / {len(dev_articles)} dev articles; {len(windows)} train windows "
          f"({sum(w.holds for w in windows)} hold an answer), {len(dev_windows)} dev windows; skipped {skipped}; "
          f"{n_trainable:,} trainable parameters; prep {prep_s:.0f} s", flush=True)

    net.train()
    precision = training_precision(net, encoded, windows, tokenizer.pad_token_id, cfg["precision"], cfg["batch_size"])
    heads = ("qa_head.", "holds_head.")
    head = [p for n, p in net.named_parameters() if p.requires_grad and n.startswith(heads)]
    body = [p for n, p in net.named_parameters() if p.requires_grad and not n.startswith(heads)]
    optimizer = torch.optim.AdamW([{"params": body, "lr": cfg["lr"]}, {"params": head, "lr": cfg["head_lr"]}],
                                  weight_decay=cfg["weight_decay"])
    lengths = [len(e[0]) for e in encoded]
    epoch_batches = [make_batches(windows, lengths, cfg["batch_size"], args.seed, e) for e in range(cfg["epochs"])]
    total = sum(len(b) for b in epoch_batches)
    from transformers import get_linear_schedule_with_warmup

    scheduler = get_linear_schedule_with_warmup(optimizer, max(1, int(cfg["warmup"] * total)), total)
    meta = {"run": run_name, "seed": args.seed, "config": cfg, "data": hashes, "windows": len(windows)}
    ckpt_dir = args.checkpoints / run_name
    step = load_checkpoint(ckpt_dir, net, optimizer, scheduler, meta)
    if step:
        print(f"resumed from {ckpt_dir} at step {step}/{total}", flush=True)
    losses: list[float] = []
    last_ckpt = time.time()
    bar = tqdm(total=total, initial=step, desc="train", unit="step", mininterval=10)
    done = 0
    for epoch, batches in enumerate(epoch_batches):
        for idx in batches:
            done += 1
            if done <= step:
                continue
            loss = loss_of(net, collate(encoded, windows, idx, tokenizer.pad_token_id), cfg["holds_loss_weight"], precision)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], 1.0)
            optimizer.step()
            scheduler.step()
            losses.append(float(loss))
            step = done
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", epoch=epoch)
            if time.time() - last_ckpt > 600:
                save_checkpoint(ckpt_dir, net, optimizer, scheduler, step, meta)
                last_ckpt = time.time()
    bar.close()
    save_checkpoint(ckpt_dir, net, optimizer, scheduler, step, meta)
    train_s = time.time() - t0 - prep_s
    print(f"trained {step}/{total} steps in {train_s:.0f} s; last loss {np.mean(losses[-200:]) if losses else float('nan'):.3f}",
          flush=True)

    net.eval()
    reader = Reader(net, tokenizer, reader_cfg, precision="float32")
    figures = evaluate_windows(reader, dev_windows)
    shipped_cfg = dataclasses.replace(reader_cfg, calibration=figures["all"])
    weights_file = save_weights(net, shipped_cfg, args.out)
    total_s = time.time() - t0
    results = {
        "run": run_name,
        "config": cfg,
        "seed": args.seed,
        "data": hashes,
        "train_articles": len(train_articles),
        "dev_articles": len(dev_articles),
        "train_windows": len(windows),
        "skipped_questions": skipped,
        "steps": step,
        "final_train_loss": float(np.mean(losses[-200:])) if losses else None,
        "precision": precision,
        "trainable_parameters": n_trainable,
        "weights_bytes": weights_file.stat().st_size,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.processor() or ''}, torch {torch.__version__}",
        "wall_seconds": {"prep": round(prep_s), "train": round(train_s), "total": round(total_s)},
        "dev": figures,
    }
    results_path = args.results or REPO / "training" / "results" / f"{run_name}.json"
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2), flush=True)
    print(f"weights -> {args.out} ({results['weights_bytes']:,} bytes); figures -> {results_path}; {total_s / 60:.1f} min",
          flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
