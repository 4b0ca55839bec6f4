"""Train the first stage: a LoRA adapter for multilingual-e5-small's question and passage encodings.

    python training/train_retriever.py --sides both --layers 12 --rank 16 --lr 3e-5 --scale 50 --batch 32 \
        --epochs 1 --out DIR                               # an encoder adapter (2-core CPU: 45 min; none ships)
    python training/train_retriever.py                    # a question adapter (none ships)
    python training/train_retriever.py --epochs 0.05 --out /tmp/r   # a quick look
    python training/train_retriever.py --evaluate-only    # the base model's figures on the dev split
    python training/train_retriever.py ... --evaluate-checkpoint   # a run's last checkpoint, measured

Contrastive, as e5 itself was trained, in one of two ways:
- `--sides both` (the encoder adapter, models/adapters.py): questions and passages run through
  the adapted net; each question is scored against its batch's paragraphs (one question per
  paragraph, at most PER_ARTICLE of an article in a batch) plus one sibling paragraph per
  question that holds none of its answers, cross-entropy over scaled cosines; a paragraph other
  than its own that holds one of its answers is masked. Both sides move, so every index is
  rebuilt once with it.
- `--sides question` (a question adapter): only the question side trains, so every training
  paragraph's vector is fixed and known, and each question is scored against all of them at
  once. It learnt the 4,466 fixed training paragraphs and lost recall on the development split
  (benchmarks/README.md, "First stage"), as did the first attempt with in-batch negatives.
German, English and cross-language pairs (MLQA's parallel questions) share batches.

Figures: passage Recall@1/@5 and MRR@10 on the development split (whole articles never trained
on), per language pair, before and after, optionally with the article title before the passage,
written to --results. Re-runnable: fixed seed, data files' sha256 recorded, a checkpoint every 50
steps (a killed run resumes when the same command is run again). The adapter is written to --out
in peft's format; ASSISTANT_ENCODER_ADAPTER=THAT_FOLDER (both sides) or
ASSISTANT_QUERY_ADAPTER=THAT_FOLDER (question side) makes the product merge it at load.

Cost on 2-core CPUs: a both-sides step of 32 questions and about 60 paragraphs took 10-17 s in
bfloat16 autocast; with passages frozen a question-side step embeds only questions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a script run by hand: the edge where the environment is set
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.models.embedding import default_model_folder  # noqa: E402
from assistant.models.adapters import LORA_TARGETS  # noqa: E402
from training.qa_data import sha256  # noqa: E402
from training.retriever_data import TRAIN_FILES, Pair, holds_answer, load_pairs, required_file  # noqa: E402

QUERY, PASSAGE = "query: ", "passage: "
PER_ARTICLE = 4  # questions of one article in a both-sides batch


def load_base():
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(default_model_folder(Settings())), device="cpu", local_files_only=True)
    return model.tokenizer, model[0].auto_model


def embed(tokenizer, net, texts: list[str], max_tokens: int) -> torch.Tensor:
    """Mean-pooled unit vectors, as the product pools (models/engines.mean_pooled)."""
    batch = tokenizer(texts, truncation=True, max_length=max_tokens, padding=True, return_tensors="pt")
    hidden = net(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(pooled.float(), dim=-1)


def answer_masks(pairs: list[Pair], texts: list[str]) -> list[torch.Tensor]:
    """Per pair, the pool passages other than its own that hold one of its answers: not
    negatives (they may well answer it too)."""
    folded = [t.casefold() for t in texts]
    out = []
    for p in pairs:
        answers = [a.strip().casefold() for a in p.answers if a.strip()]
        own = p.passage.casefold()
        out.append(torch.tensor([i for i, t in enumerate(folded) if t != own and any(a in t for a in answers)],
                                dtype=torch.long))
    return out


def contrastive_loss(questions: torch.Tensor, pool: torch.Tensor, positives: list[int],
                     masked: list[torch.Tensor], scale: float) -> torch.Tensor:
    """Cross-entropy of each question over every passage of the pool, its own the target; the
    passages in `masked[row]` (holding its answer) are left out."""
    logits = scale * questions @ pool.T
    for row, columns in enumerate(masked):
        if len(columns):
            logits[row, columns] = float("-inf")
    return torch.nn.functional.cross_entropy(logits, torch.tensor(positives))


class PassageVectors:
    """The frozen passage encoder's vectors, computed once and kept on disk: only the question
    side trains, so a passage's vector never changes (and neither does any index)."""

    def __init__(self, tokenizer, base, folder: Path, precision: str, both_sides: bool = False):
        self.tokenizer, self.base, self.folder, self.precision = tokenizer, base, folder, precision
        self.both_sides = both_sides

    def __call__(self, texts: list[str], label: str, max_tokens: int = 512, net=None) -> torch.Tensor:
        if net is not None and net is not self.base and self.both_sides:
            # the passage side trains too: embedded afresh by the trained net, never cached
            return encode_all(self.tokenizer, net, [PASSAGE + t for t in texts], max_tokens, self.precision)
        digest = hashlib.sha256(("\x00".join(texts) + f"\x00{max_tokens}").encode()).hexdigest()[:16]
        path = self.folder / f"{label}-{digest}.npy"
        if path.exists():
            return torch.from_numpy(np.load(path))
        print(f"embedding {len(texts)} {label} passages (once; cached in {path})", flush=True)
        rows = encode_all(self.tokenizer, self.base, [PASSAGE + t for t in texts], max_tokens, self.precision,
                          progress=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        np.save(path.with_suffix(".tmp.npy"), rows.numpy())
        os.replace(path.with_suffix(".tmp.npy"), path)
        return rows


@torch.inference_mode()
def encode_all(tokenizer, net, texts: list[str], max_tokens: int, precision: str, batch_size: int = 16,
               progress: bool = False) -> torch.Tensor:
    """Unit vectors of many texts, longest first in batches (little padding)."""
    from tqdm import tqdm

    was_training = net.training
    net.eval()
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    rows = torch.zeros(len(texts), net.config.hidden_size)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
        for at in tqdm(range(0, len(order), batch_size), disable=not progress, unit="batch"):
            chunk = order[at:at + batch_size]
            rows[chunk] = embed(tokenizer, net, [texts[i] for i in chunk], max_tokens)
    net.train(was_training)
    return rows


def step_loss(tokenizer, net, batch: list[int], train: list[Pair], row_of: dict[str, int],
              passages: torch.Tensor, masks: list[torch.Tensor], args) -> torch.Tensor:
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bfloat16"):
        q = embed(tokenizer, net, [QUERY + train[i].question for i in batch], 64)
    return contrastive_loss(q, passages, [row_of[train[i].passage] for i in batch], [masks[i] for i in batch],
                            args.scale)


def both_sides_batches(train: list[Pair], batch: int, seed: int, passes: int) -> list[list[int]]:
    """Batches with one question of a paragraph and at most PER_ARTICLE of an article each,
    shuffled anew each pass: a sibling paragraph in the batch is a hard negative (masked when
    it holds the answer), and the few articles with hundreds of questions (SQuAD's) do not
    leave a tail of one-question batches."""
    plan: list[list[int]] = []
    for k in range(passes):
        rng = random.Random(seed + k)
        order = list(range(len(train)))
        rng.shuffle(order)
        pending = order
        while pending:
            current, seen, per_article, rest = [], set(), defaultdict(int), []
            for i in pending:
                pair = train[i]
                if len(current) < batch and pair.passage not in seen and per_article[pair.article] < PER_ARTICLE:
                    current.append(i)
                    seen.add(pair.passage)
                    per_article[pair.article] += 1
                else:
                    rest.append(i)
            plan.append(current)
            pending = rest
    return plan


def sibling_negatives(train: list[Pair], seed: int) -> list[str | None]:
    """Per pair, another paragraph of its article that holds none of its answers (the hardest
    negative there is for a question that names its subject), or None."""
    by_article: dict[str, list[str]] = defaultdict(list)
    for p in train:
        if p.passage not in by_article[p.article]:
            by_article[p.article].append(p.passage)
    rng = random.Random(seed)
    out: list[str | None] = []
    for p in train:
        others = [t for t in by_article[p.article] if t != p.passage and not holds_answer(t, p.answers)]
        out.append(rng.choice(others) if others else None)
    return out


def step_loss_both(tokenizer, net, batch: list[int], train: list[Pair], hard: list[str | None], args
                   ) -> torch.Tensor:
    """Both sides through the adapted net: each question against the batch's positives and
    hard negatives, cross-entropy over scaled cosines; a passage other than its own that holds
    one of its answers is masked."""
    passages = [train[i].passage for i in batch]
    passages += [h for h in dict.fromkeys(hard[i] for i in batch) if h is not None and h not in passages]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bfloat16"):
        q = embed(tokenizer, net, [QUERY + train[i].question for i in batch], 64)
        pool = embed(tokenizer, net, [PASSAGE + t for t in passages], args.max_tokens)
    masked = [torch.tensor([j for j, t in enumerate(passages) if j != row and holds_answer(t, train[i].answers)],
                           dtype=torch.long) for row, i in enumerate(batch)]
    return contrastive_loss(q, pool, list(range(len(batch))), masked, args.scale)


def evaluate(tokenizer, net, pairs: list[Pair], vectors: PassageVectors, precision: str, titles: bool) -> dict:
    """Passage R@1, R@5 and MRR@10 per language pair: each text language's dev paragraphs are
    the corpus, every dev question asks for its own paragraph."""
    out: dict[str, dict] = {}
    for language in ("de", "en"):
        mine = [p for p in pairs if p.text_language == language]
        corpus = sorted({p.passage for p in mine})
        title_of = {p.passage: p.title for p in mine}
        shown = [f"{title_of[t]}\n{t}" if titles and title_of[t] else t for t in corpus]
        index = {t: i for i, t in enumerate(corpus)}
        passages = vectors(shown, f"dev-{language}{'-titled' if titles else ''}", net=net)
        questions = encode_all(tokenizer, net, [QUERY + p.question for p in mine], 64, precision)
        ranks = (questions @ passages.T).argsort(dim=1, descending=True)[:, :10]
        per_pair: dict[str, list[int]] = defaultdict(list)
        for p, row in zip(mine, ranks.tolist()):
            gold = index[p.passage]
            per_pair[f"{p.question_language}-{language}"].append(row.index(gold) + 1 if gold in row else 0)
        for pair, found in sorted(per_pair.items()):
            n = len(found)
            out[pair] = {
                "n": n, "corpus": len(corpus),
                "recall@1": round(sum(r == 1 for r in found) / n, 4),
                "recall@5": round(sum(1 <= r <= 5 for r in found) / n, 4),
                "mrr@10": round(sum(1 / r for r in found if r) / n, 4),
                "recall@1_ci95": wilson(sum(r == 1 for r in found), n),
            }
    return out


def wilson(hits: int, n: int, z: float = 1.96) -> list[float]:
    """95% Wilson interval of a proportion."""
    if n == 0:
        return [0.0, 0.0]
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(centre - half, 4), round(centre + half, 4)]


def save_checkpoint(folder: Path, net, optimizer, step: int, meta: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "checkpoint.pt.tmp"
    trainable = {k: v for k, v in net.state_dict().items() if "lora_" in k}
    torch.save({"step": step, "meta": meta, "adapter": trainable, "optimizer": optimizer.state_dict()}, tmp)
    os.replace(tmp, folder / "checkpoint.pt")


def load_checkpoint(folder: Path, net, optimizer, meta: dict) -> int:
    path = folder / "checkpoint.pt"
    if not path.exists():
        return 0
    saved = torch.load(path, weights_only=False)
    if saved["meta"] != meta:
        print(f"checkpoint in {folder} is from another run; starting afresh", flush=True)
        return 0
    net.load_state_dict(saved["adapter"], strict=False)
    optimizer.load_state_dict(saved["optimizer"])
    print(f"resuming from step {saved['step']}", flush=True)
    return int(saved["step"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=float, default=1.5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--layers", type=int, default=6, help="adapt the top N of the 12 layers")
    parser.add_argument("--scale", type=float, default=50.0, help="1/temperature (e5 was trained at 0.01)")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--precision", choices=("float32", "bfloat16"), default="bfloat16")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=REPO / "training" / "checkpoints" / "retriever" / "adapter")
    parser.add_argument("--results", type=Path, default=REPO / "training" / "results" / "retriever.json")
    parser.add_argument("--checkpoints", type=Path, default=REPO / "training" / "checkpoints" / "retriever")
    parser.add_argument("--sides", choices=("question", "both"), default="question",
                        help="train the question side against frozen passages, or both sides in batches")
    parser.add_argument("--evaluate-only", action="store_true")
    parser.add_argument("--evaluate-checkpoint", action="store_true",
                        help="measure the run's last checkpoint (the same command's settings) on the dev split and stop")
    parser.add_argument("--titles", action="store_true",
                        help="also measure with the article title before each development passage")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    started = time.time()

    files = {name: sha256(required_file(name)) for name, *_ in TRAIN_FILES}
    dev = load_pairs(dev=True, seed=args.seed)
    tokenizer, base = load_base()
    vectors = PassageVectors(tokenizer, base, args.checkpoints / "passages", args.precision,
                             both_sides=args.sides == "both")
    variants = (False, True) if args.titles else (False,)
    # the base model's figures depend only on the data: measured once, kept with the checkpoints
    saved = args.checkpoints / f"before-{'titles' if args.titles else 'plain'}-{len(dev)}.json"
    if saved.exists():
        before = {t == "true": f for t, f in json.loads(saved.read_text()).items()}
    else:
        before = {t: evaluate(tokenizer, base, dev, vectors, args.precision, titles=t) for t in variants}
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps({str(t).lower(): f for t, f in before.items()}))
    print(json.dumps({"before": {("title" if t else "no_title"): f for t, f in before.items()}}), flush=True)
    if args.evaluate_only:
        return

    from peft import LoraConfig, get_peft_model

    train = load_pairs(dev=False, seed=args.seed)
    both = args.sides == "both"
    if not both:
        texts = sorted({p.passage for p in train})
        row_of = {t: i for i, t in enumerate(texts)}
        passages = vectors(texts, "train", max_tokens=args.max_tokens)
        masks = answer_masks(train, texts)
    else:
        hard = sibling_negatives(train, args.seed)
    # the top layers only: the backward pass stops below them (on 2 busy cores a step over all
    # 12 layers took 20-30 s for 128 questions, about a third less with the top 6)
    layers = base.config.num_hidden_layers
    net = get_peft_model(base, LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.05,
                                          target_modules=list(LORA_TARGETS),
                                          layers_to_transform=list(range(layers - args.layers, layers))))
    net.train()
    passes = math.ceil(args.epochs)
    if both:
        plan = both_sides_batches(train, args.batch, args.seed, passes)
    else:
        plan = []
        for k in range(passes):
            order = list(range(len(train)))
            random.Random(args.seed + k).shuffle(order)
            plan += [order[at:at + args.batch] for at in range(0, len(order), args.batch)]
    plan = plan[: max(1, round(len(plan) * args.epochs / passes))]
    meta = {k: str(v) for k, v in vars(args).items() if k not in ("out", "results", "checkpoints", "evaluate_checkpoint")}
    meta["files"] = files
    meta["pairs"] = len(train)
    optimizer = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    warmup = max(1, len(plan) // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (len(plan) - s) / max(1, len(plan) - warmup))))
    step = load_checkpoint(args.checkpoints, net, optimizer, meta)
    for _ in range(step):
        schedule.step()
    if args.evaluate_checkpoint:
        net.eval()
        measured = {t: evaluate(tokenizer, net, dev, vectors, args.precision, titles=t) for t in variants}
        print(json.dumps({"step": step, "after": {("title" if t else "no_title"): f for t, f in measured.items()}}))
        return
    print(f"{len(train)} training pairs, {len(plan)} steps of {args.batch}, from step {step}; "
          f"{len(dev)} development questions", flush=True)
    losses: list[float] = []
    tick = time.time()
    while step < len(plan):
        if both:
            loss = step_loss_both(tokenizer, net, plan[step], train, hard, args)
        else:
            loss = step_loss(tokenizer, net, plan[step], train, row_of, passages, masks, args)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        step += 1
        if step % 10 == 0 or step <= 3:
            print(f"step {step}/{len(plan)} loss {np.mean(losses[-10:]):.4f} "
                  f"{(time.time() - tick) / (10 if step > 3 else 1):.2f} s/step", flush=True)
            tick = time.time()
        if step % 50 == 0 or step == len(plan):
            save_checkpoint(args.checkpoints, net, optimizer, step, meta)

    after = {t: evaluate(tokenizer, net, dev, vectors, args.precision, titles=t) for t in variants}
    args.out.mkdir(parents=True, exist_ok=True)
    net.save_pretrained(str(args.out))
    record = {
        "config": meta, "steps": len(plan), "wall_s": round(time.time() - started),
        "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
        "final_loss": round(float(np.mean(losses[-20:])), 4) if losses else None,
        "before": {("title" if t else "no_title"): f for t, f in before.items()},
        "after": {("title" if t else "no_title"): f for t, f in after.items()},
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record["after"]), flush=True)


if __name__ == "__main__":
    main()
