"""Screenshots of the web chat's main states at 1280x800, for the README and for looking at.

Starts the real `assistant chat` on a copy of the shipped articles (loopback) and drives it with
Debian chromium. Writes docs/chat_empty.png, docs/chat_answer.png, docs/chat_article.png and
docs/chat_abstention.png. While the abstain threshold is not calibrated (config.py says 0.0, so
nothing abstains), the abstention shot comes from the same app started with
`Settings.abstain_threshold = STAND_IN_THRESHOLD`, and the script says so.

    .venv/bin/python docs/take_screenshots.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from chat_server import CHROMIUM, CHROMIUM_FLAGS, start_chat  # noqa: E402
from test_chat import ask  # noqa: E402

DOCS = REPO / "docs"
UNANSWERABLE = "Wie hoch ist der Eiffelturm?"
STAND_IN_THRESHOLD = 0.8
# The chat as `assistant chat` runs it, with only the abstain threshold changed.
STAND_IN_APP = """
import sys, dataclasses
from pathlib import Path
from assistant.chat import CSS, build_app
from assistant.config import Settings
from assistant.engine import Engine
settings = dataclasses.replace(Settings().with_paths(Path(sys.argv[1]), Path(sys.argv[2])),
                               abstain_threshold=float(sys.argv[4]))
engine, _ = Engine.open(settings, progress=False)
build_app(engine).queue().launch(server_name="127.0.0.1", server_port=int(sys.argv[3]), css=CSS, ssr_mode=False,
                                   footer_links=[])
"""


def abstention_shot(browser, sources: Path, index: Path, log: Path) -> None:
    import subprocess
    import time
    import urllib.request

    from chat_server import free_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", STAND_IN_APP, str(sources), str(index), str(port),
                                str(STAND_IN_THRESHOLD)], cwd=REPO, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except OSError:
                time.sleep(0.5)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(60_000)
        page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
        page.wait_for_selector("#question textarea")
        ask(page, UNANSWERABLE)
        page.wait_for_selector("#sources-panel .card")
        page.wait_for_timeout(500)
        page.screenshot(path=DOCS / "chat_abstention.png")
    finally:
        process.terminate()
        process.wait(timeout=15)


def main() -> int:
    from gradio_client import Client
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "sources", root / "sources")
        server = start_chat(root / "sources", root / "index", root / "chat.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.set_default_timeout(60_000)
                page.goto(server.url, wait_until="load")
                page.wait_for_selector("#question textarea")
                page.screenshot(path=DOCS / "chat_empty.png")
                ask(page, "What share of Vodacom does Vodafone own?")
                page.wait_for_selector("#sources-panel .card")
                page.wait_for_timeout(500)
                page.screenshot(path=DOCS / "chat_answer.png")
                page.locator('#chatbot .quote a.cite[href*="000_ce0777626153ace7.txt"]').first.click()
                page.wait_for_selector("#article-panel mark.hl")
                page.wait_for_timeout(800)
                page.screenshot(path=DOCS / "chat_article.png")
                if Client(server.url, verbose=False).predict(UNANSWERABLE, api_name="/chat")["abstained"]:
                    page.click("button:has-text('New chat')")
                    ask(page, UNANSWERABLE)
                    page.wait_for_timeout(500)
                    page.screenshot(path=DOCS / "chat_abstention.png")
                else:
                    print(f"the engine does not abstain on {UNANSWERABLE!r} yet: abstention shot taken with "
                          f"abstain_threshold={STAND_IN_THRESHOLD}")
                    server.stop()
                    abstention_shot(browser, root / "sources", root / "index", root / "stand_in.log")
                browser.close()
        finally:
            server.stop()
    for png in sorted(DOCS.glob("chat_*.png")):
        print(png.relative_to(REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
