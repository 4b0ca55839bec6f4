"""Build the news corpus for `news_scale.py`: German articles from 10kGNAD (DER STANDARD) and
English ones from the BBC News set, one text file per article, in a data folder outside git.

    .venv/bin/python benchmarks/news_corpus.py --gnad PATH --bbc PATH [--out data/news] [--articles N]

PATH is either a bare git directory of the repository (what the `fetch` tool or
`git clone --bare` leaves: files are read from its HEAD) or a plain folder (a `git clone`):

- `--gnad`: github.com/tblock/10kGNAD; its `train.csv` and `test.csv` (or `articles.csv`) hold
  `label;text` rows quoted with `'`. Every CSV present at the top of the repository is read
  (`articles.csv` only when neither split is there, since it holds the same articles).
- `--bbc`: a repository that holds the BBC News set as `bbc/<category>/NNN.txt` (first line the
  title, then the paragraphs), e.g. github.com/moztom/bbc_ml. A folder given directly as
  `<category>/NNN.txt` works too.

With internet: `git clone https://github.com/tblock/10kGNAD data/raw/10kGNAD` and
`git clone https://github.com/moztom/bbc_ml data/raw/bbc_ml` (the defaults of --gnad / --bbc).

Output (`--out`, default `data/news/`, ignored by git):
    articles/*.txt    one article a file, as the assistant reads them (assistant/ingest/sources.py):
                      plain UTF-8 text; BBC files keep their first line as the title and their
                      blank-line paragraphs; a 10kGNAD row is one paragraph (the subheading, then
                      the body: the CSV has no title and no paragraph breaks). No date line: the
                      sets give no per-article dates (10kGNAD: 2015-2016, BBC: 2004-2005).
    order.tsv         every article in selection order: rank, file, language, source, category,
                      raw id. The first N rows are the N-article subset, so the 100-article
                      subset lies inside the 1,000 one, which lies inside the 10,000 one.
    LICENCES.md       each source, its licence and address.
    checksums.sha256  sha256 of each raw input file (`sha256sum -c` format, paths as in the repos).

Raw inputs are checked on every run: against the digests pinned below (a mismatch stops the
run) and against `checksums.sha256` of an earlier run in the same --out (a changed input is an
error, not a silently different corpus). Inputs not pinned here (for instance a full clone's
`train.csv`, absent from the mirror this was built with) are reported and recorded.

Selection: articles are ordered within each language by sha256(seed:id), exact duplicate texts
dropped (the BBC set repeats about a hundred stories), and the languages interleaved so that the
first N hold round(0.7775 x N) German articles (10,000 = 7,775 German + 2,225 English); once the
German articles run out, the rest of the order is English.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "data" / "news"
GERMAN_SHARE = 0.7775  # 7,775 of 10,000: the whole BBC set beside three quarters German
SEED = "news-corpus-1"
GNAD_CSVS = ("train.csv", "test.csv", "articles.csv")

# sha256 of the raw files this corpus was built from (tblock/10kGNAD at da845fe, moztom/bbc_ml at
# c73a475). The BBC folder is pinned as one digest over its sorted "sha256  path" lines.
PINNED = {
    "10kGNAD/test.csv": "68ba71a01919261f36b362b6a31e7fa34255dde102a5586db23d72eae2e41514",
    "bbc/README.TXT": "a72bbd998060e438a1c3943758a641735a6370e1a8f43f6f6a8a5459d7c34b13",
    "bbc/*.txt": "b937f79b10e00a8bb2877f383b61ebbb536cb6ee387c9d9929731d4abee6b548",
}
# git blob ids of the CSVs at tblock/10kGNAD da845fe (HEAD), for clones with the large files.
GNAD_BLOBS = {
    "train.csv": "9cfa65e0e2c1bc55a80b26a36369291f777d703d",
    "test.csv": "c51aee691544cd146b39b3f177134f17d1916ccb",
    "articles.csv": "1916c5ce6d560418ece9e611f55135444a298607",
}

LICENCES = """# Sources of this corpus

Built by `benchmarks/news_corpus.py`; one file per article in `articles/`.

## German: 10kGNAD (Ten Thousand German News Articles Dataset)

- Articles from the Austrian newspaper DER STANDARD (derstandard.at), compiled by Timo Block from
  the One Million Posts Corpus (Schabus, Skowron, Trapp, SIGIR 2017).
- Repository: https://github.com/tblock/10kGNAD (project page https://tblock.github.io/10kGNAD/)
- Licence, as the repository states it: "The dataset is licensed under a Creative Commons
  Attribution-NonCommercial-ShareAlike 4.0 International License"
  (https://creativecommons.org/licenses/by-nc-sa/4.0/); "All code in this repository is licensed
  under a MIT License."
- Files: `de_10kgnad_<split>_<row>.txt` (row: 1-based line of the split's CSV).

## English: BBC News (2,225 articles, 2004-2005)

- D. Greene and P. Cunningham, "Practical Solutions to the Problem of Diagonal Dominance in Kernel
  Document Clustering", Proc. ICML 2006; http://mlg.ucd.ie/datasets/bbc.html
- Copy used: {bbc_repo} (`bbc/<category>/NNN.txt`; that repository states no licence of its own).
- Terms, as the set's README.TXT states them: "All rights, including copyright, in the content of
  the original articles are owned by the BBC." and "If you make use of the dataset, please consider
  citing the publication" (above). No licence is granted: use for research benchmarks only; do not
  redistribute the articles.
- Files: `en_bbc_<category>_<NNN>.txt`.
"""


class CorpusError(Exception):
    """The inputs are missing, changed or too small; the message says what to do."""


@dataclass(frozen=True)
class RawArticle:
    ident: str  # stable id: the output file name without .txt
    language: str
    source: str
    category: str
    raw_id: str  # where it came from inside its repository
    text: str


# --------------------------------------------------------------------------- reading inputs


class Tree:
    """Files of a repository: a bare git directory (read at HEAD) or a plain folder."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.git = (self.path / "HEAD").is_file() and (self.path / "objects").is_dir()
        if not self.git and not self.path.is_dir():
            raise CorpusError(f"{self.path} is neither a folder nor a git directory")
        self._listing: dict[str, str] | None = None

    def listing(self) -> dict[str, str]:
        """path -> git blob id (git) or "" (folder), for the files present."""
        if self._listing is None:
            if self.git:
                out = subprocess.run(["git", "--git-dir", str(self.path), "ls-tree", "-r", "HEAD"],
                                     capture_output=True, text=True, check=True).stdout
                self._listing = {}
                for line in out.splitlines():
                    meta, name = line.split("\t", 1)
                    self._listing[name] = meta.split()[2]
            else:
                self._listing = {str(p.relative_to(self.path)): "" for p in sorted(self.path.rglob("*"))
                                 if p.is_file() and ".git" not in p.relative_to(self.path).parts}
        return self._listing

    def read_many(self, names: list[str]) -> dict[str, bytes]:
        if not self.git:
            return {n: (self.path / n).read_bytes() for n in names}
        listing = self.listing()
        batch = "".join(f"{listing[n]}\n" for n in names).encode()
        out = subprocess.run(["git", "--git-dir", str(self.path), "cat-file", "--batch"], input=batch,
                             capture_output=True, check=True).stdout
        result, pos = {}, 0
        for name in names:
            header_end = out.index(b"\n", pos)
            header = out[pos:header_end].split()
            if header[-1] == b"missing":
                raise CorpusError(f"{name} is listed in {self.path} but its content is absent (a large file "
                                  f"the mirror left out?); use a full `git clone`")
            size = int(header[2])
            result[name] = out[header_end + 1: header_end + 1 + size]
            pos = header_end + 1 + size + 1
        return result


def _git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_gnad(tree: Tree) -> tuple[list[RawArticle], dict[str, bytes]]:
    listing = tree.listing()
    present = [n for n in ("train.csv", "test.csv") if n in listing]
    if not present and "articles.csv" in listing:
        present = ["articles.csv"]
    if not present:
        raise CorpusError(f"no train.csv, test.csv or articles.csv in {tree.path} (is it tblock/10kGNAD?)")
    readable = []
    for name in present:
        try:
            readable.append((name, tree.read_many([name])[name]))
        except CorpusError as exc:
            print(f"note: {exc}; going on without it", file=sys.stderr)
    if not readable:
        raise CorpusError(f"none of {', '.join(present)} in {tree.path} could be read")
    articles, raw = [], {}
    for name, data in readable:
        raw[f"10kGNAD/{name}"] = data
        split = name.removesuffix(".csv")
        rows = csv.reader(io.StringIO(data.decode("utf-8")), delimiter=";", quotechar="'")
        for number, row in enumerate(rows, 1):
            if len(row) != 2 or not row[1].strip():
                raise CorpusError(f"10kGNAD/{name} row {number}: expected 'label;text', got {len(row)} fields")
            label, text = row
            articles.append(RawArticle(f"de_10kgnad_{split}_{number:04d}", "de", "10kGNAD", label,
                                       f"{name}:{number}", " ".join(text.split())))
    return articles, raw


_BBC_FILE = re.compile(r"^(?:bbc/)?(business|entertainment|politics|sport|tech)/(\d{3})\.txt$")


def read_bbc(tree: Tree) -> tuple[list[RawArticle], dict[str, bytes]]:
    names = sorted(n for n in tree.listing() if _BBC_FILE.match(n))
    if not names:
        raise CorpusError(f"no bbc/<category>/NNN.txt files in {tree.path}")
    data = tree.read_many(names)
    articles, raw = [], {}
    for name in names:
        category, number = _BBC_FILE.match(name).groups()
        raw[f"bbc/{category}/{number}.txt"] = data[name]
        text = _decode(data[name]).replace("\r\n", "\n").strip()
        articles.append(RawArticle(f"en_bbc_{category}_{number}", "en", "BBC News", category, name, text))
    return articles, raw


# --------------------------------------------------------------------------- checksums


def digests(raw: dict[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in sorted(raw.items())}


def bbc_digest(sums: dict[str, str]) -> str:
    lines = "".join(f"{sums[n]}  {n}\n" for n in sorted(sums) if n.startswith("bbc/"))
    return hashlib.sha256(lines.encode()).hexdigest()


def verify(sums: dict[str, str], raw: dict[str, bytes], previous: Path) -> list[str]:
    """Errors for inputs that differ from the pinned digests or from an earlier run's file."""
    errors, notes = [], []
    for name, blob in GNAD_BLOBS.items():
        key = f"10kGNAD/{name}"
        if key in raw and _git_blob_id(raw[key]) != blob and PINNED.get(key) != sums[key]:
            errors.append(f"{key}: content differs from tblock/10kGNAD at da845fe (git blob {blob})")
    for key, expected in PINNED.items():
        actual = bbc_digest(sums) if key == "bbc/*.txt" else sums.get(key)
        if actual is not None and expected and actual != expected:
            errors.append(f"{key}: sha256 {actual} but {expected} was pinned")
    if previous.is_file():
        for line in previous.read_text(encoding="utf-8").splitlines():
            digest, name = line.split("  ", 1)
            if name in sums and sums[name] != digest:
                errors.append(f"{name}: sha256 {sums[name]} but {previous} recorded {digest}")
    for name in sorted(sums):
        if not name.startswith("bbc/") and not PINNED.get(name) and name.removeprefix("10kGNAD/") not in GNAD_BLOBS:
            notes.append(name)
    if notes:
        print(f"note: not pinned, recorded only: {', '.join(notes)}", file=sys.stderr)
    return errors


# --------------------------------------------------------------------------- selection


def _key(article: RawArticle) -> str:
    return hashlib.sha256(f"{SEED}:{article.ident}".encode()).hexdigest()


def dedupe(articles: list[RawArticle]) -> tuple[list[RawArticle], int]:
    seen, kept = set(), []
    for a in sorted(articles, key=lambda a: a.ident):
        fingerprint = hashlib.sha256(" ".join(a.text.split()).encode()).hexdigest()
        if fingerprint not in seen:
            seen.add(fingerprint)
            kept.append(a)
    return kept, len(articles) - len(kept)


def selection_order(articles: list[RawArticle]) -> list[RawArticle]:
    """All articles, ordered so that every prefix is the seeded, language-mixed sample of its size."""
    pools = {lang: sorted((a for a in articles if a.language == lang), key=_key) for lang in ("de", "en")}
    order, taken = [], {"de": 0, "en": 0}
    for n in range(1, len(articles) + 1):
        want_de = min(round(GERMAN_SHARE * n), len(pools["de"]))
        lang = "de" if taken["de"] < want_de or taken["en"] >= len(pools["en"]) else "en"
        order.append(pools[lang][taken[lang]])
        taken[lang] += 1
    return order


def article_file_text(article: RawArticle) -> str:
    return article.text.rstrip() + "\n"


# --------------------------------------------------------------------------- main


def build(gnad: Path, bbc: Path, out: Path, limit: int | None) -> dict:
    gnad_articles, gnad_raw = read_gnad(Tree(gnad))
    bbc_tree = Tree(bbc)
    bbc_articles, bbc_raw = read_bbc(bbc_tree)
    readme = next((n for n in ("bbc/README.TXT", "README.TXT") if n in bbc_tree.listing()), None)
    raw = {**gnad_raw, **bbc_raw}
    if readme:
        raw["bbc/README.TXT"] = bbc_tree.read_many([readme])[readme]
    sums = digests(raw)
    errors = verify(sums, raw, out / "checksums.sha256")
    if errors:
        raise CorpusError("raw inputs changed:\n  " + "\n  ".join(errors))
    articles, duplicates = dedupe(gnad_articles + bbc_articles)
    order = selection_order(articles)
    if limit is not None:
        if limit > len(order):
            raise CorpusError(f"--articles {limit}: only {len(order)} distinct articles in the inputs "
                              f"({sum(a.language == 'de' for a in order)} German, "
                              f"{sum(a.language == 'en' for a in order)} English); the whole 10kGNAD needs its "
                              f"train.csv (a full `git clone https://github.com/tblock/10kGNAD`)")
        order = order[:limit]
    folder = out / "articles"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {f"{a.ident}.txt" for a in order}
    for stale in folder.glob("*.txt"):
        if stale.name not in wanted:
            stale.unlink()
    for a in order:
        path = folder / f"{a.ident}.txt"
        text = article_file_text(a)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    with open(out / "order.tsv", "w", encoding="utf-8") as handle:
        handle.write("rank\tfile\tlanguage\tsource\tcategory\traw_id\n")
        for rank, a in enumerate(order, 1):
            handle.write(f"{rank}\t{a.ident}.txt\t{a.language}\t{a.source}\t{a.category}\t{a.raw_id}\n")
    bbc_repo = f"{bbc}" if not bbc_tree.git else "https://github.com/moztom/bbc_ml"
    (out / "LICENCES.md").write_text(LICENCES.replace("{bbc_repo}", bbc_repo), encoding="utf-8")
    (out / "checksums.sha256").write_text("".join(f"{d}  {n}\n" for n, d in sums.items()), encoding="utf-8")
    summary = {"articles": len(order), "german": sum(a.language == "de" for a in order),
               "english": sum(a.language == "en" for a in order), "duplicates_dropped": duplicates,
               "raw_files": len(sums), "bbc_digest": bbc_digest(sums),
               "gnad_files": sorted(n for n in sums if n.startswith("10kGNAD/"))}
    (out / "corpus.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def read_order(data: Path) -> list[dict]:
    """order.tsv of a data folder as dicts (for news_scale.py)."""
    path = data / "order.tsv"
    if not path.is_file():
        raise CorpusError(f"no {path}: run benchmarks/news_corpus.py first")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gnad", type=Path, default=REPO / "data" / "raw" / "10kGNAD",
                        help="tblock/10kGNAD: bare git dir or clone (default data/raw/10kGNAD)")
    parser.add_argument("--bbc", type=Path, default=REPO / "data" / "raw" / "bbc_ml",
                        help="repository with bbc/<category>/NNN.txt: bare git dir or clone (default data/raw/bbc_ml)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="data folder (default data/news, not in git)")
    parser.add_argument("--articles", type=int, default=None, help="write only the first N of the selection order")
    args = parser.parse_args()
    try:
        summary = build(args.gnad, args.bbc, args.out, args.articles)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {summary['articles']} articles ({summary['german']} German, {summary['english']} English; "
          f"{summary['duplicates_dropped']} duplicate texts dropped) to {args.out / 'articles'}; "
          f"{summary['raw_files']} raw files checked, BBC digest {summary['bbc_digest'][:16]}...")
    return 0


if __name__ == "__main__":
    sys.exit(main())
