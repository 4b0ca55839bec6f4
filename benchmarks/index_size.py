"""Index size against answer quality: the XQuAD index stored with different vector codecs.

Each variant indexes the same 240 German XQuAD paragraphs with its own `sentence_codec`
(assistant/index/codecs.py; index format 5 stores no token states) and answers the 1190 German and the 1190 English
questions through `assistant eval`'s own runner, side by side in one run. Reported: bytes a
passage by file, and first-quote / any-quote hit rates and false refusals. The answer model is
off: the codecs change the first stage (similarity), which is what these rates measure.

    .venv/bin/python benchmarks/index_size.py [--variants none SQ8 SQ4 ...] [--sample N]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

from _common import XQUAD_DE, table, write_result

DEFAULT_VARIANTS = ["none", "SQ8", "SQ4"]


def disk_by_component(generation: Path, passages: int) -> dict[str, int]:
    """Bytes a passage of each file (folders summed), plus the total."""
    sizes = {}
    for path in sorted(generation.iterdir()):
        files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
        sizes[path.name] = sum(f.stat().st_size for f in files)
    per_passage = {name: round(size / passages) for name, size in sizes.items()}
    per_passage["total"] = round(sum(sizes.values()) / passages)
    return per_passage


def measure(variant: str, sources: Path, question_sets: dict[str, Path], work: Path, embedder, sample: int) -> dict:
    from assistant import Assistant
    from assistant.environment import settings_from_env
    from assistant.evaluation.data import load_eval_set
    from assistant.evaluation.runner import run_eval

    settings = dataclasses.replace(settings_from_env(os.environ), sentence_codec=variant, reader=False)
    started = time.perf_counter()
    assistant = Assistant(sources, work / variant, settings, update=True, embedder=embedder)
    seconds = time.perf_counter() - started
    view = assistant.snapshot.view
    row = {"variant": variant, "index_s": round(seconds, 1), "codecs": view.manifest.get("codecs", {}),
           "bytes_per_passage": disk_by_component(view._data.path, view.passage_count)}
    for lang, path in question_sets.items():
        eval_set = load_eval_set(path)
        eval_set.rows[:] = eval_set.rows[::sample]
        summary = run_eval(assistant, eval_set, progress=False).summary
        row[lang] = {k: summary[k] for k in ("questions", "first_quote_hit", "any_quote_hit", "false_abstain")}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS,
                        help="sentence codecs (FAISS codec names or none)")
    parser.add_argument("--sample", type=int, default=1, help="ask every Nth question only")
    parser.add_argument("--result", default="index_size", help="name of the results/NAME.json file")
    args = parser.parse_args()

    from assistant.environment import settings_from_env
    from assistant.evaluation.xquad import import_xquad
    from assistant.models.embedding import Embedder

    embedder = Embedder(settings_from_env(os.environ))
    embedder.encode_queries(["warm-up"])
    with tempfile.TemporaryDirectory(prefix="index-size-") as tmp:
        work = Path(tmp)
        import_xquad(XQUAD_DE, work / "de")
        import_xquad(XQUAD_DE, work / "en", XQUAD_DE.parent / "xquad.en.json")
        question_sets = {lang: work / lang / "questions.jsonl" for lang in ("de", "en")}
        rows = []
        for variant in args.variants:
            rows.append(measure(variant, work / "de" / "sources", question_sets, work / "index", embedder, args.sample))
            r = rows[-1]
            print(f"{variant}: {r['bytes_per_passage']['total']} B/passage, first quote de {r['de']['first_quote_hit']} "
                  f"en {r['en']['first_quote_hit']} ({r['index_s']} s to index)", flush=True)
    flat = [{"variant": r["variant"], "KB/passage": round(r["bytes_per_passage"]["total"] / 1000, 1),
             "sentences KB": round(sum(r["bytes_per_passage"].get(f"{n}.npy", 0)
                                       for n in ("sentence_vectors", "sentence_context_vectors")) / 1000, 1),
             "first de": r["de"]["first_quote_hit"], "first en": r["en"]["first_quote_hit"],
             "any de": r["de"]["any_quote_hit"], "any en": r["en"]["any_quote_hit"],
             "refused de": r["de"]["false_abstain"], "refused en": r["en"]["false_abstain"],
             "index s": r["index_s"]} for r in rows]
    print(table(flat, list(flat[0])))
    path = write_result(args.result, {"sample": args.sample, "variants": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
