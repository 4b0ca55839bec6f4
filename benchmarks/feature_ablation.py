"""What each stored vector array adds to choosing quotes, on the development split (never XQuAD).

The index stores, beside the passage vectors, each sentence embedded on its own (a second model
pass), each sentence pooled from its passage's pass, and every token's contextual state (for
late interaction, most of the bytes a passage). This refits the quote weights listwise without
the features an array feeds and reports the first-stage figures held out (5 folds grouped by
article, every language pair counting the same), so a dropped array is dropped on evidence:

- all: every feature (what the index held until format 5);
- no_late_interaction: without the MaxSim features (no token states stored);
- one_pass: also the question-as-passage feature read on the in-passage sentence vectors, so
  the separate sentence pass is not needed.

    .venv/bin/python benchmarks/dev_set.py --out /work/dev
    .venv/bin/python benchmarks/feature_ablation.py --dev /work/dev

Writes results/feature_ablation.json.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from _common import REPO, table, write_result
from _fitting import fit_listwise

from assistant.answer.candidates import quote_features, retrieve
from assistant.config import FEATURES
from assistant.environment import settings_from_env
from assistant.evaluation.metrics import contains_answer
from fit_answer_policy import FOLDS, group_of, load_questions, open_corpus

VARIANTS = {
    "all": list(FEATURES),
    "no_late_interaction": [f for f in FEATURES if not f.startswith("maxsim")],
    "one_pass": [f for f in FEATURES if not f.startswith("maxsim") and f != "as_passage"] + ["as_passage_in_context"],
}


def items_of(corpus: Path, settings) -> list[dict]:
    snapshot = open_corpus(corpus, settings).snapshot
    items = []
    for row in load_questions(corpus):
        if not row["answer"]:
            continue
        retrieved = retrieve(snapshot, row["question"])
        features = quote_features(snapshot, retrieved)
        if not len(features.sentences):
            items.append({"row": row, "columns": {}, "y": np.zeros(0, bool)})
            continue
        texts = [snapshot.view.text(s.article_id, s.start, s.end) for s in features.sentences]
        columns = {name: features.values[:, i] for i, name in enumerate(FEATURES)}
        columns["as_passage_in_context"] = snapshot.view.context_vectors(features.sentences.ids) @ retrieved.as_passage
        items.append({"row": row, "columns": columns,
                      "y": np.array([contains_answer(t, row["answer"]) for t in texts], dtype=bool)})
    return items


def held_out_first(items: list[dict], names: list[str]) -> dict[str, float]:
    """First quote holds the answer, per language pair, with weights fitted on the other folds."""
    for item in items:
        item["x"] = np.column_stack([item["columns"][n] for n in names]) if item["columns"] else np.zeros((0, len(names)))
    groups = sorted({group_of(i["row"]) for i in items})
    fold_of = {g: n % FOLDS for n, g in enumerate(np.random.default_rng(13).permutation(groups))}
    hit = {}
    for fold in range(FOLDS):
        train = [i for i in items if fold_of[group_of(i["row"])] != fold and len(i["x"])]
        weights = fit_listwise(train, np.ones(len(names)))
        for n, item in enumerate(items):
            if fold_of[group_of(item["row"])] == fold:
                hit[id(item)] = bool(len(item["x"])) and bool(item["y"][int(np.argmax(item["x"] @ weights))])
    pairs = sorted({i["row"]["pair"] for i in items})
    out = {p: round(float(np.mean([hit[id(i)] for i in items if i["row"]["pair"] == p])), 4) for p in pairs}
    out["pairs"] = round(float(np.mean([out[p] for p in pairs])), 4)
    out["all"] = round(float(np.mean(list(hit.values()))), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=REPO / "benchmarks" / ".work" / "dev")
    args = parser.parse_args()
    settings = settings_from_env(os.environ)
    corpora = [d for d in sorted(args.dev.iterdir()) if (d / "questions.jsonl").exists()]
    items = [item for corpus in corpora for item in items_of(corpus, settings)]
    rows = [{"variant": name, "features": len(names), **held_out_first(items, names)} for name, names in VARIANTS.items()]
    print(table(rows, list(rows[0])))
    print(f"wrote {write_result('feature_ablation', {'dev': str(args.dev), 'variants': VARIANTS, 'first_quote_held_out': rows})}")


if __name__ == "__main__":
    main()
