"""Keep a loaded assistant warm between `assistant ask` calls.

Loading torch, the model and the index takes about 10 s on two cores; answering takes tens of
milliseconds. So the first `assistant ask` answers in its own process and then leaves a small
server behind, listening on a Unix socket that only this user can open, which answers the
following `ask` calls for the same sources, index, model and code in well under a second. It
brings the index up to date before each answer, exactly as `ask` does, and exits after
`IDLE_SECONDS` without a question. `--cold` (or ASSISTANT_WARM=0) answers in-process and
starts nothing; `assistant stop` ends the servers.

One request and one reply per connection, each a line of JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

from .config import Settings

IDLE_SECONDS = 15 * 60
CONNECT_TIMEOUT_S = 2.0
ANSWER_TIMEOUT_S = 120.0
PACKAGE = Path(__file__).resolve().parent


class WarmError(Exception):
    """The warm server answered with an error meant for the user (an empty question, say)."""


def _code_fingerprint() -> str:
    """Changes whenever a file of the package (code or shipped weights) changes."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            stat = path.stat()
            digest.update(f"{path.relative_to(PACKAGE)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def server_dir(settings: Settings) -> Path:
    folder = settings.cache_dir / "warm"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)  # the socket answers questions about the user's articles
    return folder


def socket_path(settings: Settings) -> Path:
    """One server per sources folder, index folder, model and code version."""
    key = json.dumps([str(settings.sources_dir.resolve()), str(settings.index_dir.resolve()), settings.model,
                      _code_fingerprint(), settings.vector_store, settings.resolved_milvus_uri])
    return server_dir(settings) / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.sock"


def _request(path: Path, payload: dict) -> dict | None:
    """The server's reply, or None when no server listens there."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(CONNECT_TIMEOUT_S)
        try:
            conn.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError, socket.timeout):
            return None
        conn.settimeout(ANSWER_TIMEOUT_S)
        conn.sendall(json.dumps(payload).encode() + b"\n")
        with conn.makefile("rb") as reply:
            line = reply.readline()
    return json.loads(line) if line else None


def ask(settings: Settings, question: str, max_quotes: int | None) -> dict | None:
    """Answer through a warm server: (answer dict, index update summary or None); None when
    there is no server (the caller answers in-process)."""
    reply = _request(socket_path(settings), {"question": question, "max_quotes": max_quotes})
    if reply is None:
        return None
    if "error" in reply:
        raise WarmError(reply["error"])
    return reply


def start(settings: Settings) -> None:
    """Start a server for these settings in the background, detached from this terminal."""
    log = open(server_dir(settings) / "server.log", "ab")
    subprocess.Popen(
        [sys.executable, "-m", "assistant.warm", "--sources", str(settings.sources_dir.resolve()),
         "--index", str(settings.index_dir.resolve()), "--vector-store", settings.vector_store,
         "--milvus-uri", settings.resolved_milvus_uri],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True)


def stop_all(settings: Settings) -> int:
    """Ask every warm server of this user to stop; the number stopped."""
    stopped = 0
    for path in server_dir(settings).glob("*.sock"):
        if _request(path, {"stop": True}) is not None:  # noqa: SIM102
            stopped += 1
        else:
            path.unlink(missing_ok=True)  # left behind by a killed server
    return stopped


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        server.touch()
        try:
            request = json.loads(self.rfile.readline())
            if request.get("ping"):
                reply = {"pong": True}
            elif request.get("stop"):
                reply = {"stopped": True}
                threading.Thread(target=server.shutdown, daemon=True).start()
            else:
                reply = server.answer(request["question"], request.get("max_quotes"))
        except Exception as exc:  # every failure goes back as one line for the user
            reply = {"error": str(exc) or type(exc).__name__}
        self.wfile.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, settings: Settings):
        from .core import Assistant

        self.assistant = Assistant(settings=settings, update=True)
        self.assistant.ask("warm-up")  # the first real question should not pay for lazy loading
        self.last_used = time.monotonic()
        super().__init__(str(path), _Handler)
        os.chmod(path, 0o600)

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def answer(self, question: str, max_quotes: int | None) -> dict:
        from .index.indexer import index_is_current

        update = None
        if not index_is_current(self.assistant.settings):
            report = self.assistant.index()
            update = report.summary() if report.wrote else None
        answer = self.assistant.ask(question, max_quotes=max_quotes)
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()} answered {question[:200]!r}", flush=True)
        return {"answer": answer.to_dict(), "update": update}

    def idle_watch(self, idle_seconds: float) -> None:
        while time.monotonic() - self.last_used < idle_seconds:
            time.sleep(min(30.0, idle_seconds))
        self.shutdown()


def serve(settings: Settings, idle_seconds: float = IDLE_SECONDS) -> None:
    from filelock import FileLock

    path = socket_path(settings)
    with FileLock(path.with_suffix(".lock")):  # two asks at once start one server
        if _request(path, {"ping": True}) is not None:
            return  # another one already serves these settings
        path.unlink(missing_ok=True)  # left behind by a killed server
        server = _Server(path, settings)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    threading.Thread(target=server.idle_watch, args=(idle_seconds,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="a warm assistant for `assistant ask` (started by it)")
    parser.add_argument("--sources", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--vector-store", default=None)
    parser.add_argument("--milvus-uri", default=None)
    parser.add_argument("--idle", type=float, default=IDLE_SECONDS, help="seconds without a question before it exits")
    args = parser.parse_args(argv)
    from .environment import settings_from_env

    # Started by `assistant ask` with its environment: the same settings as the ask that started it.
    settings = settings_from_env(os.environ).with_paths(args.sources, args.index)
    serve(settings.with_vector_store(args.vector_store, args.milvus_uri), args.idle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
