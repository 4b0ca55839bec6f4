"""Build the news corpus for `news_scale.py`: German articles from 10kGNAD (DER STANDARD),
English ones from the BBC News set and from Reuters-21578, one text file per article, in a data
folder outside git.

    python3 benchmarks/news_corpus.py --gnad PATH --bbc PATH --reuters PATH [--out data/news] [--articles N]

PATH is either a bare git directory of the repository (what the `fetch` tool or
`git clone --bare` leaves: files are read from its HEAD) or a plain folder (a `git clone`):

- `--gnad`: github.com/tblock/10kGNAD; its `train.csv` and `test.csv` (or `articles.csv`) hold
  `label;text` rows quoted with `'`. Every CSV present at the top of the repository is read
  (`articles.csv` only when neither split is there, since it holds the same articles).
- `--bbc`: a repository that holds the BBC News set as `bbc/<category>/NNN.txt` (first line the
  title, then the paragraphs), e.g. github.com/moztom/bbc_ml. A folder given directly as
  `<category>/NNN.txt` works too.
- `--reuters`: a repository or folder that holds the 22 SGML files of Reuters-21578,
  Distribution 1.0 (`reut2-000.sgm` ... `reut2-021.sgm`, in one folder at any depth, with the
  collection's `README.txt` beside them), e.g. github.com/colibri17/TextCategorization
  (`reuters21578/`, the files as distributed; pinned below).

With internet: `git clone https://github.com/tblock/10kGNAD data/raw/10kGNAD`,
`git clone https://github.com/moztom/bbc_ml data/raw/bbc_ml` and
`git clone https://github.com/colibri17/TextCategorization data/raw/reuters21578` (the defaults
of --gnad / --bbc / --reuters), or the collection from
https://archive.ics.uci.edu/dataset/137/reuters+21578+text+categorization+collection unpacked
into a folder.

Output (`--out`, default `data/news/`, ignored by git):
    articles/*.txt    one article a file, as the assistant reads them (assistant/ingest/sources.py):
                      plain UTF-8 text; BBC files keep their first line as the title and their
                      blank-line paragraphs; a 10kGNAD row is one paragraph (the subheading, then
                      the body: the CSV has no title and no paragraph breaks). Neither of these
                      two sets gives per-article dates (10kGNAD: 2015-2016, BBC: 2004-2005), so
                      they have no date line. A Reuters story is written like a BBC file: its
                      <TITLE> as the first line, then its <DATE> as a line "26 February 1987"
                      (the ingest reads it with `first_date_in_text`, assistant/ingest/dates.py),
                      then the <BODY> paragraphs, the first one opening with the story's
                      <DATELINE> ("CLEVELAND, Feb 26 - Standard Oil Co and ..."); see
                      `parse_reuters`.
    order.tsv         every article in selection order: rank, file, language, source, category,
                      raw id. The first N rows are the N-article subset, so the 100-article
                      subset lies inside the 1,000 one, which lies inside the 20,000 one.
    corpus.json       counts (by language and source), duplicates and stubs dropped, and the
                      order's rule with the rank range of each part.
    LICENCES.md       each source, its licence and address.
    checksums.sha256  sha256 of each raw input file (`sha256sum -c` format, paths as in the repos;
                      the Reuters files as `reuters21578/<name>`).

Raw inputs are checked on every run: against the digests pinned below (a mismatch stops the
run) and against `checksums.sha256` of an earlier run in the same --out (a changed input is an
error, not a silently different corpus). Inputs not pinned here (for instance a full clone's
`train.csv`, absent from the mirror this was built with) are reported and recorded.

Selection, in two parts (the first part is the order this script wrote before Reuters was
added, unchanged, so the questions about its articles stay inside the same sizes):

1. 10kGNAD and BBC: articles ordered within each language by sha256(seed:id), exact duplicate
   texts dropped (the BBC set repeats about a hundred stories), and the languages interleaved so
   that the first N hold round(0.7775 x N) German articles (10,000 = 7,775 German + 2,225
   English); once the German articles run out, the rest of this part is English.
2. Then every kept Reuters-21578 story (English, 1987), ordered by sha256(seed:id), stories
   whose body repeats an earlier story's body word for word dropped (the lowest NEWID kept).

With the mirrored data (10kGNAD's `test.csv` only) part 1 is 3,153 articles, so sizes up to
3,153 hold German and BBC articles only, and larger ones add Reuters stories after them.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import html
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
REUTERS_FILES = tuple(f"reut2-{number:03d}.sgm" for number in range(22))
# A Reuters <BODY> needs this many words (after the signature is cut) to be kept: the few shorter
# ones are a bare number ("1010"), a place ("New York") or a one-line notice; a 5-word one such as
# "None posted, Total todate 146." is the shortest kept. Dividend and earnings tables ("Qtly div
# 25 cts vs 25 cts prior / Pay April 30 / Record April 16", under a headline naming the company)
# are real stories and stay.
MIN_REUTERS_BODY_WORDS = 5

# sha256 of the raw files this corpus was built from (tblock/10kGNAD at da845fe, moztom/bbc_ml at
# c73a475, colibri17/TextCategorization at b6c2ca3, folder reuters21578/). The BBC folder is pinned
# as one digest over its sorted "sha256  path" lines. The Reuters files are the distribution's
# (reut2-000.sgm 1,324,350 bytes ... reut2-021.sgm 621,648); two other stored copies hold an
# edited reut2-000.sgm (SilasKal/COMP479_Project3: one letter changed, one byte gone) or edited
# files (MateuszKeller/KSR: each paragraph's four-space indent rewritten as "&" and a tab), and
# are refused here.
PINNED = {
    "10kGNAD/test.csv": "68ba71a01919261f36b362b6a31e7fa34255dde102a5586db23d72eae2e41514",
    "bbc/README.TXT": "a72bbd998060e438a1c3943758a641735a6370e1a8f43f6f6a8a5459d7c34b13",
    "bbc/*.txt": "b937f79b10e00a8bb2877f383b61ebbb536cb6ee387c9d9929731d4abee6b548",
    "reuters21578/README.txt": "eb669045dd883c56cb5a96da1848c3380bc6371894c5663709a46776e3262a96",
    "reuters21578/reut2-000.sgm": "0ec53cda8f6d605a3ba710df14be7f00fc02f0c222a14748101df22326afe0f6",
    "reuters21578/reut2-001.sgm": "1528e7e82d110d88d0234eb9619eadb7f9fd805711971df05975b92277dfdf4d",
    "reuters21578/reut2-002.sgm": "99f18068d0518952987dedd78c622e5c2a584e357d264d3754696c815f3e6628",
    "reuters21578/reut2-003.sgm": "78a3a8d7e04bc9d42c4614d5d5c60a4293dbe3f708df6fb5a71d9ef31f4b3fa3",
    "reuters21578/reut2-004.sgm": "726342c19a65873330b412378cd6a3f0d512035f5223146ddd60930c62eb6ff0",
    "reuters21578/reut2-005.sgm": "d09de619b6dd2d047d5124681f6df90550abaf592020d1c1ce338ae9b91522e7",
    "reuters21578/reut2-006.sgm": "b5535c0d66b01f4976f84621a4a795afbc00d2c4bd0a1b7ae426df6630fb361d",
    "reuters21578/reut2-007.sgm": "aa706007ec84a03537a3921ca976d60e11b3f99e4b9e9b2d5c81dd384d2c2062",
    "reuters21578/reut2-008.sgm": "a3994583694a00b7c744097c1d7eabfcf90f2e6650cc21663e46828035a336cb",
    "reuters21578/reut2-009.sgm": "29995f606dd1a9bdf907eacc9d879846c716860d9d9141676979474aaea39c7d",
    "reuters21578/reut2-010.sgm": "996df6008089bd09fa5b28a4d2eb0ee5f7b9d4601cde566fed3926ac82960fa3",
    "reuters21578/reut2-011.sgm": "d3a2782015247d9c2bffb8926267827fdd449c70d619435ef01a25a1c56a53ca",
    "reuters21578/reut2-012.sgm": "da31035d483851f2aebce5b66d779e5e2c0ac9dcfe098596c6d544e81c5604ab",
    "reuters21578/reut2-013.sgm": "8f7700bc0455fac3fcc12377ced4807b7df8aba1f21ecad059b9cc2b1cf0b8be",
    "reuters21578/reut2-014.sgm": "ef936bd3e0f36cf722afa9a6957563549775af32e9e28b4f539c8737ceda83ab",
    "reuters21578/reut2-015.sgm": "6d3bcec73eff871b8a5403588af814c4e50a0de6bc25707480522ab836f74026",
    "reuters21578/reut2-016.sgm": "be2f03a185fff70131f3b4fdbd6229b7ee2be077eba9691eaa597c8cfbda8812",
    "reuters21578/reut2-017.sgm": "f370e610b4b1342e41a98e0c426a08541044bd1d7e539674f32372a6060b73b5",
    "reuters21578/reut2-018.sgm": "a5f971bf25448e915781962309e669359a35fbcaf3017a806eca0590897f209a",
    "reuters21578/reut2-019.sgm": "d3b07097fba2633d130b4914aceba671645985248943ce9e39c289315339dffb",
    "reuters21578/reut2-020.sgm": "f6ad1b724125c202566c63b35ea0b5ee23881f8b7ed47a32829d5af05d8e860d",
    "reuters21578/reut2-021.sgm": "3f5196d32869723c9042aa5756805b4e90360f1f45ea17f4594fa0e2b3630b18",
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

## English: Reuters-21578, Distribution 1.0 (Reuters newswire, 1987)

- David D. Lewis, "Reuters-21578 text categorization test collection, Distribution 1.0",
  README file (v 1.2), 26 September 1997. The collection is now kept at the UCI Machine Learning
  Repository: https://archive.ics.uci.edu/dataset/137/reuters+21578+text+categorization+collection
  (DOI 10.24432/C52G6M); the README names David D. Lewis' home page, then
  http://www.research.att.com/~lewis.
- Copy used: {reuters_repo} (the 22 `reut2-NNN.sgm` files and `README.txt` as distributed).
- Terms, as the collection's README.txt states them (section II, "Copyright & Notification"):
  "The copyright for the text of newswire articles and Reuters annotations in the Reuters-21578
  collection resides with Reuters Ltd. Reuters Ltd. and Carnegie Group, Inc. have agreed to
  allow the free distribution of this data *for research purposes only*. If you publish results
  based on this data set, please acknowledge its use, refer to the data set by the name
  "Reuters-21578, Distribution 1.0", and inform your readers of the current location of the data
  set (see "Availability & Questions")." Use for research benchmarks only.
- Files: `en_reuters_<NEWID>.txt` (NEWID, the collection's story id, five digits).
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


_REUTERS_FILE = re.compile(r"^(?:(.*)/)?(reut2-\d{3}\.sgm)$")
_REUTERS_ELEMENT = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.DOTALL)
_NEWID = re.compile(r'\bNEWID="(\d+)"')
_REUTERS_DATE = re.compile(r"^\s*(\d{1,2})-([A-Za-z]{3})-(\d{4})\b")
# The story's last line when it only signs it off: "Reuter" (also REUTER, Reuters, "REUTER...",
# "Reuter4", the misspelt REUITER / REUETER / RUTER, the cut "REUTE", with or without an
# operator's initials: "REUTER TAW") or the continuation mark "More" of a story sent in parts;
# one story signs twice ("REUTER", then "Reuter").
_REUTERS_SIGNATURE = re.compile(
    r"(?:\n[ \t]*(?:(?:re?u[ie]?e?ter[s.\d]*|reute)(?:[ \t]+[a-z]{1,3})?|more)[ \t]*)+\Z", re.IGNORECASE)
# What is left after the entities are decoded and is not printable ASCII: control characters and
# one stray byte (0xFC in reut2-017.sgm, line noise beside "&#5;&#30;"); also "^M", a carriage
# return written out in caret notation (36 times, "REUTER...^M", "<Pratt^M").
_REUTERS_NOISE = re.compile(r"[^\x20-\x7e\n]|\^M")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


@dataclass(frozen=True)
class ReutersStory:
    """One kept story of a reut2-NNN.sgm file, its text fields cleaned (see `parse_reuters`)."""

    newid: int
    file: str
    title: str
    date: str  # "26 February 1987": a date line `first_date_in_text` reads
    dateline: str  # "CLEVELAND, Feb 26 -" or "" (where and when it was filed)
    paragraphs: tuple[str, ...]  # the <BODY>, one string a paragraph, lines joined
    topics: tuple[str, ...]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)

    def text(self) -> str:
        """The article file: title, date line, then the body with the dateline opening it."""
        first = f"{self.dateline} {self.paragraphs[0]}" if self.dateline else self.paragraphs[0]
        return "\n\n".join((self.title, self.date, first, *self.paragraphs[1:]))


def _sgml_text(raw: str) -> str:
    """Character data of an SGML element as plain text. `html.unescape` decodes the references
    the collection uses (&lt; &amp; &#N;) by the HTML5 rules, which map the control-character
    references (&#2; &#3; &#5; &#22; &#127; ...) to nothing; a stray byte left is dropped."""
    return _REUTERS_NOISE.sub("", html.unescape(raw.replace("\t", " ")))


def _element(name: str, inner: str) -> str | None:
    found = re.search(rf"<{name}>(.*?)</{name}>", inner, re.DOTALL)
    return found.group(1) if found else None


def _reuters_paragraphs(body: str) -> tuple[str, ...]:
    """Paragraphs of a <BODY>: a new one starts at an indented line or after a blank line (the
    newswire indents each paragraph's first line and wraps the rest at about 65 characters);
    lines are joined with a space and runs of spaces (table columns) closed up."""
    paragraphs: list[list[str]] = [[]]
    for line in body.split("\n"):
        if not line.strip() or line[:1].isspace():
            if paragraphs[-1]:
                paragraphs.append([])
        if line.strip():
            paragraphs[-1].append(line)
    return tuple(" ".join(" ".join(lines).split()) for lines in paragraphs if lines)


def reuters_date(raw: str, where: str) -> str:
    """ "26-FEB-1987 15:01:01.79" (a <DATE>, maybe with noise after it) -> "26 February 1987"."""
    found = _REUTERS_DATE.match(raw)
    months = [m[:3].upper() for m in _MONTHS]
    if not found or found.group(2).upper() not in months:
        raise CorpusError(f"{where}: unreadable <DATE> {raw.strip()!r}")
    day, month, year = int(found.group(1)), months.index(found.group(2).upper()) + 1, int(found.group(3))
    try:
        datetime.date(year, month, day)
    except ValueError:
        raise CorpusError(f"{where}: no such day in <DATE> {raw.strip()!r}") from None
    return f"{day} {_MONTHS[month - 1]} {year}"


def parse_reuters(sgml: str, file: str) -> tuple[list[ReutersStory], dict[str, int]]:
    """The stories of one reut2-NNN.sgm file and how many were left out, by reason.

    A story is kept when it has a <BODY> with at least MIN_REUTERS_BODY_WORDS words once its
    signature is cut. Left out: "no body", the <TEXT TYPE="BRIEF"> one-liners (a headline over
    "Blah blah blah.") and the <TEXT TYPE="UNPROC"> stories the collection could not structure;
    "short body", a body of a bare number, a place or a one-line notice. Each text field has its
    entities decoded and control characters dropped (`_sgml_text`); the body loses its last line
    when that only signs the story off ("Reuter", "REUTER...", "More": `_REUTERS_SIGNATURE`).
    """
    stories, skipped = [], {"no body": 0, "short body": 0}
    for element in _REUTERS_ELEMENT.finditer(sgml):
        attributes, inner = element.groups()
        newid = _NEWID.search(attributes)
        if not newid:
            raise CorpusError(f"{file}: a <REUTERS> element without NEWID: {attributes.strip()!r}")
        where = f"{file} NEWID {newid.group(1)}"
        body = _element("BODY", inner)
        if body is None:
            skipped["no body"] += 1
            continue
        body = _REUTERS_SIGNATURE.sub("", _sgml_text(body).rstrip())
        paragraphs = _reuters_paragraphs(body)
        if sum(len(p.split()) for p in paragraphs) < MIN_REUTERS_BODY_WORDS:
            skipped["short body"] += 1
            continue
        title = " ".join(_sgml_text(_element("TITLE", inner) or "").split())
        if not title:
            raise CorpusError(f"{where}: a story with a <BODY> but no <TITLE>")
        date = reuters_date(_element("DATE", inner) or "", where)
        dateline = " ".join(_sgml_text(_element("DATELINE", inner) or "").split())
        topics = tuple(re.findall(r"<D>(.*?)</D>", _element("TOPICS", inner) or ""))
        stories.append(ReutersStory(int(newid.group(1)), file, title, date, dateline, paragraphs, topics))
    return stories, skipped


def first_of_each_text(items: list, order, text) -> tuple[list, int]:
    """Items in `order`, each dropped when its text (whitespace aside) repeats an earlier one's
    word for word; and how many were dropped."""
    seen, kept = set(), []
    for item in sorted(items, key=order):
        fingerprint = hashlib.sha256(" ".join(text(item).split()).encode()).hexdigest()
        if fingerprint not in seen:
            seen.add(fingerprint)
            kept.append(item)
    return kept, len(items) - len(kept)


def dedupe_stories(stories: list[ReutersStory]) -> tuple[list[ReutersStory], int]:
    """Stories whose body (dateline aside) repeats an earlier one word for word are dropped; the
    lowest NEWID of each body is kept."""
    return first_of_each_text(stories, lambda s: s.newid, lambda s: s.body)


def read_reuters(tree: Tree) -> tuple[list[ReutersStory], dict[str, bytes], dict[str, int]]:
    """Every kept story of the 22 files (one folder of the tree holds them all), the raw files
    under `reuters21578/` (README.txt included when it is there) and the counts left out."""
    folders: dict[str, set[str]] = {}
    for name in tree.listing():
        found = _REUTERS_FILE.match(name)
        if found:
            folders.setdefault(found.group(1) or "", set()).add(found.group(2))
    complete = sorted(folder for folder, names in folders.items() if names >= set(REUTERS_FILES))
    if not complete:
        seen = ", ".join(f"{folder or '.'}: {len(names)}" for folder, names in sorted(folders.items())) or "none"
        raise CorpusError(f"no folder in {tree.path} holds all 22 Reuters-21578 files reut2-000.sgm ... "
                          f"reut2-021.sgm (found per folder: {seen})")
    if len(complete) > 1:
        raise CorpusError(f"several folders in {tree.path} hold the Reuters-21578 files ({', '.join(complete)}); "
                          f"give the one to use as --reuters")
    prefix = f"{complete[0]}/" if complete[0] else ""
    names = [prefix + n for n in REUTERS_FILES]
    readme = next((prefix + n for n in ("README.txt", "README.TXT") if prefix + n in tree.listing()), None)
    data = tree.read_many(names + ([readme] if readme else []))
    raw = {f"reuters21578/{name.removeprefix(prefix)}": content for name, content in data.items()}
    if readme:
        raw["reuters21578/README.txt"] = raw.pop(f"reuters21578/{readme.removeprefix(prefix)}")
    else:
        print(f"note: no README.txt beside the Reuters files in {tree.path}; its digest is not checked",
              file=sys.stderr)
    stories, skipped = [], {}
    for name in REUTERS_FILES:
        # The files are 7-bit ASCII but for one stray byte: latin-1 reads any byte, and
        # `_sgml_text` drops what is not printable ASCII.
        found, left_out = parse_reuters(raw[f"reuters21578/{name}"].decode("latin-1"), name)
        stories.extend(found)
        for reason, count in left_out.items():
            skipped[reason] = skipped.get(reason, 0) + count
    return stories, raw, skipped


def reuters_article(story: ReutersStory) -> RawArticle:
    return RawArticle(f"en_reuters_{story.newid:05d}", "en", "Reuters-21578", ",".join(story.topics) or "none",
                      f"{story.file}:NEWID={story.newid}", story.text())


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
    return first_of_each_text(articles, lambda a: a.ident, lambda a: a.text)


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


def build(gnad: Path, bbc: Path, reuters: Path, out: Path, limit: int | None) -> dict:
    gnad_articles, gnad_raw = read_gnad(Tree(gnad))
    bbc_tree = Tree(bbc)
    bbc_articles, bbc_raw = read_bbc(bbc_tree)
    readme = next((n for n in ("bbc/README.TXT", "README.TXT") if n in bbc_tree.listing()), None)
    reuters_tree = Tree(reuters)
    stories, reuters_raw, stubs = read_reuters(reuters_tree)
    raw = {**gnad_raw, **bbc_raw, **reuters_raw}
    if readme:
        raw["bbc/README.TXT"] = bbc_tree.read_many([readme])[readme]
    sums = digests(raw)
    errors = verify(sums, raw, out / "checksums.sha256")
    if errors:
        raise CorpusError("raw inputs changed:\n  " + "\n  ".join(errors))
    articles, duplicates = dedupe(gnad_articles + bbc_articles)
    stories, story_duplicates = dedupe_stories(stories)
    first_part = selection_order(articles)
    order = first_part + sorted((reuters_article(s) for s in stories), key=_key)
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
    reuters_repo = (f"{reuters}" if not reuters_tree.git
                    else "https://github.com/colibri17/TextCategorization, folder `reuters21578/`")
    (out / "LICENCES.md").write_text(LICENCES.replace("{bbc_repo}", bbc_repo).replace("{reuters_repo}", reuters_repo),
                                     encoding="utf-8")
    (out / "checksums.sha256").write_text("".join(f"{d}  {n}\n" for n, d in sums.items()), encoding="utf-8")
    first_written = min(len(first_part), len(order))
    summary = {"articles": len(order), "german": sum(a.language == "de" for a in order),
               "english": sum(a.language == "en" for a in order),
               "by_source": {source: sum(a.source == source for a in order)
                             for source in ("10kGNAD", "BBC News", "Reuters-21578")},
               "duplicates_dropped": duplicates, "reuters_duplicates_dropped": story_duplicates,
               "reuters_left_out": stubs, "raw_files": len(sums), "bbc_digest": bbc_digest(sums),
               "gnad_files": sorted(n for n in sums if n.startswith("10kGNAD/")),
               "order": {
                   "seed": SEED, "german_share": GERMAN_SHARE,
                   "parts": [
                       {"ranks": [1, first_written], "sources": ["10kGNAD", "BBC News"],
                        "rule": "each language by sha256(seed:id), interleaved so the first N hold "
                                "round(german_share x N) German articles while there are German ones left"},
                       {"ranks": [first_written + 1, len(order)], "sources": ["Reuters-21578"],
                        "rule": "by sha256(seed:id)"},
                   ]}}
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
    parser.add_argument("--reuters", type=Path, default=REPO / "data" / "raw" / "reuters21578",
                        help="folder or repository with the 22 reut2-NNN.sgm files of Reuters-21578: bare git dir "
                             "or clone (default data/raw/reuters21578)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="data folder (default data/news, not in git)")
    parser.add_argument("--articles", type=int, default=None, help="write only the first N of the selection order")
    args = parser.parse_args()
    try:
        summary = build(args.gnad, args.bbc, args.reuters, args.out, args.articles)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sources = ", ".join(f"{count} {source}" for source, count in summary["by_source"].items())
    left_out = ", ".join(f"{count} {reason}" for reason, count in summary["reuters_left_out"].items())
    print(f"wrote {summary['articles']} articles ({summary['german']} German, {summary['english']} English: "
          f"{sources}) to {args.out / 'articles'}; dropped {summary['duplicates_dropped']} duplicate 10kGNAD/BBC "
          f"texts and {summary['reuters_duplicates_dropped']} duplicate Reuters bodies, left out Reuters stories "
          f"({left_out}); {summary['raw_files']} raw files checked, BBC digest {summary['bbc_digest'][:16]}...")
    return 0


if __name__ == "__main__":
    sys.exit(main())
