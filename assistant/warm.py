"""Keep a loaded assistant warm between `assistant ask` calls.

Loading torch, the model and the index takes about 10 s on two cores; answering takes tens of
milliseconds. So `assistant ask` hands its question to a small server that keeps them loaded,
listening on a Unix socket that only this user can open. When none runs yet, the first `ask`
starts one and waits for it (the time it would have spent loading anyway); an `ask` that comes
while a server is starting waits for that one instead of loading the model a second time. The
server brings the index up to date before each answer, exactly as `ask` does, and exits after
`IDLE_SECONDS` without a question. `--cold` (or ASSISTANT_WARM=0) answers in-process and starts
nothing; `assistant stop` ends this checkout's servers (`--all`: every one of this user's).

One server per `server_key`: every setting (all of `Settings`, so `ASSISTANT_READER=0` and
`on` never share a server) and the code. The server is given the caller's `Settings` object
itself, so it answers with exactly those. Each server has its own files in `server_dir`, all
readable by this user only: `KEY.sock`, `KEY.lock` (held while it starts), `KEY.json` (who it is)
and `KEY.log` (what it did, with tracebacks; question lengths, never their text).

One request and one reply per connection, each a line of JSON.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import pickle
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
# How long an `ask` waits for a server to start: loading takes 10-15 s, but the server first
# brings the index up to date, which for a new corpus can take minutes.
START_TIMEOUT_S = 30 * 60
MAX_REQUEST_BYTES = 64 * 1024  # a request is one question (at most max_question_chars) and a number
PACKAGE = Path(__file__).resolve().parent
log = logging.getLogger(__name__)


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


def _resolved(settings: Settings) -> Settings:
    return settings.with_paths(settings.sources_dir.resolve(), settings.index_dir.resolve())


def server_key(settings: Settings) -> str:
    """Every setting and the code: a server answers only the callers whose answers it would give."""
    fields = dataclasses.asdict(_resolved(settings))
    key = json.dumps([fields, _code_fingerprint()], sort_keys=True, default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def socket_path(settings: Settings) -> Path:
    return server_dir(settings) / f"{server_key(settings)}.sock"


def log_path(settings: Settings) -> Path:
    return socket_path(settings).with_suffix(".log")


def _request(path: Path, payload: dict) -> dict | None:
    """The server's reply, or None when no server listens there."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(CONNECT_TIMEOUT_S)
        try:
            conn.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError, socket.timeout):
            return None
        conn.settimeout(ANSWER_TIMEOUT_S)
        try:
            conn.sendall(json.dumps(payload).encode() + b"\n")
            with conn.makefile("rb") as reply:
                line = reply.readline()
        except (ConnectionResetError, BrokenPipeError):  # it stopped while we asked
            return None
    return json.loads(line) if line else None


def _starting(path: Path) -> bool:
    """Is a server for this socket loading now? (It holds the lock while it starts.)"""
    from filelock import FileLock, Timeout

    lock = FileLock(path.with_suffix(".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def _wait_until_up(path: Path, alive, deadline: float) -> bool:
    """Poll the socket until the server answers; False when `alive()` says it went away."""
    while time.monotonic() < deadline:
        if _request(path, {"ping": True}) is not None:
            return True
        if not alive():
            return _request(path, {"ping": True}) is not None
        time.sleep(0.2)
    return False


def ensure_server(settings: Settings, notify=None) -> bool:
    """A server for these settings is up: one that runs, one that is starting (waited for), or
    one started now (waited for). False when it could not start (the caller answers in-process,
    which reports why)."""
    path = socket_path(settings)
    deadline = time.monotonic() + START_TIMEOUT_S
    if _request(path, {"ping": True}) is not None:
        return True
    if _starting(path):
        if notify:
            notify(f"waiting for the warm assistant that is starting (log: {log_path(settings)})")
        return _wait_until_up(path, lambda: _starting(path), deadline)
    if notify:
        notify(f"starting a warm assistant for the next questions (log: {log_path(settings)})")
    process = start(settings)
    return _wait_until_up(path, lambda: process.poll() is None, deadline)


def ask(settings: Settings, question: str, max_quotes: int | None, start_server: bool = True,
        notify=None) -> dict | None:
    """Answer through a warm server, starting or waiting for one first (`start_server`): the
    reply (`answer`, `update`); None when no server could answer (the caller answers in-process)."""
    path = socket_path(settings)
    payload = {"question": question, "max_quotes": max_quotes}
    reply = _request(path, payload)
    if reply is None and start_server and ensure_server(settings, notify):
        reply = _request(path, payload)
    if reply is None:
        return None
    if "error" in reply:
        raise WarmError(reply["error"])
    return reply


def _open_log(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)  # also when an older log was made with other permissions
    return fd


def start(settings: Settings) -> subprocess.Popen:
    """Start a server for these settings in the background, detached from this terminal; it is
    handed the settings themselves (and its socket path) on its standard input."""
    log_fd = _open_log(log_path(settings))
    try:
        process = subprocess.Popen([sys.executable, "-m", "assistant.warm"], stdin=subprocess.PIPE,
                                   stdout=log_fd, stderr=log_fd, start_new_session=True, close_fds=True)
    finally:
        os.close(log_fd)
    with process.stdin:
        process.stdin.write(pickle.dumps({"settings": settings, "socket": str(socket_path(settings))}))
    return process


def _servers(settings: Settings):
    """(socket, info) for every server socket of this user; info is {} for an older server."""
    for path in sorted(server_dir(settings).glob("*.sock")):
        try:
            info = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        yield path, info


def _stop_one(path: Path) -> bool:
    if _request(path, {"stop": True}) is not None:
        return True
    path.unlink(missing_ok=True)  # left behind by a killed server
    path.with_suffix(".json").unlink(missing_ok=True)
    return False


def stop(settings: Settings, everyone: bool = False) -> int:
    """Stop the warm servers of this checkout (started from this package folder), or every one
    of this user's (`everyone`); the number stopped."""
    return sum(_stop_one(path) for path, info in _servers(settings)
               if everyone or info.get("package") == str(PACKAGE))


# --------------------------------------------------------------------------- the server


class RequestError(ValueError):
    """A request that is not what `ask` sends: answered with one line, no traceback."""


def parse_request(line: bytes, max_quotes_limit: int) -> dict:
    """The request as a dict with a known shape; RequestError for anything else."""
    if len(line) > MAX_REQUEST_BYTES:
        raise RequestError(f"malformed request: longer than {MAX_REQUEST_BYTES} bytes")
    try:
        request = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise RequestError("malformed request: not a line of JSON") from None
    if not isinstance(request, dict):
        raise RequestError("malformed request: not a JSON object")
    if request.get("ping") is True or request.get("stop") is True:
        return request
    question, quotes = request.get("question"), request.get("max_quotes")
    if not isinstance(question, str):
        raise RequestError("malformed request: 'question' must be a string")
    from .answer.question import check_quote_count
    from .answer.types import QuestionError

    try:
        check_quote_count(quotes, max_quotes_limit)
    except QuestionError:
        raise RequestError(f"malformed request: 'max_quotes' must be a whole number from 1 to {max_quotes_limit}") from None
    return {"question": question, "max_quotes": quotes}


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        from .answer.types import QuestionError

        server: _Server = self.server  # type: ignore[assignment]
        server.touch()
        try:
            request = parse_request(self.rfile.readline(MAX_REQUEST_BYTES + 1),
                                    server.assistant.settings.max_quotes_limit)
            if request.get("ping"):
                reply = {"pong": True}
            elif request.get("stop"):
                log.info("stopping: asked to")
                reply = {"stopped": True}
                threading.Thread(target=server.shutdown, daemon=True).start()
            else:
                reply = server.answer(request["question"], request["max_quotes"])
        except (RequestError, QuestionError) as exc:  # the caller's input: its message is the answer
            reply = {"error": str(exc)}
        except Exception as exc:  # one line for the user, the traceback in this server's log
            log.exception("answering failed")
            reply = {"error": f"the warm assistant failed: {type(exc).__name__}: {exc} "
                              f"(traceback in {server.log_file})"}
        try:
            self.wfile.write(json.dumps(reply, ensure_ascii=False).encode() + b"\n")
        except OSError:  # the caller went away
            pass


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, settings: Settings):
        from .core import Assistant

        self.log_file = path.with_suffix(".log")
        self.assistant = Assistant(settings=settings, update=True)
        # Said with the first answer, as an in-process `ask` would have said it.
        first = self.assistant.last_update
        self.pending_update = "\n".join([*first.skipped_lines(), first.summary()]) if first and first.wrote else None
        self.assistant.ask("warm-up")  # the first real question should not pay for lazy loading
        self.last_used = time.monotonic()
        self._update_lock = threading.Lock()
        super().__init__(str(path), _Handler)
        os.chmod(path, 0o600)

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def answer(self, question: str, max_quotes: int | None) -> dict:
        from .index.indexer import index_is_current

        started = time.monotonic()
        with self._update_lock:
            update, self.pending_update = self.pending_update, None
            if not index_is_current(self.assistant.settings):
                report = self.assistant.index()
                if report.wrote:
                    update = "\n".join([*report.skipped_lines(), report.summary()])
        answer = self.assistant.ask(question, max_quotes=max_quotes)
        log.info("answered a question of %d characters in %.0f ms", len(question), 1000 * (time.monotonic() - started))
        return {"answer": answer.to_dict(), "update": update}

    def idle_watch(self, idle_seconds: float) -> None:
        while time.monotonic() - self.last_used < idle_seconds:
            time.sleep(min(30.0, idle_seconds))
        log.info("stopping: idle for %.0f s", idle_seconds)
        self.shutdown()


def _write_info(path: Path, settings: Settings) -> None:
    info = {"pid": os.getpid(), "package": str(PACKAGE), "code": _code_fingerprint(),
            "sources": str(settings.sources_dir.resolve()), "index": str(settings.index_dir.resolve()),
            "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    target = path.with_suffix(".json")
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(info), encoding="utf-8")
    os.replace(tmp, target)


def _stop_outdated(path: Path, settings: Settings) -> None:
    """Servers of this checkout and these folders that run older code are never asked again:
    stop them instead of letting them hold a model for their idle time."""
    me = {"package": str(PACKAGE), "sources": str(settings.sources_dir.resolve()),
          "index": str(settings.index_dir.resolve())}
    for other, info in _servers(settings):
        if other != path and all(info.get(k) == v for k, v in me.items()) and info.get("code") != _code_fingerprint():
            log.info("stopping an older server of this checkout (%s)", other.name)
            _stop_one(other)


def serve(settings: Settings, path: Path, idle_seconds: float = IDLE_SECONDS) -> None:
    from filelock import FileLock

    with FileLock(path.with_suffix(".lock")):  # two asks at once start one server; held while loading
        if _request(path, {"ping": True}) is not None:
            log.info("another server already answers on %s", path.name)
            return
        path.unlink(missing_ok=True)  # left behind by a killed server
        started = time.monotonic()
        log.info("starting for sources %s, index %s", settings.sources_dir.resolve(), settings.index_dir.resolve())
        server = _Server(path, settings)
        _write_info(path, settings)
        log.info("ready in %.1f s", time.monotonic() - started)
    _stop_outdated(path, settings)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    threading.Thread(target=server.idle_watch, args=(idle_seconds,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        path.unlink(missing_ok=True)
        path.with_suffix(".json").unlink(missing_ok=True)
        log.info("stopped")


def main(argv: list[str] | None = None) -> int:
    """Started by `start`: the settings and socket path come on standard input."""
    import argparse

    parser = argparse.ArgumentParser(description="a warm assistant for `assistant ask` (started by it)")
    parser.add_argument("--idle", type=float, default=IDLE_SECONDS, help="seconds without a question before it exits")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s pid {os.getpid()} %(levelname)s %(message)s")
    handed = pickle.loads(sys.stdin.buffer.read())  # written by `start`, our parent, through a pipe
    try:
        serve(handed["settings"], Path(handed["socket"]), args.idle)
    except Exception:
        log.exception("the warm assistant could not start")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
