"""Build and re-verify the extractive-QA training files described in README.md (stdlib only).

Why this exists: every training file must be reproducible from a named public source file and
must provably hold no test data. The script never downloads anything: it reads source files
that were copied out of fetched repository snapshots into one folder (named as in SOURCES), checks
their sha256, converts them to SQuAD JSON where needed, drops what fails the checks and writes
gzip files (level 9, no file name, mtime 0).

    python3 build_data.py build  --raw RAW_DIR --out OUT_DIR
    python3 build_data.py verify --data OUT_DIR [--data /work/shared/data/train]

Checks (both commands): every answer satisfies context[start:start+len(text)] == text (a failing
question is dropped by `build` and reported by `verify`); no paragraph whose whitespace-normalised
context equals an XQuAD or MLQA context, and none that is a near-duplicate of one (10-word shingle
containment >= 20 % in either direction); no duplicate question ids; the SQuAD 1.1 part keeps only
ids not already in the shared SQuAD 2.0 partial file.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path

SHARED = Path("/work/shared/data")
XQUAD_FILES = [SHARED / "xquad" / "xquad.de.json", SHARED / "xquad" / "xquad.en.json"]
MLQA_GLOB = "mlqa_*.json.gz"  # the team's own MLQA dev half; any other MLQA copy is banned
SQUAD2_PARTIAL = SHARED / "train" / "squad2_train_PARTIAL_first10articles.json.gz"
SHINGLE = 10
NEAR_DUP = 0.20

# name of the output file (without .json.gz) -> where its source file came from and how it is made
SOURCES: dict[str, dict] = {
    "squadshifts_new_wiki_v1.0": {
        "raw": "squadshifts_new_wiki_v1.0.json",
        "sha256": "1d50a0ca4cdab88d038b52ea8a2d0510af6038d7f41a0a256b9659237769d0ee",
        "repo": "albertvillanova/squadshifts-website",
        "commit": "b7cc4d50af791c36c49417fb94dd739d6a9e7bef",
        "path": "datasets/new_wiki_v1.0.json",
        "licence": "CC BY 4.0 (SQuAD-Shifts, Miller et al. 2020); published as a test set",
        "language": "en",
        "make": "squad",
    },
    "squadshifts_amazon_reviews_v1.0": {
        "raw": "squadshifts_amazon_reviews_v1.0.json",
        "sha256": "9db7bdee84a91f0fb80b9e74f365042fbbb217cb8e0a7e73bb071245472589b6",
        "repo": "albertvillanova/squadshifts-website",
        "commit": "b7cc4d50af791c36c49417fb94dd739d6a9e7bef",
        "path": "datasets/amazon_reviews_v1.0.json",
        "licence": "CC BY 4.0 (SQuAD-Shifts, Miller et al. 2020); published as a test set",
        "language": "en",
        "make": "squad",
    },
    "squadshifts_reddit_v1.0": {
        "raw": "squadshifts_reddit_v1.0.json",
        "sha256": "b4ac346dbf1816fdec80fdcf91d06a4b754fa51e47960fa8614a94f37ea42a4b",
        "repo": "albertvillanova/squadshifts-website",
        "commit": "b7cc4d50af791c36c49417fb94dd739d6a9e7bef",
        "path": "datasets/reddit_v1.0.json",
        "licence": "CC BY 4.0 (SQuAD-Shifts, Miller et al. 2020); published as a test set",
        "language": "en",
        "make": "squad",
    },
    "covidqa_200423_preliminary": {
        "raw": "covidqa_200423.json",
        "sha256": "ab310b4e39f726e087c8fa3d1787c73771dacddc584977204ebe3cc889ee1264",
        "repo": "deepset-ai/COVID-QA",
        "commit": "fb2eb5e249618457e5359806601086c635c8eb8f",
        "path": "data/question-answering/200423_covidQA.json",
        "licence": "Apache-2.0 (repository LICENSE)",
        "language": "en",
        "make": "squad",
    },
    "squad1.1_train_part_ermeba": {
        "raw": "squad1.1_train_truncated_ermeba.json",
        "sha256": "65d8563d3238e8c94b0a255fedbf9e4bda3202054348880ff9817c1952db6fa4",
        "repo": "ermeba/jupiter_bert",
        "commit": "6bed297d8d9c6b390b287f4bfdf8271253313ff1",
        "path": "train-v1.1.json",
        "licence": "CC BY-SA 4.0 (SQuAD); the repository has no licence file",
        "language": "en",
        "make": "truncated_squad",
    },
    "germanquad_train_subset_pfalztrafo": {
        "raw": "pfalztrafo_GermanQuAD_train_filtered.json",
        "sha256": "1763bb5a823b329fe2e1c7f3fd70e46b8e3ed3008d4419f170bc8bf4900e14f5",
        "repo": "Pfalztrafo/Chatbot",
        "commit": "1367a00da76733b0ed713050c003022f58e9baf1",
        "path": "data/GermanQuAD_train_filtered.json",
        "licence": "CC BY 4.0 (GermanQuAD, deepset); the repository has no licence file",
        "language": "de",
        "make": "flat_quad",
    },
    "germandpr_train_subset_pfalztrafo": {
        "raw": "pfalztrafo_GermanDPR_train_filtered.json",
        "sha256": "19e78dddf15723ed884dfc22819a1ab8db4b7184433c3c4d143b87b9d942b8b1",
        "repo": "Pfalztrafo/Chatbot",
        "commit": "1367a00da76733b0ed713050c003022f58e9baf1",
        "path": "data/GermanDPR_train_filtered.json",
        "licence": "CC BY 4.0 (GermanDPR, deepset); the repository has no licence file",
        "language": "de",
        "make": "flat_dpr",
    },
}


# ---------------------------------------------------------------- helpers

def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def norm(text: str) -> str:
    return " ".join(text.split())


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def shingles(text: str) -> set[int]:
    w = words(text)
    if len(w) < SHINGLE:
        return {hash(tuple(w))} if w else set()
    return {hash(tuple(w[i:i + SHINGLE])) for i in range(len(w) - SHINGLE + 1)}


def load_json(path: Path):
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return json.loads(raw.decode("utf-8"))


def paragraphs(data: dict):
    for art in data["data"]:
        for para in art["paragraphs"]:
            yield art, para


class TestContexts:
    """XQuAD (de, en) and the team's MLQA dev half: exact contexts and a shingle index."""

    def __init__(self, xquad: list[Path], mlqa_dirs: list[Path]):
        self.exact: set[str] = set()
        self.sizes: list[int] = []
        self.index: dict[int, list[int]] = {}
        files = [p for p in xquad if p.exists()]
        for d in mlqa_dirs:
            files += sorted(d.glob(MLQA_GLOB))
        if not files:
            raise SystemExit("no test files found: give --xquad / --mlqa-dir")
        self.files = files
        seen: set[str] = set()
        for path in files:
            for _, para in paragraphs(load_json(path)):
                ctx = norm(para["context"])
                if ctx in seen:
                    continue
                seen.add(ctx)
                self.exact.add(ctx)
                sh = shingles(ctx)
                pid = len(self.sizes)
                self.sizes.append(len(sh))
                for s in sh:
                    self.index.setdefault(s, []).append(pid)

    def clash(self, context: str) -> str | None:
        """'exact', 'near' or None for one training context."""
        ctx = norm(context)
        if ctx in self.exact:
            return "exact"
        sh = shingles(ctx)
        if not sh:
            return None
        hits = 0
        per_test: Counter = Counter()
        for s in sh:
            ids = self.index.get(s)
            if ids:
                hits += 1
                per_test.update(ids)
        if hits / len(sh) >= NEAR_DUP:
            return "near"
        if any(n / self.sizes[pid] >= NEAR_DUP for pid, n in per_test.items() if self.sizes[pid]):
            return "near"
        return None


def answer_ok(context: str, ans: dict) -> bool:
    text, start = ans.get("text"), ans.get("answer_start")
    return isinstance(text, str) and isinstance(start, int) and text != "" and context[start:start + len(text)] == text


# ---------------------------------------------------------------- conversions

def from_truncated(raw: bytes) -> dict:
    """A file cut off mid-way: keep the articles that are complete (a prefix of the original)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:  # the cut may split the last character; nothing else may be bad
        if err.start < len(raw) - 4:
            raise
        text = raw[:err.start].decode("utf-8")
    head = re.match(r'\s*\{\s*"data"\s*:\s*\[', text)
    if not head:
        raise ValueError("not a truncated SQuAD file starting with {\"data\": [")
    dec = json.JSONDecoder()
    pos, arts = head.end(), []
    while True:
        while pos < len(text) and text[pos] in " \n\r\t,":
            pos += 1
        try:
            art, pos = dec.raw_decode(text, pos)
        except json.JSONDecodeError:
            break
        arts.append(art)
    return {"version": "1.1", "data": arts}


def from_flat(rows: list[dict], prefix: str, use_negatives: bool) -> tuple[dict, Counter]:
    """Rows {id, question, answer, context, category} -> SQuAD; answer_start is the answer's only
    occurrence in the context (rows whose answer occurs 0 or 2+ times are dropped: the offset
    would be a guess). With use_negatives, GermanDPR hard negatives become unanswerable pairs."""
    stats: Counter = Counter()
    titles: dict[str, dict[str, list]] = {}
    for row in rows:
        ctx, question, answer = row["context"], row["question"], row["answer"]
        cat = row.get("category", "")
        if cat in ("Training", "Positive"):
            n = ctx.count(answer) if answer else 0
            if n != 1:
                stats["dropped_answer_not_unique" if n > 1 else "dropped_answer_not_found"] += 1
                continue
            qa = {"id": f"{prefix}{row['id']}", "question": question,
                  "answers": [{"text": answer, "answer_start": ctx.index(answer)}], "is_impossible": False}
        elif use_negatives and cat == "Hard-Negative" and not answer:
            qa = {"id": f"{prefix}{row['id']}", "question": question, "answers": [], "is_impossible": True}
        else:
            stats[f"dropped_category_{cat}"] += 1
            continue
        title = ctx.split("\n", 1)[0].strip()  # GermanQuAD/GermanDPR contexts start with the article title
        titles.setdefault(title, {}).setdefault(ctx, []).append(qa)
    data = [{"title": t, "paragraphs": [{"context": c, "qas": q} for c, q in paras.items()]}
            for t, paras in titles.items()]
    return {"version": "converted", "data": data}, stats


# ---------------------------------------------------------------- build

def clean(data: dict, tests: TestContexts, banned_ids: set[str], seen_ids: set[str],
          seen_pairs: set[tuple[str, str]]) -> tuple[dict, Counter]:
    """Drop questions with a bad offset, a known id or a (question, context) pair already kept from
    an earlier file, then paragraphs that clash with test data or have no question left, then
    empty articles. Returns the (possibly unchanged) data."""
    stats: Counter = Counter()
    arts = []
    file_pairs: set[tuple[str, str]] = set()
    for art in data["data"]:
        paras = []
        for para in art["paragraphs"]:
            clash = tests.clash(para["context"])
            if clash:
                stats[f"dropped_paragraphs_{clash}_test_overlap"] += 1
                stats["dropped_questions_in_test_overlap_paragraphs"] += len(para["qas"])
                continue
            qas = []
            for qa in para["qas"]:
                qid = str(qa["id"])
                if qid in banned_ids:
                    stats["dropped_questions_id_in_squad2_partial"] += 1
                    continue
                if qid in seen_ids:
                    stats["dropped_questions_duplicate_id"] += 1
                    continue
                impossible = bool(qa.get("is_impossible"))
                answers = qa.get("answers", [])
                if not impossible and (not answers or not all(answer_ok(para["context"], a) for a in answers)):
                    stats["dropped_questions_bad_offset"] += 1
                    continue
                pair = (norm(qa["question"]), norm(para["context"]))
                if pair in seen_pairs:  # only pairs of earlier files: a file's own repeats stay
                    stats["dropped_questions_same_question_and_context_in_earlier_file"] += 1
                    continue
                seen_ids.add(qid)
                file_pairs.add(pair)
                qas.append(qa)
            if qas:
                paras.append(para if len(qas) == len(para["qas"]) else {**para, "qas": qas})
            else:
                stats["dropped_paragraphs_no_question_left"] += 1
        if paras:
            same = len(paras) == len(art["paragraphs"]) and all(a is b for a, b in zip(paras, art["paragraphs"]))
            arts.append(art if same else {**art, "paragraphs": paras})
    seen_pairs.update(file_pairs)
    return {**data, "data": arts}, stats


def counts(data: dict) -> dict:
    q = [qa for _, p in paragraphs(data) for qa in p["qas"]]
    imp = sum(1 for qa in q if qa.get("is_impossible"))
    return {"articles": len(data["data"]), "paragraphs": sum(len(a["paragraphs"]) for a in data["data"]),
            "questions": len(q), "answerable": len(q) - imp, "unanswerable": imp}


def build(args) -> None:
    raw_dir, out = Path(args.raw), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tests = TestContexts([Path(p) for p in args.xquad], [Path(p) for p in args.mlqa_dir])
    banned = {str(qa["id"]) for _, p in paragraphs(load_json(Path(args.squad2_partial))) for qa in p["qas"]}
    report = {}
    seen_pairs: set[tuple[str, str]] = set()  # across files, in SOURCES order
    for name, src in SOURCES.items():
        path = raw_dir / src["raw"]
        if not path.exists():
            print(f"{name}: source {path} missing, skipped", file=sys.stderr)
            continue
        raw = path.read_bytes()
        digest = sha256(raw)
        if src["sha256"] and not digest.startswith(src["sha256"]):
            raise SystemExit(f"{name}: source sha256 {digest} does not match {src['sha256']}")
        stats: Counter = Counter()
        if src["make"] == "squad":
            data = json.loads(raw.decode("utf-8"))
        elif src["make"] == "truncated_squad":
            data = from_truncated(raw)
            stats["source_articles_complete"] = len(data["data"])
        else:
            data, stats = from_flat(json.loads(raw.decode("utf-8")), f"{src['repo'].split('/')[0]}-",
                                    use_negatives=src["make"] == "flat_dpr")
        before = counts(data)
        cleaned, more = clean(data, tests, banned if name.startswith("squad1.1") else set(), set(), seen_pairs)
        stats.update(more)
        unchanged = src["make"] == "squad" and cleaned == data and not more
        body = raw if unchanged else json.dumps(cleaned, ensure_ascii=False).encode("utf-8")
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        (out / f"{name}.json.gz").write_bytes(packed)
        report[name] = {"source_sha256": digest, "byte_identical_to_source": unchanged, "before": before,
                        "after": counts(cleaned), "dropped": dict(stats),
                        "sha256_gz": sha256(packed), "sha256_json": sha256(body), "gz_bytes": len(packed)}
        print(name, json.dumps(report[name], ensure_ascii=False))
    (out / "build_report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- verify

def verify(args) -> None:
    tests = TestContexts([Path(p) for p in args.xquad], [Path(p) for p in args.mlqa_dir])
    print("test contexts from:", ", ".join(str(p) for p in tests.files), f"({len(tests.sizes)} distinct)")
    files = sorted(p for d in args.data for p in Path(d).glob("*.json.gz"))
    contexts: dict[str, set[str]] = {}
    ids: dict[str, set[str]] = {}
    bad = 0
    for path in files:
        raw = path.read_bytes()
        body = gzip.decompress(raw)
        data = json.loads(body.decode("utf-8"))
        c = counts(data)
        offsets = dup = 0
        clash: Counter = Counter()
        qids: list[str] = []
        is_mlqa = path.name.startswith("mlqa_")
        for _, para in paragraphs(data):
            if not is_mlqa:  # MLQA files are the test index themselves
                k = tests.clash(para["context"])
                if k:
                    clash[k] += 1
            for qa in para["qas"]:
                qids.append(str(qa["id"]))
                if not qa.get("is_impossible") and not all(answer_ok(para["context"], a) for a in qa["answers"]):
                    offsets += 1
        dup = len(qids) - len(set(qids))
        contexts[path.name] = {norm(p["context"]) for _, p in paragraphs(data)}
        ids[path.name] = set(qids)
        bad += offsets + dup + sum(clash.values())
        print(f"{path.name}: {c} bad_offsets={offsets} duplicate_ids={dup} "
              f"test_overlap(exact={clash['exact']}, near={clash['near']}) "
              f"sha256_gz={sha256(raw)} sha256_json={sha256(body)}")
    names = sorted(contexts)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            shared_c, shared_q = len(contexts[a] & contexts[b]), len(ids[a] & ids[b])
            if shared_c or shared_q:
                print(f"overlap {a} / {b}: {shared_c} contexts, {shared_q} question ids")
    if bad:
        raise SystemExit(f"{bad} problems found")
    print("all checks passed")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for cmd in ("build", "verify"):
        p = sub.add_parser(cmd)
        p.add_argument("--xquad", nargs="+", default=[str(p) for p in XQUAD_FILES])
        p.add_argument("--mlqa-dir", nargs="+", default=[str(SHARED / "train")])
        if cmd == "build":
            p.add_argument("--raw", required=True, help="folder with the source files named as in SOURCES")
            p.add_argument("--out", required=True)
            p.add_argument("--squad2-partial", default=str(SQUAD2_PARTIAL))
        else:
            p.add_argument("--data", nargs="+", required=True, help="folders of *.json.gz to check")
    args = ap.parse_args()
    build(args) if args.cmd == "build" else verify(args)


if __name__ == "__main__":
    main()
