#!/usr/bin/env bash
# XQuAD benchmark: the 240 German XQuAD paragraphs (48 articles) as the corpus, asked the 1190
# German questions and the same 1190 questions in English (answers stay German).
#
#   bash benchmarks/xquad_eval.sh [XQUAD_DIR]      (default XQUAD_DIR: ../shared/data/xquad)
#
# Writes benchmarks/results/xquad_{de,en}_questions.summary.json and .txt (the terminal table)
# and benchmarks/results/xquad.md (date, commit, the command and both tables). The full reports
# (results.jsonl, report.html) stay in the work folder it prints (KEEP=1 keeps it).
# Takes several minutes: indexing 240 paragraphs, then 2 x 1190 questions.
set -euo pipefail
cd "$(dirname "$0")/.."
XQUAD_DIR=${1:-../shared/data/xquad}
RESULTS=benchmarks/results
WORK=$(mktemp -d "${TMPDIR:-/tmp}/xquad-eval.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
A=.venv/bin/assistant
mkdir -p "$RESULTS"
echo "work folder: $WORK"

$A import-xquad "$XQUAD_DIR/xquad.de.json" --out "$WORK/de"
$A import-xquad "$XQUAD_DIR/xquad.de.json" --questions "$XQUAD_DIR/xquad.en.json" --out "$WORK/en"
diff -r "$WORK/de/sources" "$WORK/en/sources" >/dev/null  # one corpus, indexed once
$A index --sources "$WORK/de/sources" --index "$WORK/index" --quiet

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for lang in de en; do
  echo "== $lang questions"
  $A eval "$WORK/$lang/questions.jsonl" --sources "$WORK/de/sources" --index "$WORK/index" \
    --report "$WORK/report-$lang" | tee "$RESULTS/xquad_${lang}_questions.txt"
  cp "$WORK/report-$lang/summary.json" "$RESULTS/xquad_${lang}_questions.summary.json"
done

commit=$(git rev-parse --short HEAD)
dirty=$(git status --porcelain --untracked-files=no -- assistant | wc -l)
{
  echo "# XQuAD benchmark (German paragraphs)"
  echo
  echo "- started: $started; commit: $commit$( [ "$dirty" -gt 0 ] && echo " plus $dirty uncommitted file(s) under assistant/")"
  echo "- command: \`bash benchmarks/xquad_eval.sh\` (corpus: xquad.de.json, 48 articles / 240 paragraphs)"
  echo "- machine: $(nproc) CPU cores"
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
