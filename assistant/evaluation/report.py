"""Write an evaluation run to a folder: results.jsonl, summary.json and report.html.

The HTML page is self-contained (inline CSS and SVG plots drawn here, no scripts, no network):
the summary, the metrics broken down by the `--by` columns (and the answer type), hit rate by
rank, the first quote's score for answered versus abstained and for answerable versus unanswerable
questions with the threshold the run's mode refuses by (the answer model's probability and its
`refuse_below`; with the model off, the similarity and its same-language and cross-language
thresholds), and a table of the failures. Every piece of text from the questions or the articles
is HTML-escaped.
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path

from .summary import METRICS, EvalRun, format_value, is_failure, metric_name

MAX_FAILURE_ROWS = 2000

# Fits a 1,280-pixel window and a phone (the viewport meta: else a phone lays it out at 980 px and
# shrinks it): tables take the page's width (the failures table's columns have fixed shares, long
# words in cells break, headers never do), plots scale down, and anything wider still scrolls inside
# its own box instead of widening the page.
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}h3{font-size:1em;margin:1.2em 0 .3em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left;overflow-wrap:anywhere}
th{background:#f3f3f3;overflow-wrap:normal}td.num{text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:normal}
.wide{max-width:100%;overflow-x:auto}
.meta td:first-child{color:#555;white-space:nowrap}.plots{display:flex;flex-wrap:wrap;gap:2em}
table.failures{width:100%;table-layout:fixed;min-width:52em}.quote{margin:0 0 .4em}.src{color:#666;font-size:.85em}
.verdict{font-weight:600;color:#a33}figure{margin:0;max-width:100%}svg{max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif}
"""


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_report(run: EvalRun, folder: Path) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in run.results)
    _atomic_write(folder / "results.jsonl", lines)
    _atomic_write(folder / "summary.json", json.dumps(run.summary, ensure_ascii=False, indent=2) + "\n")
    _atomic_write(folder / "report.html", render_html(run))


# --------------------------------------------------------------------------- plots


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
            + "".join(body) + f"</svg><figcaption>{escape(title)}</figcaption></figure>")


def bar_chart(values: list[float | None], labels: list[str], title: str, width: int = 420,
              height: int = 220) -> str:
    """Vertical bars of shares (0..1)."""
    left, bottom, top, right = 36, 24, 10, 8
    plot_w, plot_h = width - left - right, height - top - bottom
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#888"/>']
    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = top + plot_h * (1 - tick)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#eee"/>'
                    f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{int(tick * 100)}%</text>')
    n = max(len(values), 1)
    slot = plot_w / n
    for i, (value, label) in enumerate(zip(values, labels)):
        x = left + i * slot + slot * 0.15
        v = value or 0.0
        h = plot_h * v
        body.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                    f'fill="#4a7fb5"><title>{escape(label)}: {v:.1%}</title></rect>'
                    f'<text x="{x + slot * 0.35:.1f}" y="{height - 8}" text-anchor="middle">{escape(label)}</text>')
        if value is not None:
            body.append(f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h - h - 3:.1f}" '
                        f'text-anchor="middle">{100 * v:.0f}</text>')
    return _svg(width, height, body, title)


def histogram(series: dict[str, tuple[list[float], str]], title: str,
              thresholds: list[tuple[str, float]] | None = None, bins: int = 20, width: int = 460,
              height: int = 220) -> str:
    """Overlaid histograms of scores, one colour per series, with a dashed line and a label for
    each threshold (the same-language and the cross-language one); labels stay inside the plot."""
    thresholds = [(name, value) for name, value in (thresholds or []) if value is not None]
    values = [v for vs, _ in series.values() for v in vs]
    left, bottom, top, right = 36, 40, 10 + 14 * len(thresholds), 8
    plot_w, plot_h = width - left - right, height - top - bottom
    if not values:
        return _svg(width, height, [f'<text x="{left}" y="{top + 20}">no scores</text>'], title)
    marked = values + [value for _, value in thresholds]
    lo, hi = min(marked), max(marked)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.05, hi + 0.05
    step = (hi - lo) / bins
    counts = {}
    for name, (vs, _) in series.items():
        c = [0] * bins
        for v in vs:
            c[min(int((v - lo) / step), bins - 1)] += 1
        counts[name] = c
    peak = max(max(c) for c in counts.values()) or 1
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#888"/>',
            f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{peak}</text>',
            f'<text x="{left}" y="{top + plot_h + 14}">{lo:.2f}</text>',
            f'<text x="{width - right}" y="{top + plot_h + 14}" text-anchor="end">{hi:.2f}</text>']
    bar_w = plot_w / bins
    for name, (_, colour) in series.items():
        for i, count in enumerate(counts[name]):
            if count:
                h = plot_h * count / peak
                body.append(f'<rect x="{left + i * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                            f'height="{h:.1f}" fill="{colour}" fill-opacity="0.55"><title>{escape(name)}: '
                            f'{count} between {lo + i * step:.3f} and {lo + (i + 1) * step:.3f}</title></rect>')
    for row, ((name, value), colour) in enumerate(zip(thresholds, ("#c00", "#7a3db8"))):
        x = left + plot_w * (value - lo) / (hi - lo)
        # The label reads away from the line, towards the side with room.
        anchor, text_x = ("end", x - 3) if x > left + plot_w / 2 else ("start", x + 3)
        body.append(f'<line x1="{x:.1f}" y1="{top - 14 * (len(thresholds) - row) + 4}" x2="{x:.1f}" '
                    f'y2="{top + plot_h}" stroke="{colour}" stroke-dasharray="4 3"/>'
                    f'<text x="{text_x:.1f}" y="{top - 14 * (len(thresholds) - row) + 12}" fill="{colour}" '
                    f'text-anchor="{anchor}">{escape(name)} {value:g}</text>')
    legend_x = left
    for name, (vs, colour) in series.items():
        body.append(f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10" fill="{colour}" '
                    f'fill-opacity="0.55"/><text x="{legend_x + 14}" y="{height - 5}">{escape(name)} '
                    f'({len(vs)})</text>')
        legend_x += 30 + 7 * (len(name) + len(str(len(vs))))
    return _svg(width, height, body, title)


# --------------------------------------------------------------------------- page


def _summary_rows(summary: dict) -> str:
    rows = []
    for name, (label, _, better) in METRICS.items():
        shown = metric_name(name, summary)
        rows.append(f"<tr><td>{escape(shown)}</td><td class=num>{escape(format_value(name, summary.get(name)))}"
                    f"</td><td>{escape(label)}{'' if better else ' (lower is better)'}</td></tr>")
    return "".join(rows)


def _breakdown_tables(by: dict[str, dict[str, dict]]) -> str:
    """One table per --by column: metrics as rows, the column's values (with counts) as columns."""
    parts = []
    for column, groups in by.items():
        heads = "".join(f"<th>{escape(str(value))} <span class=src>({g.get('questions', 0)})</span></th>"
                        for value, g in groups.items())
        first = next(iter(groups.values()), {})
        rows = "".join(
            f"<tr><td>{escape(metric_name(name, first))}</td>" + "".join(
                f"<td class=num>{escape(format_value(name, g.get(name)))}</td>" for g in groups.values()) + "</tr>"
            for name in METRICS)
        parts.append(f"<h3>By {escape(column)}</h3><div class=wide><table class=by><tr><th>metric</th>{heads}</tr>"
                     f"{rows}</table></div>")
    return ("<h2 id=breakdowns>Breakdowns</h2>" + "".join(parts)) if parts else ""


def _quotes_cell(result: dict) -> str:
    quotes = result["quotes"] or result["related"]
    if not quotes:
        return "<em>nothing</em>"
    lead = "" if result["quotes"] else "<p class=src>abstained; closest passages:</p>"
    parts = []
    for q in quotes:
        mark = " ✓" if q.get("contains_answer") else ""
        exact = "" if q["exact"] else " <strong>NOT AN EXACT SPAN</strong>"
        parts.append(f'<p class=quote>[{q["number"]}] {escape(q["text"])}{mark}<br><span class=src>'
                     f'{escape(q["source"])} {q["start"]}-{q["end"]}, score {q["score"]:.3f}{exact}</span></p>')
    return lead + "".join(parts)


def _failure_rows(results: list[dict]) -> tuple[str, int]:
    failures = [r for r in results if is_failure(r)]
    rows = []
    for r in failures[:MAX_FAILURE_ROWS]:
        expected = " | ".join(r["expected_answers"]) if r["expected_answers"] else "(unanswerable)"
        sources = ", ".join(r["expected_sources"])
        rank = r["retrieval_rank"] if r["retrieval_rank"] is not None else "-"
        rows.append(
            f"<tr><td>{escape(r['id'])}<br><span class=src>line {r['line']}</span></td>"
            f"<td>{escape(r['question'])}</td>"
            f"<td>{escape(expected)}{'<br><span class=src>' + escape(sources) + '</span>' if sources else ''}</td>"
            f"<td class=verdict>{escape(r['verdict'])}</td><td class=num>{r['top_score']:.3f}</td>"
            f"<td class=num>{rank}</td><td>{_quotes_cell(r)}</td></tr>")
    return "".join(rows), len(failures)


def drawn_thresholds(info: dict) -> tuple[str, list[tuple[str, float | None]]]:
    """What the first quote's score is and the thresholds the run's mode refuses by: with the
    answer model, a probability and `refuse_below`; without it (or a run that does not say), a
    similarity and its same-language and cross-language thresholds."""
    if info.get("mode") == "reader":
        return "First quote's probability (answer model)", [
            ("refuse below", (info.get("reader_policy") or {}).get("refuse_below"))]
    settings = info.get("settings") or {}
    return "First quote's similarity score", [("threshold, same language", settings.get("abstain_threshold")),
                                               ("cross-language", settings.get("abstain_threshold_cross_language"))]


def render_html(run: EvalRun) -> str:
    s, results = run.summary, run.results
    info = s.get("run", {})
    score, thresholds = drawn_thresholds(info)
    curve = s.get("retrieval_hit_by_rank") or []
    answered = [r["top_score"] for r in results if not r["abstained"]]
    abstained = [r["top_score"] for r in results if r["abstained"]]
    answerable = [r["top_score"] for r in results if r["answerable"]]
    unanswerable = [r["top_score"] for r in results if not r["answerable"]]
    plots = [
        bar_chart(curve, [str(i) for i in range(1, len(curve) + 1)],
                  "Retrieval: share of answerable questions with the answer in the top N passages"),
        bar_chart([s.get("first_quote_hit"), s.get("any_quote_hit"), s.get("source_hit"),
                   s.get("abstained_unanswerable"), s.get("false_abstain")],
                  ["1st quote", "any quote", "source", "abst. unans.", "false abst."],
                  "Answers: hit rates and abstention"),
        histogram({"answered": (answered, "#2a7"), "abstained": (abstained, "#c60")},
                  f"{score}: answered versus abstained", thresholds),
        histogram({"answerable": (answerable, "#4a7fb5"), "unanswerable": (unanswerable, "#b54a7f")},
                  f"{score}: answerable versus unanswerable questions", thresholds),
    ]
    failure_rows, n_failures = _failure_rows(results)
    meta = [("date", info.get("date")), ("questions file", info.get("questions_file")),
            ("model", info.get("model")), ("index", info.get("index")),
            ("index generation", info.get("index_generation")), ("sources", info.get("sources")),
            ("articles / passages", f"{info.get('articles')} / {info.get('passages')}"),
            ("quotes per answer", info.get("max_quotes")), ("settings", json.dumps(info.get("settings"))),
            ("mode", info.get("mode")), ("answer model policy", json.dumps(info.get("reader_policy"))),
            ("answer model weights (sha256)", info.get("reader_weights_sha256")),
            ("commit", info.get("commit")), ("bad rows skipped", s.get("bad_rows"))]
    counts = (f"{s['questions']} questions: {s['answerable']} answerable ({s['with_source']} with a source), "
              f"{s['unanswerable']} unanswerable; {s['quotes']} quotes")
    bad = info.get("bad_rows") or []
    bad_html = ("<h2>Bad rows skipped</h2><ul>" + "".join(
        f"<li>line {b['line']}: {escape(b['reason'])}</li>" for b in bad) + "</ul>") if bad else ""
    more = (f"<p>Showing the first {MAX_FAILURE_ROWS} of {n_failures}; all are in results.jsonl.</p>"
            if n_failures > MAX_FAILURE_ROWS else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Evaluation report: {escape(str(info.get('questions_file', '')))}</title>
<style>{_CSS}</style></head><body>
<h1>Evaluation report</h1>
<p>{escape(counts)}</p>
<div class=wide><table class=meta>{''.join(f'<tr><td>{escape(k)}</td><td>{escape(str(v))}</td></tr>' for k, v in meta)}</table></div>
<h2>Summary</h2>
<div class=wide><table><tr><th>metric</th><th>value</th><th>meaning</th></tr>{_summary_rows(s)}</table></div>
{_breakdown_tables(s.get("by") or {})}
<h2>Plots</h2>
<div class=plots>{''.join(plots)}</div>
{bad_html}
<h2 id=failures>Failures ({n_failures})</h2>
<p>Answerable questions where no quote, or not the first, contains an accepted answer; unanswerable
questions that were answered; answers with a quote that is not an exact span of its article.
✓ marks a quote that contains an accepted answer; score is the first quote's, rank that of the first
retrieved passage holding an answer.</p>{more}
<div class=wide><table class=failures><colgroup><col style="width:9%"><col style="width:17%"><col style="width:12%">
<col style="width:10%"><col style="width:7%"><col style="width:6%"><col style="width:39%"></colgroup>
<tr><th>id</th><th>question</th><th>expected</th><th>verdict</th><th title="the first quote's score">score</th>
<th title="rank of the first retrieved passage holding an answer">rank</th><th>quoted</th></tr>{failure_rows}</table></div>
</body></html>
"""
