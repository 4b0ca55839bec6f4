"""What a stranger's requests may cost the real chat (issue 27, items 8, 10, 11 and 14): the
`assistant chat` subprocess, driven by plain HTTP clients, no browser.

One read-only chat and one with an edit password, each on its own copy of the shipped articles.
"""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from chat_server import GRADIO_FILES, RawClient, shipped_chat
from conftest import REPO, copy_shipped

pytestmark = [pytest.mark.slow, pytest.mark.model]

VODACOM = "What share of Vodacom does Vodafone own?"
ARTICLE = "Die Stadt Kiel hat 2023 einen neuen Hafen eröffnet, sagte die Bürgermeisterin am Montag.".encode()


def run_folders(base: Path) -> list[Path]:
    """The per-run upload folders a chat made inside GRADIO_TEMP_DIR."""
    return sorted(base.glob("news-assistant-chat-*")) if base.exists() else []


def files_in(base: Path) -> list[Path]:
    return [p for p in base.rglob("*") if p.is_file()] if base.exists() else []


@pytest.fixture(scope="module")
def read_only(tmp_path_factory):
    yield from shipped_chat(tmp_path_factory.mktemp("read-only"))


@pytest.fixture(scope="module")
def editable(tmp_path_factory):
    yield from shipped_chat(tmp_path_factory.mktemp("editable"), {"ASSISTANT_EDIT_PASSWORD": "edit-pass"})


def api_chat(url: str, data: list) -> dict:
    """/chat called over plain HTTP, as any client can (gradio_client checks nothing more)."""
    body = json.dumps({"data": data}, allow_nan=True)
    started = httpx.post(url + "gradio_api/call/chat", content=body,
                         headers={"content-type": "application/json"}, timeout=60)
    started.raise_for_status()
    event = started.json()["event_id"]
    with httpx.stream("GET", url + f"gradio_api/call/chat/{event}", timeout=120) as stream:
        lines = list(stream.iter_lines())
    kinds = [line.split(":", 1)[1].strip() for line in lines if line.startswith("event:")]
    payloads = [line.split(":", 1)[1].strip() for line in lines if line.startswith("data:")]
    assert kinds and kinds[-1] == "complete", lines  # a gradio "error" event is what must not happen
    return json.loads(payloads[-1])[0]


def test_a_busy_port_is_refused_before_anything_loads(tmp_path):
    """A second chat on a taken port said so only after building the index and loading the model
    (30 s), in Gradio's words (item 14). Nothing is built now: the index folder is never made."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        copy_shipped(tmp_path / "sources")
        result = subprocess.run([sys.executable, "-m", "assistant.cli", "chat", "--port", str(port),
                                 "--sources", str(tmp_path / "sources"), "--index", str(tmp_path / "index")],
                                cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and f":{port}" in last and "--port" in last, result.stderr
    assert not (tmp_path / "index").exists()


def test_a_read_only_chat_takes_no_files(read_only):
    """Anyone could fill the disk through /gradio_api/upload of a chat that cannot even add
    articles (item 8): every request with files is refused before it is read."""
    base = read_only.sources.parent / GRADIO_FILES
    for route in ("gradio_api/upload", "gradio_api/process_recording", "gradio_api/component_server"):
        sent = httpx.post(read_only.url + route, files=[("files", ("f.txt", b"x" * 100_000, "text/plain"))], timeout=60)
        assert sent.status_code == 403 and "read-only" in sent.text, (route, sent.status_code, sent.text)
    assert files_in(base) == []
    assert len(run_folders(base)) == 1  # gradio's folder is one of this run's own


def test_chat_api_bad_input_gets_the_documented_error(read_only):
    """`max_quotes` that is no whole number, and a question that is not text (item 10), get
    `{"error": ...}`, not a Gradio error; a whole number still works."""
    for quotes in ("abc", [3], math.nan):
        reply = api_chat(read_only.url, [VODACOM, quotes])
        assert "the number of quotes must be a whole number" in reply.get("error", ""), (quotes, reply)
    reply = api_chat(read_only.url, ["\ud800 Vodacom", 3])
    assert "not valid text" in reply.get("error", ""), reply
    reply = api_chat(read_only.url, [VODACOM, 1])
    assert "error" not in reply and len(reply["quotes"]) == 1
    assert "Traceback" not in read_only.log_text()


def test_a_huge_history_is_refused_at_once(read_only):
    """A 20 MB conversation in one request cost 431 s of server work (item 11)."""
    client = RawClient(read_only.url)
    history = [{"role": "assistant", "content": "x" * 1000}] * 3000
    body = {"data": ["Wie viele Kunden hat Vodacom?", history, None, 3, []], "fn_index": client.fn_index("respond"),
            "session_hash": client.session, "event_data": None, "trigger_id": None}
    started = time.monotonic()
    sent = client.http.post(client.url + "/gradio_api/queue/join", json=body)
    assert sent.status_code == 413 and time.monotonic() - started < 30, sent.text


def test_wrong_edit_passwords_slow_only_their_sender(editable):
    """30 guesses queued ahead, each of which held one gate for a second, made the right password
    wait 30 s or more (item 11). Now a guess is refused at once and only its sender waits."""
    confirm = RawClient(editable.url).fn_index("confirm_removal")
    guessers = [RawClient(editable.url, local_address="127.0.0.2") for _ in range(30)]
    for i, guesser in enumerate(guessers):  # all in the queue before the editor comes
        guesser.join(confirm, [None, [], f"guess-{i}"])
    started = time.monotonic()
    reply = RawClient(editable.url).call(confirm, [None, [], "edit-pass"])
    waited = time.monotonic() - started
    with ThreadPoolExecutor(max_workers=30) as pool:
        replies = [r["output"]["data"][1] for r in pool.map(RawClient.result, guessers)]
    assert "nothing to remove" in reply["output"]["data"][1], reply  # the password was taken
    assert waited < 15, f"the right password waited {waited:.1f} s behind the guesses"
    assert all("wrong edit password" in r for r in replies), replies
    assert sum("wait" in r for r in replies) >= 1  # the sender was refused unchecked meanwhile


def test_uploads_are_capped_and_gone_when_the_chat_stops(editable):
    """With editing on, gradio's route takes files up to its cap only; what it received goes when
    the chat stops (item 8). Stops the module's editable chat: keep this test last."""
    base = editable.sources.parent / GRADIO_FILES
    big = httpx.post(editable.url + "gradio_api/upload", files=[("files", ("big.txt", b"x" * (9 << 20), "text/plain"))],
                     timeout=120)
    assert big.status_code == 413, big.text
    kept = httpx.post(editable.url + "gradio_api/upload", files=[("files", ("kiel.txt", ARTICLE, "text/plain"))],
                      timeout=60)
    assert kept.status_code == 200 and Path(kept.json()[0]).is_file()
    [folder] = run_folders(base)
    editable.stop()
    assert editable.process.returncode is not None
    assert not folder.exists() and files_in(base) == []
