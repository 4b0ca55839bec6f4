"""web/access.py without a server: wrong passwords slow down their sender, never anyone else
(issue 27, item 11). Real clocks, short delays."""

from __future__ import annotations

import asyncio
import time

from assistant.web.access import WrongPasswordGate, slow_login
from assistant.web.limits import client_address


def test_a_wrong_edit_password_locks_out_its_client_only_and_at_once():
    gate = WrongPasswordGate(delay_s=60.0)  # long enough that nothing here outlives it
    started = time.monotonic()
    assert gate.refusal("10.0.0.9", "guess", "secret") == "wrong edit password: nothing was changed"
    for given in ("guess-2", "secret"):  # unchecked meanwhile: a right guess is not told apart
        assert "wait 60 s after a wrong edit password" in gate.refusal("10.0.0.9", given, "secret")
    assert gate.refusal("10.0.0.1", "secret", "secret") is None  # another client: not held up
    assert time.monotonic() - started < 1.0  # nobody was made to sleep


def test_the_lockout_ends_and_a_right_password_clears_it():
    gate = WrongPasswordGate(delay_s=0.2)
    assert gate.refusal("a", None, "secret") is not None
    time.sleep(0.25)
    assert gate.refusal("a", "secret", "secret") is None
    assert gate.refusal("a", "secret", "secret") is None


def test_wrong_logins_wait_one_at_a_time_per_address_and_never_delay_another():
    check = slow_login("tester", "s3cret", delay_s=0.5)

    async def login(address: str, password: str) -> tuple[bool, float]:
        client_address.set(address)  # what limits.RequestLimits sets for each request
        started = time.monotonic()
        return await check("tester", password), time.monotonic() - started

    async def main():
        guesses = [asyncio.create_task(login("10.0.0.9", f"guess-{i}")) for i in range(6)]
        await asyncio.sleep(0.05)  # the guesses are waiting
        right = await login("10.0.0.1", "s3cret")
        return right, await asyncio.gather(*guesses)

    (ok, waited), guesses = asyncio.run(main())
    assert ok and waited < 0.2
    assert not any(result for result, _ in guesses)
    assert max(elapsed for _, elapsed in guesses) >= 6 * 0.5 - 0.1  # one at a time
