"""How often the product's sentences (ingest/passages.py) differ from pysbd's own on a folder of
articles: the cuts pysbd makes inside a sentence that passages.py mends (a closing quote mark left
alone; an ordinal taken for a list item, "Am" / "24. August ..."; a comma after a regnal number,
"Katharina II." / ", die ..."; in German, lower case after an abbreviation pysbd does not know),
and the boundaries left where no sentence mark ends the text before or where the next sentence
starts with a comma or closing bracket (what may still be cut inside a sentence).

    .venv/bin/python benchmarks/sentence_cuts.py FOLDER [FOLDER ...] [--examples 10]

The language of each article is the one the indexer gives it (ingest/sources.py). Writes
results/sentence_cuts.json and prints a table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _common import table, write_result

from assistant.ingest.passages import MID_SENTENCE, SENTENCE_END, segmenter, split_sentences
from assistant.ingest.sources import load_articles


def pysbd_cuts(text: str, language: str) -> int:
    """Boundaries pysbd alone makes inside the lines of `text` (a line break always ends a sentence)."""
    return sum(max(0, len([p for p in segmenter(language).segment(line) if p.strip()]) - 1)
               for line in text.splitlines() if line.strip())


def product_cuts(text: str, language: str) -> tuple[int, list[tuple[str, str]]]:
    """Boundaries inside a line in the product's sentences, and those inside a sentence: no
    sentence mark before, or a comma (MID_SENTENCE) after."""
    spans = split_sentences(text, language)
    inside = [(a, b) for a, b in zip(spans, spans[1:]) if "\n" not in text[a[0]:b[1]]]
    unended = [(text[a[0]:a[1]][-40:], text[b[0]:b[1]][:40]) for a, b in inside
               if not SENTENCE_END.search(text[a[0]:a[1]]) or MID_SENTENCE.match(text[b[0]:b[1]])]
    return len(inside), unended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--examples", type=int, default=10)
    args = parser.parse_args()
    rows, examples = [], {}
    for folder in args.folders:
        articles, _ = load_articles(folder)
        by_language: dict[str, dict] = {}
        for article in articles:
            name = folder.resolve().parent.name if folder.name == "sources" else folder.name
            row = by_language.setdefault(article.language, {"folder": name, "language": article.language,
                                                            "articles": 0, "pysbd": 0, "product": 0, "unended": 0})
            cuts, unended = product_cuts(article.text, article.language)
            row["articles"] += 1
            row["pysbd"] += pysbd_cuts(article.text, article.language)
            row["product"] += cuts
            row["unended"] += len(unended)
            examples.setdefault(f"{name}/{article.language}", []).extend(unended)
        for row in by_language.values():
            row["mended"] = row["pysbd"] - row["product"]
            rows.append(row)
    columns = ["folder", "language", "articles", "pysbd", "product", "mended", "unended"]
    print(table(rows, columns))
    for key, found in examples.items():
        for before, after in found[: args.examples]:
            print(f"  still cut, {key}: {before!r} / {after!r}")
    kept = {key: found[: args.examples] for key, found in examples.items()}
    print(f"wrote {write_result('sentence_cuts', {'rows': rows, 'unended_examples': kept})}")


if __name__ == "__main__":
    main()
