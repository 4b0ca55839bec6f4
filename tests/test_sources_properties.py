"""Property test of the article loader: random bytes under any supported suffix give an
Article or a SourceError, never another exception. 200 examples per property."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.ingest.sources import Article, SourceError, load_articles, parse_article

SUFFIX = st.sampled_from([".txt", ".md", ".html", ".htm", ".TXT"])
TEXTY = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=1500).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.text(max_size=800).map(lambda s: s.encode("utf-16")),
    st.text(max_size=800).map(lambda s: ("<html><head><title>" + s[:40] + "</title></head><body><p>" + s
                                         + "</p></body></html>").encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from(["# Titel", "date: 2024-01-16", "Der Rat tagte.", "\n\n", "<p>", "</div>", "\x00",
                              "\xff", "ÄÖÜ", "---", "* item", "[link](http://a)", "    code"]), max_size=40)
    .map(lambda parts: "\n".join(parts).encode("utf-8")),
    st.text(max_size=1500).map(lambda s: s.encode("latin-1", "replace")),
)
PROFILE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(article: Article) -> None:
    assert article.text.strip() and len(article.text.split()) >= 3
    assert article.language in ("de", "en") and article.title
    assert len(article.content_hash) == 64


@PROFILE
@given(TEXTY, SUFFIX)
def test_parse_article_gives_article_or_source_error(data, suffix):
    try:
        article = parse_article("a" + suffix, data)
    except SourceError as exc:
        assert str(exc)
        return
    check(article)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(TEXTY, SUFFIX)
def test_loader_skips_unreadable_files_with_a_reason(tmp_path, data, suffix):
    name = "x" + suffix
    (tmp_path / name).write_bytes(data)
    articles, skipped = load_articles(tmp_path, [name])
    assert len(articles) + len(skipped) == 1
    for s in skipped:
        assert s.file == name and s.reason
    for a in articles:
        check(a)
