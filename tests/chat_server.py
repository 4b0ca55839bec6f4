"""Start the real `assistant chat` in a subprocess on a free loopback port (used by chat tests
and benchmarks/chat_*.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ASSISTANT = REPO / ".venv" / "bin" / "assistant"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--disable-quic"]


# Questions on the shipped articles with the article and text their answer must quote: the
# chat load test and benchmarks/chat_load.py send these.
LOAD_QUESTIONS = [
    ("What share of Vodacom does Vodafone own?", "000_ce0777626153ace7.txt", "65 Prozent"),
    ("Wie viele Kunden hat Vodacom?", "000_ce0777626153ace7.txt", "132,6 Millionen"),
    ("Wie viel Prozent von Vodacom gehören Vodafone?", "000_ce0777626153ace7.txt", "65 Prozent"),
    ("How many customers does Vodacom serve?", "000_ce0777626153ace7.txt", "132,6 Millionen"),
    ("How much will Vodafone invest in AI and cloud?", "001_1885b208a7ea917e.txt", "$1.5 billion"),
    ("Wer ist Chef von T-Systems?", "002_3699eb8ecc81ec22.txt", "Al-Saleh"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ChatServer:
    process: subprocess.Popen
    url: str
    log: Path
    sources: Path
    index: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_chat(sources: Path, index: Path, log: Path, extra_env: dict | None = None,
               timeout: float = 240.0, started: float | None = None) -> ChatServer:
    """Launch `assistant chat` and wait until its page answers; raise with the log if it does not."""
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
               **(extra_env or {}))
    command = [str(ASSISTANT if ASSISTANT.exists() else Path(sys.executable).parent / "assistant"),
               "chat", "--port", str(port), "--sources", str(sources), "--index", str(index)]
    out = log.open("wb")
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    server = ChatServer(process, f"http://127.0.0.1:{port}/", log, sources, index)
    deadline = (started or time.monotonic()) + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"assistant chat exited with {process.returncode}:\n{server.log_text()}")
        try:
            with urllib.request.urlopen(server.url, timeout=5):
                return server
        except urllib.error.HTTPError:
            return server  # it answers (with auth on, a login page or 401)
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"assistant chat did not answer within {timeout} s:\n{server.log_text()}")


class RawClient:
    """A plain HTTP client that calls the page's events the way any client can: through gradio's
    queue with their fn_index, hidden from the API or not (what access control must withstand)."""

    def __init__(self, url: str, login: tuple[str, str] | None = None, local_address: str | None = None):
        """`local_address`: the loopback address to connect from ("127.0.0.2"), to be another client."""
        import httpx

        import uuid

        self.url = url.rstrip("/")
        self.session = uuid.uuid4().hex  # one page session: gr.State values live in it
        transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
        self.http = httpx.Client(timeout=120, transport=transport)
        if login:
            self.http.post(self.url + "/login", data={"username": login[0], "password": login[1]}).raise_for_status()
        self.config = self.http.get(self.url + "/config").json()

    def fn_index(self, name: str) -> int:
        """The event whose handler is `name` (its api_name, private or not)."""
        return next(i for i, d in enumerate(self.config["dependencies"]) if d.get("api_name") == name)

    def functions(self) -> set[str]:
        return {d.get("api_name") for d in self.config["dependencies"]}

    def upload(self, name: str, data: bytes) -> dict:
        sent = self.http.post(self.url + "/gradio_api/upload", files=[("files", (name, data, "text/plain"))])
        sent.raise_for_status()
        return {"path": sent.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}

    def call(self, fn_index: int, data: list) -> dict:
        """The finished event's message (its `output`), as the page would get it."""
        self.join(fn_index, data)
        return self.result()

    def join(self, fn_index: int, data: list) -> None:
        """Put the event in gradio's queue (`result` waits for it)."""
        self.http.post(self.url + "/gradio_api/queue/join", json={
            "data": data, "fn_index": fn_index, "session_hash": self.session, "event_data": None,
            "trigger_id": None}).raise_for_status()

    def result(self) -> dict:
        """The finished message of the event this client joined."""
        import json

        with self.http.stream("GET", self.url + f"/gradio_api/queue/data?session_hash={self.session}") as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("msg") == "process_completed":
                        return message
        raise AssertionError("the event never completed")


GRADIO_FILES = "gradio-files"  # gradio's temporary folder, inside a shipped chat's root


def shipped_chat(root: Path, extra_env: dict | None = None):
    """A chat on a copy of the shipped articles under `root` (sources, index, log, and gradio's
    files in root/GRADIO_FILES), for a fixture to yield from; stopped afterwards."""
    from conftest import copy_shipped

    copy_shipped(root / "sources")
    chat = start_chat(root / "sources", root / "index", root / "chat.log",
                      extra_env={"GRADIO_TEMP_DIR": str(root / GRADIO_FILES), **(extra_env or {})})
    try:
        yield chat
    finally:
        chat.stop()
