"""The first stage's BM25 weights (Settings.lexical_weight_same_language / _cross_language) on
the development corpora: passage recall@1 / @5 and MRR@10 per language pair over a grid.

The shipped weights (0.07 same language, 0.02 across) were chosen on XQuAD; this measures them
where choices are made, on the development split (benchmarks/dev_set.py writes its corpora).
Each question is embedded once; only the fusion changes. A passage is relevant when it holds an
accepted answer, as `assistant eval` judges it (evaluation/runner.relevant_passages).

    .venv/bin/python benchmarks/lexical_weights.py [--dev benchmarks/.work/dev] [--corpora de en]

Writes results/lexical_weights.json.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from _common import REPO, table, write_result

sys.path.insert(0, str(REPO))

from assistant import Assistant  # noqa: E402
from assistant.answer.candidates import SimilarityFirstStage  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.evaluation.data import load_eval_set  # noqa: E402
from assistant.evaluation.runner import relevant_passages  # noqa: E402
from assistant.index.lexical import tokenize  # noqa: E402
from assistant.index.retrieval import Retriever  # noqa: E402
from assistant.ingest.language import detect_language  # noqa: E402

SAME = (0.0, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2)
CROSS = (0.0, 0.02, 0.05)


def prepared_questions(corpus: Path) -> tuple[Assistant, list[tuple]]:
    """The corpus's answerable questions that some passage answers: (pair, query vector,
    tokens, language, relevant passage ids)."""
    assistant = Assistant(settings=Settings(reader=False).with_paths(corpus / "sources", corpus / "index"),
                          update=True, progress=True)
    snapshot = assistant.snapshot
    view, default = snapshot.view, SimilarityFirstStage.of(snapshot).default_language
    indexed = {a.file: a.file for a in view.articles}
    key_of = {f"{view.articles[p.article_id].file}:{p.start}-{p.end}": i
              for i, p in ((i, view.passage(i)) for i in range(view.passage_count))}
    out = []
    for row in load_eval_set(corpus / "questions.jsonl").rows:
        language = detect_language(row.question, default=default)
        relevant = {key_of[k] for k in relevant_passages(view, row, language, indexed)}
        if relevant:
            query, _ = snapshot.embedder.encode_question(row.question)
            out.append((row.extra.get("pair"), query, tokenize(row.question, language), language, relevant))
    return assistant, out


def figures(ranks: list[int]) -> dict:
    r = np.array(ranks)
    found = r >= 1
    return {"n": len(r), "recall@1": round(float((found & (r <= 1)).mean()), 4),
            "recall@5": round(float((found & (r <= 5)).mean()), 4),
            "mrr@10": round(float(np.where(found & (r <= 10), 1 / np.maximum(r, 1), 0).mean()), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=REPO / "benchmarks" / ".work" / "dev")
    parser.add_argument("--corpora", nargs="+", default=["de", "en"])
    args = parser.parse_args()
    rows = []
    for name in args.corpora:
        assistant, questions = prepared_questions(args.dev / name)
        snapshot = assistant.snapshot
        for same, cross in itertools.product(SAME, CROSS):
            retriever = Retriever(snapshot.view, snapshot.settings.retrieve_candidates, same, cross)
            ranks = defaultdict(list)
            for pair, query, tokens, language, relevant in questions:
                hits = retriever.search(query, tokens, language)
                ranks[pair].append(next((i for i, h in enumerate(hits, 1) if h.passage_id in relevant), 0))
            rows += [{"corpus": name, "pair": pair, "same": same, "cross": cross, **figures(r)}
                     for pair, r in sorted(ranks.items())]
    print(table(rows, ["corpus", "pair", "same", "cross", "n", "recall@1", "recall@5", "mrr@10"]))
    print(f"wrote {write_result('lexical_weights', {'dev': str(args.dev), 'rows': rows})}")


if __name__ == "__main__":
    main()
