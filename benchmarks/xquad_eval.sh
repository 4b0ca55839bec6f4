#!/usr/bin/env bash
# XQuAD benchmark: the 240 German XQuAD paragraphs (48 articles) as the corpus, asked the 1190
# German questions and the same 1190 questions in English (answers stay German).
#
#   bash benchmarks/xquad_eval.sh [XQUAD_DIR]      (default XQUAD_DIR: ../shared/data/xquad)
#
# Writes benchmarks/results/xquad_{de,en}_questions.summary.json and .txt (the terminal table)
# and benchmarks/results/xquad.md (date, commit, the command and both tables). The full reports
# (results.jsonl, report.html) stay in the work folder it prints (KEEP=1 keeps it; WORK=DIR uses
# DIR, kept, and reuses its index). The two question sets run side by side (SERIAL=1: one after
# the other, for latency figures not shared between the two runs).
# SAMPLE=N asks every Nth question only (1, the default: all), for a quick figure on a busy machine.
# Takes several minutes on an idle 2-core machine: indexing 240 paragraphs, then 2 x 1190 questions.
set -euo pipefail
cd "$(dirname "$0")/.."
XQUAD_DIR=${1:-../shared/data/xquad}
RESULTS=benchmarks/results
if [ -n "${WORK:-}" ]; then
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/xquad-eval.XXXXXX")
  [ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
A=.venv/bin/assistant
mkdir -p "$RESULTS"
echo "work folder: $WORK"

$A import-xquad "$XQUAD_DIR/xquad.de.json" --out "$WORK/de"
$A import-xquad "$XQUAD_DIR/xquad.de.json" --questions "$XQUAD_DIR/xquad.en.json" --out "$WORK/en"
diff -r "$WORK/de/sources" "$WORK/en/sources" >/dev/null  # one corpus, indexed once
$A index --sources "$WORK/de/sources" --index "$WORK/index" --quiet

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
commit=$(git rev-parse --short HEAD)
dirty=$(git status --porcelain --untracked-files=no -- assistant | awk '{print $2}' | tr '\n' ' ')
SAMPLE=${SAMPLE:-1}
for lang in de en; do
  awk -v n="$SAMPLE" '(NR - 1) % n == 0' "$WORK/$lang/questions.jsonl" > "$WORK/$lang/asked.jsonl"
done
asked=$(wc -l < "$WORK/de/asked.jsonl")
run_eval() {
  $A eval "$WORK/$1/asked.jsonl" --sources "$WORK/de/sources" --index "$WORK/index" \
    --report "$WORK/report-$1" 2>"$WORK/eval-$1.log" | grep -v '^report: ' > "$RESULTS/xquad_$1_questions.txt"
  cp "$WORK/report-$1/summary.json" "$RESULTS/xquad_$1_questions.summary.json"
}
if [ "${SERIAL:-0}" = 1 ]; then
  run_eval de
  run_eval en
else
  run_eval de & de_pid=$!
  run_eval en & en_pid=$!
  wait "$de_pid"
  wait "$en_pid"
fi
mode=$( [ "${SERIAL:-0}" = 1 ] && echo "one after the other" || echo "side by side (latencies include the other run's load)")

{
  echo "# XQuAD benchmark (German paragraphs)"
  echo
  echo "- started: $started; commit: $commit${dirty:+ plus uncommitted changes to ${dirty% }}; finished: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- command: \`$( [ "$SAMPLE" != 1 ] && echo "SAMPLE=$SAMPLE ")bash benchmarks/xquad_eval.sh\` (corpus: xquad.de.json, 48 articles / 240 paragraphs)"
  echo "- questions: $asked per language$( [ "$SAMPLE" != 1 ] && echo ", every ${SAMPLE}th of the 1190 (SAMPLE=$SAMPLE)")"
  echo "- machine: $(nproc) CPU cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); the two runs went $mode"
  for lang in de en; do
    echo
    echo "## ${lang} questions"
    echo
    echo '```'
    cat "$RESULTS/xquad_${lang}_questions.txt"
    echo '```'
  done
} > "$RESULTS/xquad.md"
echo "wrote $RESULTS/xquad.md"
