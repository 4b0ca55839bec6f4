"""Fit every answering choice on the development split, never on XQuAD (which is only reported).

The corpora of benchmarks/dev_set.py (held-out training articles: German and English Wikipedia
paragraphs asked in both languages; questions about left-out articles expect a refusal) go
through the product's own steps:

1. first stage: every candidate sentence's quote features (answer/candidates.py); the quote
   weights are refitted listwise and the similarity-only refusal thresholds recalibrated, for
   the question's language and for another (_fitting.py);
2. second stage, with those weights: the answer model reads each question's best READ (12)
   sentences (answer/reading.py read_features); a logistic model over READER_FEATURES gives the
   probability that a sentence holds the answer, fitted for 4, 6, 8 and 12 sentences read, and
   the fewest within a point of the best first-quote figure is shipped (`candidates`). Its figures are
   held out: 5 folds grouped by article, so every question is scored by a model that never
   saw its article. Every language pair counts the same, in the fit and in the choices (the
   split holds far more English-English questions than questions over German text); the
   thresholds are chosen on those held-out probabilities:
   - `refuse_below`: the best balanced accuracy (answerable questions answered, unanswerable
     refused: near misses and questions about left-out articles counting the same) that refuses
     at most MAX_FALSE_REFUSAL of answerable questions (means of the pairs);
   - `keep_share`: a further quote is shown only when it is at least this share as likely to hold
     the answer as the first (SECONDARY_PRECISION of the kept ones do), so no filler quotes;
   - `short_answer` (a ShortAnswerGate per text language, through the product's own rule
     ReaderPolicy.allows_short_answer): the bold short answer is shown only where at least
     SHORT_ANSWER_PRECISION of those shown over that language's text are right, counted as
     `assistant eval` counts them (the span holds an accepted answer: metrics.contains_answer),
     as often as that allows; a language where no bar reaches it gets none (shown nowhere).

    .venv/bin/python benchmarks/dev_set.py --out benchmarks/.work/dev
    .venv/bin/python benchmarks/fit_answer_policy.py [--dev benchmarks/.work/dev] [--weights DIR]
        [--keep-readings FILE | --from-readings FILE]   (read once, choose again without the model)
    .venv/bin/python benchmarks/fit_answer_policy.py --from-readings FILE --gates-only
        (only the short-answer gates chosen again, by the rule below, for the shipped policy)
    .venv/bin/python benchmarks/fit_answer_policy.py --from-readings FILE --lead-only
        (only cross_language_lead chosen again, as step 2 chooses it, for the shipped policy)

Prints the figures and the settings to ship; writes results/fit_answer_policy.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
from collections import Counter
from pathlib import Path

import numpy as np
from _common import REPO, table, write_result
from _fitting import fit_listwise, recommend, sweep
from sklearn.linear_model import LogisticRegression

from assistant import Assistant
from assistant.answer.abstention import names_what_is_asked
from assistant.answer.candidates import SimilarityFirstStage
from assistant.answer.reading import AnswerModelReading, any_in_question_language, reading_order
from assistant.answer.scoring import fits_the_question
from assistant.answer.selection import SpanAnswer, another_article_disagrees, further_quote_floor
from assistant.config import (FEATURES, READER_FEATURES, READER_WEIGHTS_DIR, ReaderPolicy, Settings,
                              ShortAnswerGate,
                              Weights, load_reader_policy, weights_digest, write_reader_policy)
from assistant.environment import settings_from_env
from assistant.models.embedding import query_identity
from assistant.evaluation.metrics import contains_answer, token_f1

FOLDS = 5
READ = 12  # sentences read per question while fitting (the shipped number is chosen from them)
MAX_FALSE_REFUSAL = 0.08
# A further quote is shown when it is at least keep_share as likely as the first, the share at
# which one in four of the further quotes shown hold the answer: they rescue some answers whose
# first quote is wrong. On the development split (the index format 4 fit, 6 read, mean of the
# pairs) a share of the first beat an absolute bar: a share of 0.5 gave 0.75 of answers a quote
# holding the answer with 0.61 further quotes an answer (26% of them right), a bar of 0.234 gave
# 0.69 with 0.41 (23% right). The format 5 refit (shipped) chose 0.3: 0.80 further quotes an answer.
SECONDARY_PRECISION = 0.25
# At least 85% of the bold short answers shown must be right, over German text and over English
# text each (a gate per text language, never pooled): a wrong one costs more than none. 0.9 was
# out of reach for the first answer model (its precision levelled off at 0.85-0.86 whatever the
# thresholds, and the highest-precision corner showed almost nothing).
SHORT_ANSWER_PRECISION = 0.85
TEXT_LANGUAGES = ("de", "en")
# How many times as likely as the first stage's best the model's likeliest sentence must be to go
# first when no sentence read is in the question's language (ReaderPolicy.cross_language_lead):
# 1.0 is the model's order, None the first stage's.
LEAD_FACTORS = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, None)
MAX_QUOTES = Settings().max_quotes  # what an answer shows at most, as the product does


def load_questions(corpus: Path) -> list[dict]:
    with open(corpus / "questions.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def open_corpus(corpus: Path, settings) -> Assistant:
    """The corpus's assistant, its index built (or brought up to date) in corpus/index."""
    return Assistant(settings=settings.with_paths(corpus / "sources", corpus / "index"), update=True, progress=True)


def first_stage(assistant: Assistant, rows: list[dict]) -> list[dict]:
    stage, view = SimilarityFirstStage.of(assistant.snapshot), assistant.snapshot.view
    items = []
    for row in rows:
        retrieved = stage.retrieve(row["question"])
        features = stage.features(retrieved)
        texts = [view.text(s.article_id, s.start, s.end) for s in features.sentences]
        labels = np.array([bool(row["answer"]) and contains_answer(t, row["answer"]) for t in texts], dtype=bool)
        same = np.array([view.articles[s.article_id].language == retrieved.language
                         for s in features.sentences], dtype=bool)
        items.append({"x": features.values, "y": labels, "same": same, "row": row})
    return items


def thresholds(items: list[dict], weights: np.ndarray) -> tuple[float, float, dict]:
    """Similarity-only refusal thresholds (same language, other language) for these weights."""
    chosen = {}
    for same in (True, False):
        answerable, unanswerable = [], []
        for item in items:
            if not len(item["x"]):
                continue
            scores = item["x"] @ weights
            top = int(np.argmax(scores))
            if bool(item["same"][top]) != same:
                continue
            (answerable if item["row"]["answer"] else unanswerable).append(scores[top])
        chosen[same] = recommend(sweep(np.array(answerable), np.array(unanswerable)))
    return chosen[True]["threshold"], chosen[False]["threshold"], chosen


def second_stage(assistant: Assistant, rows: list[dict]) -> list[dict]:
    first, reading = SimilarityFirstStage.of(assistant.snapshot), AnswerModelReading.of(assistant.snapshot)
    view = assistant.snapshot.view
    items = []
    for row in rows:
        retrieved = first.retrieve(row["question"])
        read, features = reading.read_features(retrieved, reading.to_read(first.rank(retrieved)))
        texts = [view.text(c.article_id, c.start, c.end) for c in read]
        spans = [view.text(c.article_id, c.span.start, c.span.end) if c.span else "" for c in read]
        labels = np.array([bool(row["answer"]) and contains_answer(t, row["answer"]) for t in texts], dtype=bool)
        f1 = np.array([max((token_f1(s, a) for a in row["answer"]), default=0.0) if s else 0.0 for s in spans])
        items.append({"x": features, "y": labels, "f1": f1, "spans": spans, "row": row,
                      "articles": [c.article_id for c in read],
                      "languages": [view.articles[c.article_id].language for c in read],
                      "names_asked": np.array([names_what_is_asked(reading.abstention, view, row["question"], retrieved.language, c)
                                               for c in read], dtype=bool)})
    return items


def group_of(row: dict) -> str:
    return row.get("source") or row.get("left_out") or row.get("near_miss") or row["id"]


def unanswerable_kind(row: dict) -> str:
    """A near miss (its article indexed without the answer: dev_set.py) or a question about an
    article left out of the index (or SQuAD 2.0's unanswerable questions)."""
    return "near miss" if row.get("near_miss") else "left out"


def folds_by_article(items: list[dict]) -> dict[str, int]:
    """Each item's group (group_of: its article) to one of FOLDS folds, the same every run."""
    groups = sorted({group_of(i["row"]) for i in items})
    return {g: n % FOLDS for n, g in enumerate(np.random.default_rng(13).permutation(groups))}


def held_out_probabilities(items: list[dict], k: int) -> None:
    """Each item's 'p' from a logistic model fitted on the other folds (grouped by article)."""
    fold_of = folds_by_article(items)
    for fold in range(FOLDS):
        model = fit_logistic([i for i in items if fold_of[group_of(i["row"])] != fold], k)
        for item in items:
            if fold_of[group_of(item["row"])] == fold and len(item["x"]):
                item["p"] = model.predict_proba(item["x"][:k])[:, 1]


def pair_shares(items: list[dict]) -> dict[str, float]:
    """Each language pair's weight per question, so that every pair counts the same: the
    development split has far more English-English questions than German text, and a fit
    that follows the majority refuses German questions (on the first fit, 20-23% of the
    answerable questions over German text against 3% of English ones)."""
    counts = Counter(item["row"]["pair"] for item in items)
    return {pair: len(items) / (len(counts) * n) for pair, n in counts.items()}


def fit_logistic(items: list[dict], k: int) -> LogisticRegression:
    items = [i for i in items if len(i["x"])]
    share = pair_shares(items)
    x = np.concatenate([i["x"][:k] for i in items])
    y = np.concatenate([i["y"][:k] for i in items])
    weight = np.concatenate([np.full(len(i["x"][:k]), share[i["row"]["pair"]]) for i in items])
    return LogisticRegression(C=1.0, max_iter=1000).fit(x, y, sample_weight=weight)


def outcome(item: dict, policy: ReaderPolicy) -> dict:
    """What the product would show for this question under `policy` (its held-out 'p'), through
    the product's own rules (refusal, further quotes, the short-answer gate, another article's
    different answer, no answer from an article that cannot answer what the question names:
    readings kept before that rule lack "names_asked" and count every sentence). Not repeated
    here: the conflict of sure answers (answer/conflict.py, which needs the articles' titles and
    dates), which never fired on the shipped questions."""
    p = item.get("p", np.zeros(0))
    if len(p) and "names_asked" in item:  # abstention.names_what_is_asked: such a sentence never answers
        p = np.where(item["names_asked"][:len(p)], p, 0.0)
    if not len(p) or p.max() < policy.refuse_below:
        return {"refused": True, "answerable": bool(item["row"]["answer"])}
    order = reading_order(p, any_in_question_language(item["x"][:len(p)]), policy.cross_language_lead)
    top = order[0]
    keep = further_quote_floor(policy, p[top])
    kept = [top] + [j for j in order[1:] if p[j] >= keep][: MAX_QUOTES - 1]
    margin = float(item["x"][top, READER_FEATURES.index("span_margin")])
    def side(j: int) -> SpanAnswer:
        return SpanAnswer(item["articles"][j], item["languages"][j], float(p[j]), item["spans"][j] or None)

    short = (policy.allows_short_answer(item["languages"][top], float(p[top]), margin) and item["spans"][top]
             and fits_the_question(item["row"]["question"], item["spans"][top])
             and not another_article_disagrees(policy, side(top), [side(j) for j in kept[1:]]))
    return {"refused": False, "answerable": bool(item["row"]["answer"]), "first": bool(item["y"][top]), "any": bool(item["y"][kept].any()),
            "extra": len(kept) - 1, "extra_hold": int(item["y"][kept[1:]].sum()),
            "short": bool(short), "short_f1": float(item["f1"][top]) if short else None,
            "short_hit": bool(short) and contains_answer(item["spans"][top], item["row"]["answer"],
                                                          item["languages"][top], item["row"]["lang"])}


def figures(items: list[dict], policy: ReaderPolicy) -> dict:
    """Per language pair, over all questions ("all") and the mean of the pairs ("pairs")."""
    out = {}
    pairs = sorted({i["row"]["pair"] for i in items})
    outcomes = [(i, outcome(i, policy)) for i in items]  # once each: every pair and "all" read them
    for pair in pairs + ["all"]:
        subset = [(i, o) for i, o in outcomes if pair in ("all", i["row"]["pair"])]
        answerable = [o for i, o in subset if i["row"]["answer"]]
        unanswerable = [o for i, o in subset if not i["row"]["answer"]]
        near = [o for i, o in subset if not i["row"]["answer"] and unanswerable_kind(i["row"]) == "near miss"]
        shown = [o for o in answerable + unanswerable if not o["refused"] and o["short"]]
        right = [o for o in shown if o["answerable"] and o["short_hit"]]  # as assistant eval counts
        n = max(1, len(answerable))
        out[pair] = {
            "answerable": len(answerable), "unanswerable": len(unanswerable),
            "first_quote": round(sum(o.get("first", False) for o in answerable) / n, 4),
            "any_quote": round(sum(o.get("any", False) for o in answerable) / n, 4),
            "refused_answerable": round(sum(o["refused"] for o in answerable) / n, 4),
            "refused_unanswerable": round(sum(o["refused"] for o in unanswerable) / max(1, len(unanswerable)), 4),
            "refused_near_miss": round(sum(o["refused"] for o in near) / len(near), 4) if near else None,
            "extra_quotes": round(sum(o.get("extra", 0) for o in answerable) / n, 3),
            "short_shown": round(len(shown) / max(1, len(answerable) + len(unanswerable)), 4),
            "short_precision": round(len(right) / len(shown), 4) if shown else None,
            "short_shown_n": len(shown), "short_right_n": len(right),
            "short_f1": round(sum(o["short_f1"] for o in shown if o["answerable"]) / n, 4),
        }
    out["pairs"] = {key: (round(float(np.mean([out[p][key] for p in pairs if out[p][key] is not None])), 4)
                          if any(out[p][key] is not None for p in pairs) else None)
                    for key in out["all"]}
    return out


def best_probability(item: dict) -> float:
    """The likeliest read sentence's held-out probability (0 when nothing was read)."""
    return float(item["p"].max()) if len(item.get("p", [])) else 0.0


def choose_policy(items: list[dict], base: ReaderPolicy) -> ReaderPolicy:
    pairs = sorted({i["row"]["pair"] for i in items})
    answerable = [np.array([best_probability(i) for i in items if i["row"]["pair"] == pair and i["row"]["answer"]])
                  for pair in pairs]
    # near misses and questions about left-out articles count the same, in every pair
    unanswerable = [np.array([best_probability(i) for i in items if i["row"]["pair"] == pair and not i["row"]["answer"]
                              and unanswerable_kind(i["row"]) == kind]) for pair in pairs for kind in ("near miss", "left out")]
    best = None
    for t in np.round(np.arange(0.005, 0.9, 0.0025), 4):
        # every language pair counts the same (pair_shares)
        false_refusal = float(np.mean([(a < t).mean() for a in answerable if len(a)]))
        right_refusal = float(np.mean([(u < t).mean() for u in unanswerable if len(u)]))
        balanced = (1 - false_refusal + right_refusal) / 2
        if false_refusal <= MAX_FALSE_REFUSAL and (best is None or balanced > best[0]):
            best = (balanced, float(t))
    refuse_below = best[1] if best else 0.005
    # further quotes: the lowest share of the first quote's probability at which the further quotes
    # the product would show on answerable questions hold the answer often enough (on a question
    # the articles do not answer, the first quote is as wrong as any further one)
    # (every share is tried: the first shares, which show a handful of further quotes, are too
    # noisy to stop at)
    policy = dataclasses.replace(base, refuse_below=refuse_below, keep_share=1.0)
    for share in np.round(np.arange(0.95, 0.0, -0.05), 2):
        shown = [outcome(i, dataclasses.replace(policy, keep_share=float(share))) for i in items if i["row"]["answer"]]
        extra = sum(o.get("extra", 0) for o in shown)
        if extra and sum(o.get("extra_hold", 0) for o in shown) / extra >= SECONDARY_PRECISION:
            policy = dataclasses.replace(policy, keep_share=float(share))
    return dataclasses.replace(policy, short_answer=tuple(
        short_answer_gate(items, policy, language) for language in TEXT_LANGUAGES))


def text_language(item: dict) -> str:
    """The language of the text a development question is asked over (its pair's second half)."""
    return item["row"]["pair"].split("-")[1]


def short_answer_gate(items: list[dict], policy: ReaderPolicy, language: str) -> ShortAnswerGate:
    """The bar shown most often with at least SHORT_ANSWER_PRECISION of the bold answers right,
    on the questions over text in `language` alone (never pooled with the other language)."""
    mine = [i for i in items if text_language(i) == language]
    best = (0.0, ShortAnswerGate(language, 1.0, 99.0))  # nothing shown when no bar is precise enough
    for above in np.round(np.arange(max(policy.refuse_below, 0.05), 1.0, 0.025), 3):
        for margin in (-5.0, -2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0):
            gate = ShortAnswerGate(language, float(above), margin)
            f = figures(mine, dataclasses.replace(policy, short_answer=(gate,)))["all"]
            if f["short_precision"] is not None and f["short_precision"] >= SHORT_ANSWER_PRECISION \
                    and f["short_shown"] > best[0]:
                best = (f["short_shown"], gate)
    return best[1]


def shipped_policy_and_readings(readings: Path, weights_dir: Path) -> tuple[ReaderPolicy, list[dict]]:
    """The policy beside `weights_dir` and the kept readings, each with its held-out 'p' for
    that policy's number of sentences read: what a choice of one part of the policy starts from."""
    policy = load_reader_policy(weights_dir)
    with open(readings, "rb") as handle:
        items = pickle.load(handle)
    held_out_probabilities(items, policy.candidates)
    return policy, items


def ship(policy: ReaderPolicy, weights_dir: Path, study: bool) -> None:
    """The policy beside the weights it was fitted to, unless this run is a study."""
    if study:
        print(f"a study (--study): {weights_dir / 'policy.json'} left as it was")
    else:
        print(f"wrote {write_reader_policy(policy, weights_dir)}")


def refit_gates(readings: Path, weights_dir: Path, study: bool = False) -> None:
    """The policy beside `weights_dir` with only its short-answer gates chosen again (held out,
    per text language, by short_answer_gate): the rest of the policy as fitted."""
    policy, items = shipped_policy_and_readings(readings, weights_dir)
    chosen = dataclasses.replace(policy, short_answer=tuple(short_answer_gate(items, policy, language)
                                                             for language in TEXT_LANGUAGES))
    rows = []
    for name, candidate in (("before", policy), ("after", chosen)):
        by_pair = figures(items, candidate)
        rows += [{"policy": name, "pair": pair, **{k: by_pair[pair][k] for k in
                  ("short_shown_n", "short_right_n", "short_precision", "short_shown")}} for pair in by_pair]
    print(table(rows, ["policy", "pair", "short_shown_n", "short_right_n", "short_precision", "short_shown"]))
    print(f"gates: {chosen.short_answer}")
    print(f"wrote {write_result('fit_answer_gates', {'readings': str(readings), 'before': dataclasses.asdict(policy), 'after': dataclasses.asdict(chosen), 'rows': rows})}")
    ship(chosen, weights_dir, study)


def refit_lead(readings: Path, weights_dir: Path, study: bool = False) -> None:
    """The policy beside `weights_dir` with only its cross_language_lead chosen again (held out,
    the best first quote, every language pair counting the same): the rest as fitted."""
    policy, items = shipped_policy_and_readings(readings, weights_dir)
    rows, trials = [], []
    for lead in LEAD_FACTORS:
        candidate = dataclasses.replace(policy, cross_language_lead=lead)
        by_pair = figures(items, candidate)
        trials.append((by_pair["pairs"]["first_quote"], candidate))
        rows.append({"cross_language_lead": lead, **{pair: by_pair[pair]["first_quote"] for pair in by_pair
                                                     if pair != "all"}})
    chosen = max(trials, key=lambda t: t[0])[1]
    print(table(rows, list(rows[0])))
    print(f"cross_language_lead: {policy.cross_language_lead} -> {chosen.cross_language_lead}")
    print(f"wrote {write_result('fit_cross_language_lead', {'readings': str(readings), 'before': dataclasses.asdict(policy), 'after': dataclasses.asdict(chosen), 'rows': rows})}")
    ship(chosen, weights_dir, study)


def similarity_figures(items: list[dict], weights: np.ndarray, t_same: float, t_cross: float) -> dict:
    """First-stage-only figures (ASSISTANT_READER=0) with these weights and thresholds."""
    out = {}
    for pair in sorted({i["row"]["pair"] for i in items}) + ["all"]:
        subset = [i for i in items if pair in ("all", i["row"]["pair"])]
        first = refused_a = refused_u = n_a = n_u = 0
        for item in subset:
            if len(item["x"]):
                scores = item["x"] @ weights
                top = int(np.argmax(scores))
                refused = scores[top] < (t_same if item["same"][top] else t_cross)
            else:
                refused, top = True, None
            if item["row"]["answer"]:
                n_a += 1
                refused_a += refused
                first += (not refused) and bool(item["y"][top])
            else:
                n_u += 1
                refused_u += refused
        out[pair] = {"first_quote": round(first / max(1, n_a), 4), "refused_answerable": round(refused_a / max(1, n_a), 4),
                     "refused_unanswerable": round(refused_u / max(1, n_u), 4)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=REPO / "benchmarks" / ".work" / "dev")
    parser.add_argument("--weights", type=Path, default=None, help="answer model weights (default: shipped)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions per corpus")
    parser.add_argument("--keep-first-stage", action="store_true",
                        help="fit the answer policy on the shipped first-stage weights and thresholds (the refit "
                             "is reported, not used): no change to config.py needed")
    parser.add_argument("--keep-readings", type=Path, default=None,
                        help="write the second stage's readings here (a pickle) to study the choices later")
    parser.add_argument("--from-readings", type=Path, default=None,
                        help="choose from readings kept by --keep-readings (same weights and code) instead of reading again")
    parser.add_argument("--gates-only", action="store_true",
                        help="with --from-readings: keep the shipped policy and choose only its short-answer gates")
    parser.add_argument("--lead-only", action="store_true",
                        help="with --from-readings: keep the shipped policy and choose only its cross_language_lead")
    parser.add_argument("--study", action="store_true",
                        help="print and record the choices (results/), but leave the policy beside the weights as it is")
    args = parser.parse_args()
    if args.gates_only or args.lead_only:
        if not args.from_readings:
            raise SystemExit("--gates-only and --lead-only choose from kept readings: give --from-readings FILE")
        (refit_gates if args.gates_only else refit_lead)(args.from_readings, args.weights or READER_WEIGHTS_DIR, args.study)
        return
    settings = settings_from_env(os.environ)
    if args.weights:
        settings = dataclasses.replace(settings, reader_weights=args.weights)
    corpora = [d for d in sorted(args.dev.iterdir()) if (d / "questions.jsonl").exists()]
    if not corpora:
        raise SystemExit(f"no development corpora in {args.dev}: run benchmarks/dev_set.py first")
    rows = {c: load_questions(c)[: args.limit] for c in corpora}

    # 1. the first stage
    first = []
    for corpus in corpora:
        first += first_stage(open_corpus(corpus, settings), rows[corpus])
    current = settings.weights.vector()
    fitted = fit_listwise([i for i in first if i["row"]["answer"]], current * 10)
    fitted *= current.sum() / fitted.sum()
    t_now = (settings.abstention.threshold, settings.abstention.threshold_cross_language)
    t_same, t_cross, sweep_rows = thresholds(first, fitted)
    weights = Weights(**{name: round(float(w), 4) for name, w in zip(FEATURES, fitted)})
    abstention = dataclasses.replace(settings.abstention, threshold=round(t_same, 3),
                                     threshold_cross_language=round(t_cross, 3), calibrated_with=weights)
    if args.keep_first_stage:  # refitted figures reported, the shipped first stage kept
        weights, abstention = settings.weights, settings.abstention
    similarity = {"current": similarity_figures(first, current, *t_now),
                  "refitted_on_dev": similarity_figures(first, fitted, t_same, t_cross)}
    print(table([{"weights": k, "pair": p, **v} for k, by in similarity.items() for p, v in by.items()],
                ["weights", "pair", "first_quote", "refused_answerable", "refused_unanswerable"]))

    # 2. the answer model, read on the refitted first stage
    weights_dir = args.weights or READER_WEIGHTS_DIR
    refitted = dataclasses.replace(settings, weights=weights, abstention=abstention,
                                   reader_policy=dataclasses.replace(
                                       settings.reader_policy, candidates=READ,
                                       reader_weights_sha256=weights_digest(weights_dir),
                                       first_stage_model=query_identity(settings),
                                       first_stage_thresholds=(abstention.threshold, abstention.threshold_cross_language)))
    second = []
    if args.from_readings:
        with open(args.from_readings, "rb") as handle:
            second = pickle.load(handle)
    for corpus in [] if args.from_readings else corpora:
        second += second_stage(open_corpus(corpus, refitted), rows[corpus])
    if args.keep_readings:
        with open(args.keep_readings, "wb") as handle:
            pickle.dump(second, handle)
    by_k = {}
    for k in (4, 6, 8, 12):
        held_out_probabilities(second, k)
        # across languages: the model's order, the first stage's, or the model's when it is sure
        # enough more (cross_language_lead): the best one
        trials = [choose_policy(second, dataclasses.replace(refitted.reader_policy, candidates=k,
                                                            cross_language_lead=lead))
                  for lead in LEAD_FACTORS]
        by_k[k] = max(((t, figures(second, t)) for t in trials), key=lambda tf: tf[1]["pairs"]["first_quote"])
        f = by_k[k][1]["pairs"]
        print(f"read {k} (cross-language lead: {by_k[k][0].cross_language_lead}): first quote {f['first_quote']}, refused answerable {f['refused_answerable']}, "
              f"unanswerable {f['refused_unanswerable']}, short shown {f['short_shown']} at {f['short_precision']}")
    # fewest candidates within a point of the best first-quote figure, every language pair counting
    # the same: each sentence read costs about 15 ms of a 150 ms budget, and differences under a
    # point are within the noise of 153 answerable questions a pair
    best_first = max(f["pairs"]["first_quote"] for _, f in by_k.values())
    k = min(k for k, (_, f) in by_k.items() if f["pairs"]["first_quote"] >= best_first - 0.01)
    held_out_probabilities(second, k)
    policy, held_out = by_k[k]
    model = fit_logistic(second, k)
    policy = dataclasses.replace(policy, weights=tuple(round(float(w), 4) for w in model.coef_[0]),
                                 bias=round(float(model.intercept_[0]), 4))
    print(table([{"pair": p, **v} for p, v in held_out.items()],
                ["pair", "answerable", "unanswerable", "first_quote", "any_quote", "refused_answerable",
                 "refused_unanswerable", "refused_near_miss", "extra_quotes", "short_shown", "short_precision", "short_f1"]))
    print(f"ship: weights={weights}\n      abstention threshold={abstention.threshold}, "
          f"cross={abstention.threshold_cross_language}\n      reader_policy={policy}")
    path = write_result("fit_answer_policy", {
        "dev": str(args.dev), "questions": {str(c.name): len(r) for c, r in rows.items()},
        "weights": dataclasses.asdict(weights), "abstention": {"threshold": abstention.threshold,
                                                               "threshold_cross_language": abstention.threshold_cross_language},
        "similarity": similarity, "threshold_sweeps": {str(k): v for k, v in sweep_rows.items()},
        "reader_features": list(READER_FEATURES), "reader_policy": dataclasses.asdict(policy),
        "held_out": held_out, "by_candidates": {str(k): {"all": f["all"], "pairs": f["pairs"]} for k, (_, f) in by_k.items()},
    })
    print(f"wrote {path}")
    # the policy goes beside the weights it was fitted to; the first stage's weights and
    # thresholds it assumes go into config.py (Weights, AbstentionPolicy) by hand
    ship(policy, weights_dir, args.study)


if __name__ == "__main__":
    main()
