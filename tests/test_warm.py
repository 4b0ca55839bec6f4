"""The warm assistant behind `assistant ask`: the first ask starts it, an ask that comes while it
starts waits for it (one model load, not two), later asks are answered by it with the same
answer, every setting has its own server, malformed requests get one-line errors, its log is
its own and private, and `assistant stop` ends this checkout's servers.

Each test uses its own cache folder (the user's ~/.cache is never touched), with the converted
model linked in so it is not converted again; its path is short, as Unix socket paths must be."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import socketserver
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, TINY_ARTICLES, make_corpus

from assistant import warm
from assistant.config import Settings
from assistant.models.embedding import default_model_folder


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


def env_for(cache: Path, **extra: str) -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ASSISTANT_WARM": "1",
            "ASSISTANT_CACHE_DIR": str(cache), **extra}


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "assistant.cli", *args]


def test_the_key_covers_every_setting():
    """ASSISTANT_READER=0 / on, other answer-model weights, another quote count or weight: another server each."""
    base = Settings()
    changed = [dataclasses.replace(base, reader=False), dataclasses.replace(base, reader_weights=Path("retrained")),
               dataclasses.replace(base, max_quotes=1), dataclasses.replace(base, support_margin=0.1),
               dataclasses.replace(base, reader_policy=dataclasses.replace(base.reader_policy, short_answer=())), base.with_paths(Path("elsewhere")),
               dataclasses.replace(base, abstention=dataclasses.replace(base.abstention, min_word_coverage=0.5))]
    keys = {warm.server_key(s) for s in [base, *changed]}
    assert len(keys) == len(changed) + 1
    assert warm.server_key(Settings()) == warm.server_key(base)
    # Relative and absolute folders are the same folders.
    assert warm.server_key(base.with_paths(Path("sources").resolve(), Path("index").resolve())) == warm.server_key(base)


@pytest.mark.parametrize("line, needle", [
    (b"garbage\n", "not a line of JSON"),
    (b"[1, 2]\n", "not a JSON object"),
    (b'{"question": 5}\n', "'question' must be a string"),
    (b'{"question": "Wer?", "max_quotes": "3"}\n', "'max_quotes' must be a whole number from 1 to 10"),
    (b'{"question": "Wer?", "max_quotes": 0}\n', "'max_quotes' must be a whole number from 1 to 10"),
    (b'{"question": "Wer?", "max_quotes": true}\n', "'max_quotes' must be a whole number from 1 to 10"),
    (b"\xff\xfe\n", "not a line of JSON"),
    (b'{"question": "' + b"x" * warm.MAX_REQUEST_BYTES + b'"}\n', "longer than"),
])
def test_malformed_requests_are_refused_with_one_line(line, needle):
    with pytest.raises(warm.RequestError, match=needle):
        warm.parse_request(line, max_quotes_limit=10)
    assert warm.parse_request(b'{"question": "Wer?", "max_quotes": 2}', 10) == {"question": "Wer?", "max_quotes": 2}


class _FakeServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Something listening on a server socket that says it stopped: what `stop` talks to."""

    daemon_threads = True

    def __init__(self, path: Path):
        class Reply(socketserver.StreamRequestHandler):
            def handle(inner):
                inner.rfile.readline()
                self.asked += 1
                inner.wfile.write(b'{"stopped": true}\n')

        self.asked = 0
        super().__init__(str(path), Reply)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_stop_stops_this_checkouts_servers_and_all_only_when_asked(cache):
    settings = Settings(cache_dir=cache)
    folder = warm.server_dir(settings)
    ours, other = _FakeServer(folder / "a.sock"), _FakeServer(folder / "b.sock")
    (folder / "a.json").write_text(json.dumps({"package": str(warm.PACKAGE)}))
    (folder / "b.json").write_text(json.dumps({"package": "/another/checkout/assistant"}))
    (folder / "dead.sock").touch()  # a socket file left behind by a killed server of this checkout
    (folder / "dead.json").write_text(json.dumps({"package": str(warm.PACKAGE)}))
    try:
        assert warm.stop(settings) == 1 and (ours.asked, other.asked) == (1, 0)
        assert not (folder / "dead.sock").exists()
        assert warm.stop(settings, everyone=True) == 2 and other.asked == 1
    finally:
        ours.shutdown()
        other.shutdown()


def raw_request(path: Path, line: bytes) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(60)
        conn.connect(str(path))
        conn.sendall(line)
        with conn.makefile("rb") as reply:
            return json.loads(reply.readline())


@pytest.mark.slow
def test_asks_share_one_starting_server_and_stop_ends_it(tmp_path, cache):
    sources = make_corpus(tmp_path / "sources", TINY_ARTICLES)
    corpus = ["--sources", str(sources), "--index", str(tmp_path / "index")]
    settings = Settings(cache_dir=cache).with_paths(sources, tmp_path / "index")
    path, log = warm.socket_path(settings), warm.log_path(settings)
    question = "Wie warm wird es in Potsdam?"
    env = env_for(cache)
    try:
        first = subprocess.Popen(command("ask", "--json", question, *corpus), cwd=REPO, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not (log.exists() and "starting for sources" in log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert warm._starting(path), "the server should still be loading: this test needs it starting"
        second = subprocess.run(command("ask", "--json", question, *corpus), cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=300)
        out, err = first.communicate(timeout=300)
        assert first.returncode == 0 and second.returncode == 0, (err, second.stderr)
        assert "starting a warm assistant" in err and "waiting for the warm assistant" in second.stderr
        assert json.loads(second.stdout) == json.loads(out)
        text = log.read_text()
        assert text.count("ready in") == 1 and text.count("answered a question of 28 characters") == 2, text
        assert question not in text  # the log says what happened, not what was asked
        assert stat.S_IMODE(log.stat().st_mode) == 0o600 and stat.S_IMODE(path.stat().st_mode) == 0o600

        # An article added since: the warm assistant updates the index before answering.
        (sources / "neu.txt").write_text("Der Berliner Zoo hat 2023 genau 1.234 Pinguine gezählt. "
                                         "Das teilte der Zoo am Montag mit.", encoding="utf-8")
        third = subprocess.run(command("ask", "--json", "Wie viele Pinguine hat der Berliner Zoo?", *corpus),
                               cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert third.returncode == 0 and "1 added" in third.stderr, third.stderr
        assert any("1.234 Pinguine" in q["text"] for q in json.loads(third.stdout)["quotes"])
        cold = subprocess.run(command("ask", "--cold", "--json", "Wie viele Pinguine hat der Berliner Zoo?", *corpus),
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert json.loads(cold.stdout) == json.loads(third.stdout)

        # Malformed requests get one line each; the server keeps answering.
        assert "not a line of JSON" in raw_request(path, b"garbage\n")["error"]
        assert "'question' must be a string" in raw_request(path, b'{"question": null}\n')["error"]
        assert "too long" in raw_request(path, json.dumps({"question": "Warum? " * 400}).encode() + b"\n")["error"]
        assert "not valid text" in raw_request(path, b'{"question": "\\ud800 Vodacom"}\n')["error"]  # issue 27, item 10
        assert "Traceback" not in log.read_text()
        assert raw_request(path, json.dumps({"question": question}).encode() + b"\n")["answer"]["quotes"]

        stopped = subprocess.run(command("stop"), cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert stopped.stdout.strip() == "stopped 1 warm assistant(s) of this checkout", stopped
    finally:
        warm._request(path, {"stop": True})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and path.exists():
        time.sleep(0.5)
    assert not path.exists() and "stopping: asked to" in log.read_text()
