"""Screenshots of the web chat's main states at 1280x800, for the README and for looking at.

Starts the real `assistant chat` on a copy of the shipped articles (loopback) and drives it with
Debian chromium. Writes docs/chat_empty.png, docs/chat_answer.png, docs/chat_article.png,
docs/chat_abstention.png and docs/chat_dark.png; and docs/chat_conflict.png from a second chat whose
corpus adds one planted article that disagrees with a shipped one (tests/test_conflict.py's).

    .venv/bin/python docs/take_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from chat_server import CHROMIUM, CHROMIUM_FLAGS, start_chat  # noqa: E402
from conftest import copy_shipped  # noqa: E402
from test_chat import ask  # noqa: E402
from test_conflict import QUESTION as CONFLICT_QUESTION  # noqa: E402
from test_conflict import planted  # noqa: E402

DOCS = REPO / "docs"
UNANSWERABLE = "Wie hoch ist der Eiffelturm?"


def main() -> int:
    from gradio_client import Client
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        copy_shipped(root / "sources")  # the shipped articles only, not what users added
        server = start_chat(root / "sources", root / "index", root / "chat.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.set_default_timeout(60_000)
                page.goto(server.url, wait_until="load")
                page.wait_for_selector("#question textarea")
                page.screenshot(path=DOCS / "chat_empty.png")
                ask(page, "How many servers will Vodafone migrate to Azure?")
                page.wait_for_selector("#sources-panel .card")
                page.wait_for_timeout(500)
                page.screenshot(path=DOCS / "chat_answer.png")
                page.locator('#chatbot .quote a.cite[href*="000_ce0777626153ace7.txt"]').first.click()
                page.wait_for_selector("#article-panel mark.hl")
                page.wait_for_timeout(800)
                page.screenshot(path=DOCS / "chat_article.png")
                answer = Client(server.url, verbose=False).predict(UNANSWERABLE, api_name="/chat")
                if not answer["abstained"]:
                    raise SystemExit(f"the chat does not abstain on {UNANSWERABLE!r}: no abstention shot")
                answered_shot(browser, server.url, UNANSWERABLE, "chat_abstention.png")
                answered_shot(browser, server.url + "?__theme=dark", "How many customers does Vodacom serve?",
                              "chat_dark.png")
                browser.close()
        finally:
            server.stop()
    conflict_shot()
    for png in sorted(DOCS.glob("chat_*.png")):
        print(png.relative_to(REPO))
    return 0


def answered_shot(browser, url: str, question: str, name: str) -> None:
    """A new page at `url`, `question` asked and answered, its screenshot as docs/`name`."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(60_000)
    page.goto(url, wait_until="load")
    page.wait_for_selector("#question textarea")
    ask(page, question)
    page.wait_for_selector("#sources-panel .card")
    page.wait_for_timeout(500)
    page.screenshot(path=DOCS / name)


def conflict_shot() -> None:
    """Articles that disagree: the shipped ones plus a planted newer one giving 99 percent."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sources = copy_shipped(root / "sources")
        (sources / "vodacom_99.txt").write_text(planted(3), encoding="utf-8")
        server = start_chat(sources, root / "index", root / "chat.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                answered_shot(browser, server.url, CONFLICT_QUESTION, "chat_conflict.png")
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
