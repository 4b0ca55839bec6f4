#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite; fails when any test fails or none ran.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's chromium for the real-browser tests of the web chat (never `playwright install`:
# it downloads a browser, which this network does not allow).
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the browser tests (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi

bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
set +e
.venv/bin/python -m pytest -q "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$status"
