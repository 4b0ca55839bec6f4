"""The warm assistant behind `assistant ask`: the first ask leaves it running, the next ask is
answered by it with the same answer, `assistant stop` ends it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO, TINY_ARTICLES, make_corpus

from assistant.config import Settings
from assistant import warm
from assistant.models.embedding import default_model_folder

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ASSISTANT_WARM": "1"}


@pytest.fixture()
def cache():
    """A cache folder of the test's own (the warm server's socket and log go there, never into
    ~/.cache), sharing only the converted model. Short, under /tmp: a Unix socket's path has
    at most 107 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="aw-"))
    model = default_model_folder(Settings())  # converted once, read-only from here on
    (folder / "models").mkdir()
    (folder / "models" / model.name).symlink_to(model)
    yield folder
    shutil.rmtree(folder)


def ask(cache: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--json", *args], cwd=REPO,
                          env={**ENV, "ASSISTANT_CACHE_DIR": str(cache)}, capture_output=True, text=True, timeout=300)


def wait_for_server(settings: Settings, seconds: float = 240) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if warm._request(warm.socket_path(settings), {"ping": True}) is not None:
            return True
        time.sleep(1)
    return False


@pytest.mark.slow
def test_second_ask_is_answered_by_the_warm_assistant(tmp_path, cache):
    sources = make_corpus(tmp_path / "sources", TINY_ARTICLES)
    settings = Settings(cache_dir=cache).with_paths(sources, tmp_path / "index")
    corpus = ["--sources", str(sources), "--index", str(tmp_path / "index")]
    log = warm.server_dir(settings) / "server.log"
    try:
        first = ask(cache, "Wie warm wird es in Potsdam?", *corpus)
        assert first.returncode == 0, first.stderr
        assert wait_for_server(settings), log.read_text() if log.exists() else "no server log"
        second = ask(cache, "Wie warm wird es in Potsdam?", *corpus)
        assert second.returncode == 0, second.stderr
        assert json.loads(second.stdout) == json.loads(first.stdout)
        assert "answered 'Wie warm wird es in Potsdam?'" in log.read_text()
        # An article added since: the warm assistant updates the index before answering.
        (sources / "neu.txt").write_text("Der Berliner Zoo hat 2023 genau 1.234 Pinguine gezählt. "
                                         "Das teilte der Zoo am Montag mit.", encoding="utf-8")
        third = ask(cache, "Wie viele Pinguine hat der Berliner Zoo?", *corpus)
        assert third.returncode == 0 and "1 added" in third.stderr, third.stderr
        assert any("1.234 Pinguine" in q["text"] for q in json.loads(third.stdout)["quotes"])
        cold = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--cold", "--json",
                               "Wie viele Pinguine hat der Berliner Zoo?", *corpus], cwd=REPO,
                              env={**ENV, "ASSISTANT_CACHE_DIR": str(cache)},
                              capture_output=True, text=True, timeout=300)
        assert json.loads(cold.stdout) == json.loads(third.stdout)
    finally:
        warm._request(warm.socket_path(settings), {"stop": True})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and warm.socket_path(settings).exists():
        time.sleep(0.5)
    assert not warm.socket_path(settings).exists()
