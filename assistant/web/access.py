"""Who may change the articles from the chat, and how wrong passwords are slowed down.

The chat is read-only by default: asking and reading are open to whoever can open the page
(with `--auth`, whoever logs in), but adding and removing articles change what everyone's
answers are made of, so they need one of:

- `--edit` (ASSISTANT_EDIT=1): everyone who can open the chat may add and remove articles
  (the right choice for one person on their own machine);
- `--edit-password PASSWORD` (ASSISTANT_EDIT_PASSWORD): whoever gives that password in the
  Add articles or Library tab.

Read-only, the upload and removal events are not registered at all, so no HTTP client can call
them; with a password, the events themselves check it (hiding a button protects nothing: the
page's events are reachable through Gradio's queue by any client). Wrong passwords slow down
the client that gives them (its address), never anyone else: a wrong login is answered after
`WRONG_PASSWORD_DELAY_S`, one at a time per address; after a wrong edit password, that address's
next edit within the same time is refused unchecked, at once, so guesses never hold a place in
Gradio's queue (20 queued guesses once made the right password wait 20 s).
"""

from __future__ import annotations

import asyncio
import hmac
import threading
import time
from dataclasses import dataclass

from .limits import client_address

# 40 guesses took 0.7 s without a delay; with it they take 40 s or more, one after another,
# while a person who mistypes once waits a second.
WRONG_PASSWORD_DELAY_S = 1.0


def same_secret(given: object, expected: str) -> bool:
    """Constant-time comparison, so the time taken says nothing about how much was right."""
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True)
class EditAccess:
    """How the chat lets articles be added and removed (see the module docstring)."""

    open: bool = False  # --edit: anyone who reaches the chat
    password: str | None = None  # --edit-password

    @property
    def allowed(self) -> bool:
        """Can articles be changed from this chat at all (so the events exist)?"""
        return self.open or bool(self.password)

    @property
    def needs_password(self) -> bool:
        return not self.open and bool(self.password)

    def describe(self) -> str:
        if self.open:
            return "open to everyone who can reach the chat (--edit)"
        if self.password:
            return "needs the edit password"
        return "read-only (start it with --edit or --edit-password to add and remove articles)"


class WrongPasswordGate:
    """The edit password, checked per client: after a wrong one, that client is refused without
    a check until `delay_s` has passed; the refusal comes at once, so a guess occupies none of
    the queue's workers, and other clients are never made to wait."""

    MAX_CLIENTS = 10_000  # remembered wrong-password times; forgotten once their wait is over

    def __init__(self, delay_s: float = WRONG_PASSWORD_DELAY_S):
        self.delay_s = delay_s
        self._wrong_at: dict[str, float] = {}  # client address -> when it last gave a wrong password
        self._lock = threading.Lock()

    def refusal(self, client: str, given: object, expected: str) -> str | None:
        """None when `given` is the password; else why the edit is refused."""
        now = time.monotonic()
        with self._lock:
            if now - self._wrong_at.get(client, -self.delay_s) < self.delay_s:
                return f"wait {self.delay_s:g} s after a wrong edit password: nothing was changed"
            if same_secret(given, expected):
                self._wrong_at.pop(client, None)
                return None
            if len(self._wrong_at) >= self.MAX_CLIENTS:
                self._wrong_at = {c: t for c, t in self._wrong_at.items() if now - t < self.delay_s}
            self._wrong_at[client] = now
            return "wrong edit password: nothing was changed"


def slow_login(user: str, password: str, delay_s: float = WRONG_PASSWORD_DELAY_S):
    """gradio's `auth=` for USER:PASSWORD, as a coroutine: a wrong login waits `delay_s` before
    it is refused, one at a time per client address (limits.client_address), without blocking
    the server or delaying other clients' logins."""
    locks: dict[str, asyncio.Lock] = {}

    async def check(given_user: str, given_password: str) -> bool:
        client = client_address.get()
        lock = locks.setdefault(client, asyncio.Lock())
        async with lock:
            if same_secret(given_user, user) & same_secret(given_password, password):
                return True
            await asyncio.sleep(delay_s)
            return False

    return check
