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
page's events are reachable through Gradio's queue by any client). Wrong passwords, for the
login and for editing, are answered slowly: one at a time, each after `WRONG_PASSWORD_DELAY_S`.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
import time
from dataclasses import dataclass

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
    """Checks passwords one at a time; each wrong one holds the gate for a while, so guessing is
    slow (the events run in gradio's worker threads, hence a threading lock)."""

    def __init__(self, delay_s: float = WRONG_PASSWORD_DELAY_S):
        self.delay_s = delay_s
        self._lock = threading.Lock()

    def check(self, given: object, expected: str) -> bool:
        with self._lock:
            if same_secret(given, expected):
                return True
            time.sleep(self.delay_s)
            return False


def slow_login(user: str, password: str, delay_s: float = WRONG_PASSWORD_DELAY_S):
    """gradio's `auth=` for USER:PASSWORD, as a coroutine: a wrong login waits `delay_s` before
    it is refused, and logins are checked one at a time, without blocking the server."""
    lock = asyncio.Lock()

    async def check(given_user: str, given_password: str) -> bool:
        async with lock:
            if same_secret(given_user, user) & same_secret(given_password, password):
                return True
            await asyncio.sleep(delay_s)
            return False

    return check
