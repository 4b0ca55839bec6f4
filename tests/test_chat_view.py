"""HTML of the chat (assistant/chat_view.py): everything escaped, quotes exact, citations parse back."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from assistant import Answer, Quote
from assistant.answer.types import MetadataCitation, ShortAnswer
from assistant.ingest.sources import Article
from assistant.web.app import exposure_warning, parse_auth
from assistant.web.view import (answer_chunks, article_view, cite_href, library_list, parse_cite, removal_report,
                                 sources_panel, upload_report, user_message)

TEXT = "Intro line.\n\nThe sign read <script>window.__pwned=1</script> & <b>bold</b> in 2023.\nEnd."
ARTICLE = Article(file="a <b>.txt", title="T <i>itle</i>", date="2023-01-02", language="en", text=TEXT,
                  content_hash="0" * 64)
START = TEXT.index("The sign")
END = TEXT.index("\nEnd")


def quote(number: int = 1) -> Quote:
    return Quote(number=number, text=TEXT[START:END], source=ARTICLE.file, start=START, end=END, score=0.9,
                 title=ARTICLE.title, date="2023-01-02", language="en")


def answer(abstained: bool = False) -> Answer:
    q = quote()
    text = "The articles do not answer this question." if abstained else f'The articles say:\n[1] "{q.text}"'
    return Answer(question="q?", answer=text, abstained=abstained, language="en",
                  quotes=[] if abstained else [q], related=[q] if abstained else [], top_score=0.9)


def no_raw_markup(html: str) -> None:
    assert "<script" not in html and "<b>" not in html and "<i>" not in html


def test_answer_html_escapes_and_keeps_exact_quote():
    html = "".join(answer_chunks(answer(), resolved="<script>x</script>"))
    no_raw_markup(html)
    shown = re.search(r'<span class="qt[^"]*">(.*?)</span>', html).group(1)
    import html as html_lib
    assert html_lib.unescape(shown) == TEXT[START:END]
    assert "\n\n" not in html  # a blank line would end the chat's HTML block


def test_abstention_is_marked_not_an_answer():
    chunks = answer_chunks(answer(abstained=True))
    assert 'class="abstain"' in chunks[0] and "do not answer" in chunks[0]
    assert "not an answer" in chunks[1]
    panel = sources_panel(answer(abstained=True), {ARTICLE.file: ARTICLE})
    assert "not an answer" in panel and "card related" in panel


def test_sources_panel_and_article_view_escape_and_mark():
    panel = sources_panel(answer(), {ARTICLE.file: ARTICLE})
    no_raw_markup(panel)
    assert "<mark>" in panel and "2023-01-02 · English · a &lt;b&gt;.txt" in panel
    view = article_view(ARTICLE, START, END)
    no_raw_markup(view)
    assert '<mark id="hl" class="hl">The sign read &lt;script&gt;' in view
    assert article_view(ARTICLE, 5, 10_000).count("<mark") == 0  # out of range: nothing marked


def test_citation_round_trip():
    q = quote()
    assert parse_cite(cite_href(q)[len("#cite:"):]) == (q.source, q.start, q.end, None)
    short = ShortAnswer(text="2023", source=q.source, start=TEXT.index("2023"), end=TEXT.index("2023") + 4, quote=1)
    assert parse_cite(cite_href(q, short)) == (q.source, q.start, q.end, (short.start, short.end))
    for bad in ("", "x:1:a", "1:2", "-1:3:a", "1:b:c", "1:2:a:3", "1:2:a:3:x"):
        assert parse_cite(bad) is None


def visible(html: str) -> str:
    """The text a browser shows for an HTML fragment (tags dropped, entities decoded)."""
    import html as html_lib
    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))


@pytest.fixture(scope="module")
def customers(shipped_assistant):
    """A real answer whose short answer lies in a German quote, asked in English."""
    answer = shipped_assistant.ask("How many servers will Vodafone migrate to Azure?")
    assert answer.short_answer is not None and answer.language == "en", answer
    return answer


def test_short_answer_comes_first_with_its_citation_and_language(customers, shipped_assistant):
    html = "".join(answer_chunks(customers))
    first = html[:html.index('class="framing"')]
    short = customers.short_answer
    assert 'class="short-answer"' in first and f"[{short.quote}]</a>" in first
    assert visible(first).startswith(f"{short.text} [{short.quote}] (source in German)")
    quote = next(q for q in customers.quotes if q.number == short.quote)
    line = re.search(r'<span class="qt[^"]*">(.*?)</span>', html[html.index('class="quote"'):]).group(1)
    assert f'<mark class="answer">{short.text}</mark>' in line
    assert visible(line) == quote.text == shipped_assistant.article(quote.source).text[quote.start:quote.end]
    cite = parse_cite(cite_href(quote, short))
    view = article_view(shipped_assistant.article(quote.source), cite.start, cite.end, cite.answer)
    marked = re.search(r'<mark id="hl" class="hl">(.*?)</mark>(?!</mark>)', view).group(0)
    assert f'<mark class="answer">{short.text}</mark>' in marked


def test_german_question_says_source_language_in_german(customers):
    german = replace(customers, language="de", quotes=[replace(q, language="en") for q in customers.quotes])
    assert "(Quelle auf Englisch)" in visible(answer_chunks(german)[0])


def test_confirming_quote_and_metadata_answer(customers):
    second = replace(customers.quotes[0], number=2, confirms=1)  # a second quote that repeats the first's answer
    html = "".join(answer_chunks(replace(customers, quotes=[customers.quotes[0], second])))
    assert "agrees with [1]" in visible(html)
    de = "".join(answer_chunks(replace(customers, language="de", quotes=[customers.quotes[0], second])))
    assert "bestätigt [1]" in visible(de)
    cited = MetadataCitation(field="authors", value=("<b>Ann</b>",), source="a <b>.txt", title="T")
    html = "".join(answer_chunks(replace(customers, quotes=[], short_answer=None, metadata=cited)))
    no_raw_markup(html)
    assert "metadata names the author: <b>Ann</b> (T, a <b>.txt" in visible(html)
    link = re.search(r'<a class="cite" href="#cite:([^"]*)">', html).group(1)
    assert parse_cite(link) == ("a <b>.txt", 0, 0, None)  # opens the article, nothing marked


def test_sources_panel_marks_the_short_answer(customers, shipped_assistant):
    articles = {a.file: a for a in shipped_assistant.sources()}
    panel = sources_panel(customers, articles)
    assert panel.count('<mark class="answer">') == 1
    assert f'<mark class="answer">{customers.short_answer.text}</mark>' in panel


def test_user_text_and_upload_messages_escaped():
    no_raw_markup(user_message("<script>alert(1)</script><b>x</b>"))
    no_raw_markup(upload_report([(False, "<b>x.exe</b>: refused")]))
    no_raw_markup(removal_report(False, "<b>x.txt</b> is not indexed"))
    assert 'class="err"' in removal_report(False, "x") and 'class="ok"' in removal_report(True, "x")


def test_library_lists_each_article_escaped_with_its_details():
    """The Library tab shows titles, files and authors from articles: all of it escaped."""
    other = replace(ARTICLE, file="b.txt", title="Zweiter Artikel", date=None, language="de",
                    authors=("Ada <script>Lovelace</script>", "Bob"))
    html = library_list([ARTICLE, other])
    no_raw_markup(html)
    assert html.count('class="lib-item"') == 2 and "2 articles indexed" in html
    assert "T &lt;i&gt;itle&lt;/i&gt;" in html and "(a &lt;b&gt;.txt)" in html
    assert "2023-01-02 · English" in html
    assert "no date · German · Ada &lt;script&gt;Lovelace&lt;/script&gt;, Bob" in html
    assert "\n\n" not in html
    assert "1 article indexed" in library_list([ARTICLE])
    assert "No article is indexed" in library_list([])


@pytest.mark.parametrize("host, auth, warns", [
    ("127.0.0.1", None, False), ("localhost", None, False), ("::1", None, False),
    ("0.0.0.0", None, True), ("192.168.1.5", None, True), ("0.0.0.0", ("u", "p"), False),
])
def test_exposure_warning(host, auth, warns):
    assert (exposure_warning(host, auth) is not None) == warns


def test_parse_auth():
    assert parse_auth("user:pa:ss") == ("user", "pa:ss")
    assert parse_auth(None) is None
    for bad in ("user", ":pw", "user:"):
        with pytest.raises(ValueError):
            parse_auth(bad)


def test_sources_one_line_per_article_with_its_quote_numbers(customers):
    html = answer_chunks(customers)[-1]
    lines = re.findall(r'<div class="src">.*?</div>', html)
    files = list(dict.fromkeys(q.source for q in customers.quotes))
    assert len(lines) == len(files)
    for file, line in zip(files, lines):
        numbers = [q.number for q in customers.quotes if q.source == file]
        first = next(q for q in customers.quotes if q.source == file)
        text = visible(line)
        assert text.startswith(" ".join(f"[{n}]" for n in numbers) + f" {first.title}"), text
        assert f'<span class="file">({file})</span>' in line
        for detail in (first.date, *first.authors, {"de": "German", "en": "English"}[first.language]):
            assert detail and detail in text, (detail, text)


def test_related_quotes_show_their_article_titles():
    html = answer_chunks(answer(abstained=True))[1]
    assert "— T &lt;i&gt;itle&lt;/i&gt;" in html


def test_copy_text_is_the_plain_answer(customers):
    import html as html_lib
    last = answer_chunks(customers)[-1]
    hidden = re.search(r'<span class="copy-text">(.*?)</span>', last).group(1)
    assert html_lib.unescape(hidden) == customers.answer and "\n\n" not in hidden
    refusal = answer_chunks(answer(abstained=True))[-1]
    assert 'class="copy-answer"' in refusal and "do not answer this question." in refusal


def test_every_message_is_one_html_block():
    """A message that starts with a block tag and has no blank line is left alone by the chat's
    markdown step, so `**x**` or `[t](u)` in a question or an article is shown as written."""
    assert user_message("**x** [t](u)").startswith("<div")
    for chunk in answer_chunks(answer()) + answer_chunks(answer(abstained=True)):
        assert chunk.startswith("<div") and "\n" not in chunk


@pytest.mark.parametrize("text, marks", [
    ("Vodacom versorgt 132,6 Millionen Kunden.", True),
    ("„Diese Partnerschaft wird Europa verändern“, sagte er.", False),  # starts with its own mark
    ("Er sagte: \"Diese Partnerschaft wird Europa verändern.\"", False),  # ends with one
    ("'Ja', sagte sie.", False),
])
def test_quotation_marks_never_doubled_in_text_copy_or_page(text, marks):
    """The text answer (and so Copy) and the page follow one rule (render.py): marks are added
    around a quote unless its own text starts or ends with one."""
    from assistant.answer.render import render

    q = Quote(number=1, text=text, source="a.txt", start=0, end=len(text), score=1.0, title="T", date=None,
              language="de")
    plain = render("de", [q], False)
    line = plain.splitlines()[1]
    assert line == (f'[1] "{text}"' if marks else f"[1] {text}"), line
    for doubled in ('""', "\"„", "“\"", "\"'"):
        assert doubled not in line.replace(text, "X")
    html = answer_chunks(Answer(question="q?", answer=plain, abstained=False, language="de", quotes=[q]))[1]
    assert ('class="qt marks"' in html) == marks, html


def test_read_only_chat_has_no_events_that_change_articles(shipped_assistant):
    """Read-only (the default), the upload and removal events are not registered at all: no
    HTTP client can reach what does not exist. --edit or --edit-password adds them."""
    from assistant.web.access import EditAccess
    from assistant.web.app import build_app

    def handlers_of(app) -> set[str]:
        return {getattr(f.fn, "__name__", "") for f in app.fns.values()}

    changing = {"add_articles", "confirm_removal", "ask_removal"}
    read_only = build_app(shipped_assistant)
    assert not changing & handlers_of(read_only)
    notes = [b.value for b in read_only.blocks.values() if getattr(b, "elem_id", None) in
             ("upload-read-only", "remove-read-only")]
    assert len(notes) == 2 and all("read-only" in n and "--edit" in n for n in notes)
    for edits in (EditAccess(open=True), EditAccess(password="pw")):
        assert changing <= handlers_of(build_app(shipped_assistant, edits))


def test_edit_refusal_checks_the_password_and_locks_out_the_guesser(shipped_assistant):
    """Checked in the event itself: a wrong password is refused at once and its client must wait
    a second before the next try (web/access.py; tests/test_access.py has the per-client part)."""
    import time

    from assistant.web.access import EditAccess
    from assistant.web.handlers import ChatHandlers

    handlers = ChatHandlers(shipped_assistant, EditAccess(password="pw"))
    assert "wrong edit password" in handlers.edit_refusal("guess", None)
    assert "wait" in handlers.edit_refusal("pw", None)  # even the right one, straight after a guess
    time.sleep(handlers.gate.delay_s + 0.05)
    assert handlers.edit_refusal("pw", None) is None
    assert "read-only" in ChatHandlers(shipped_assistant).edit_refusal("pw", None)
    assert ChatHandlers(shipped_assistant, EditAccess(open=True)).edit_refusal(None, None) is None


def test_upload_reports_what_was_stored_before_indexing(tiny_settings, embedder, tmp_path):
    """A stop while indexing must not hide that the files are in the sources folder: the first
    report comes before indexing starts."""
    from assistant import Assistant
    from assistant.web.access import EditAccess
    from assistant.web.handlers import ChatHandlers

    upload = tmp_path / "kiel.txt"
    upload.write_text("Die Stadt Kiel hat 2023 einen neuen Hafen eröffnet, sagte die Bürgermeisterin.", encoding="utf-8")
    handlers = ChatHandlers(Assistant(settings=tiny_settings, update=True, embedder=embedder), EditAccess(open=True))
    steps = handlers.add_articles([str(upload)], progress=lambda *a, **k: None)
    first = next(steps)[0]
    assert "added kiel.txt" in first and "stored in the sources folder; indexing them now" in first
    assert (tiny_settings.sources_dir / "kiel.txt").exists() and "index updated" not in first
    last = list(steps)[-1][0]
    assert "index updated (1 added" in last


@pytest.mark.parametrize("host, auth, edits, needle", [
    ("0.0.0.0", None, "open", "ADD AND DELETE"),
    ("0.0.0.0", None, "password", "changing them needs the edit password"),
    ("0.0.0.0", None, "none", "can read the articles."),
])
def test_exposure_warning_says_what_strangers_can_change(host, auth, edits, needle):
    from assistant.web.access import EditAccess

    access = {"open": EditAccess(open=True), "password": EditAccess(password="x"), "none": EditAccess()}[edits]
    assert needle in exposure_warning(host, auth, access)


def test_a_conflict_shows_each_answer_with_its_source_and_date_escaped():
    first, second = quote(1), replace(quote(2), title="Other <b>paper</b>", date="2022-05-06", source="b.txt")
    a, b = TEXT.index("<script>"), TEXT.index("in 2023")
    sides = [ShortAnswer(TEXT[a:a + 8], first.source, a, a + 8, 1), ShortAnswer("2023", "b.txt", b + 3, b + 7, 2)]
    conflict = Answer(question="q?", answer="The articles disagree: ...", abstained=False, language="en",
                      quotes=[first, second], top_score=0.9, conflict=True, sides=sides)
    html = "".join(answer_chunks(conflict))
    no_raw_markup(html)
    assert 'class="conflict"' in html and "The articles disagree:" in html and 'class="short-answer"' not in html
    assert html.index("&lt;script&gt;") < html.index("— T &lt;i&gt;itle&lt;/i&gt;, 2023-01-02")
    assert "— Other &lt;b&gt;paper&lt;/b&gt;, 2022-05-06" in html
    assert html.count('<mark class="answer">') == 2  # each side marked in its own quote
    german = "".join(answer_chunks(replace(conflict, language="de")))
    assert "Die Artikel widersprechen sich:" in german
