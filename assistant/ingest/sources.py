"""Read the articles in a sources folder into cleaned text with metadata."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from .boilerplate import HTML_PRUNE_XPATH
from .cleaning import clean_article_text, first_date_in_text, markdown_to_text
# The folder's rules live in folder.py (light, for the command line); named here as before.
from .folder import ARTICLE_SUFFIXES, SourceError, SourcesFolderMissing, article_files, check_inside  # noqa: F401
from .language import detect_language
from .titles import article_title

MAX_ARTICLE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Article:
    file: str  # name relative to the sources folder: the article's identity
    title: str
    date: str | None  # ISO date ("2024-01-16" or "2020-12") when known
    language: str  # "de" or "en"
    text: str  # the kept, cleaned text that quote offsets point into
    content_hash: str  # sha256 of the file's bytes
    authors: tuple[str, ...] = ()  # from the byline in `text`, else from the HTML page's metadata
    url: str | None = None  # the original address: HTML metadata or a "Quelle: https://..." line
    # [start, end) of the byline line inside `text` ("/ Achim Sawall", "By Staff Reporter"); None
    # when there is none in the text (HTML bylines are removed by trafilatura: authors from metadata).
    byline: tuple[int, int] | None = None

    @property
    def unquotable(self) -> tuple[tuple[int, int], ...]:
        """Spans kept in `text` but left out of passages, so they are never quoted as evidence."""
        return (self.byline,) if self.byline else ()

    def metadata(self) -> dict:
        meta = asdict(self)
        del meta["text"]
        meta["authors"] = list(self.authors)
        meta["byline"] = list(self.byline) if self.byline else None
        return meta


@dataclass(frozen=True)
class PageMetadata:
    """What an HTML page says about itself (trafilatura): all optional."""

    title: str | None = None
    date: str | None = None
    authors: tuple[str, ...] = ()
    url: str | None = None


@dataclass
class Skipped:
    file: str
    reason: str
    content_hash: str | None = None  # recorded so an unchanged bad file is not re-read every run


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Formats that are not text articles, told by their first bytes, never by the file's name: a
# text-only PDF renamed .txt would otherwise become an article titled "%PDF-1.4". Ten fixed
# signatures do not need a library (python-magic needs libmagic; the NUL check below catches
# most other binaries).
BINARY_SIGNATURES = {
    b"%PDF-": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or a .docx, .odt or .epub document)",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "a Microsoft Office document",
    b"{\\rtf": "an RTF document",
    b"%!PS": "a PostScript document",
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"\x7fELF": "a program",
}
MAX_CONTROL_SHARE = 0.005  # control characters (other than tab, line and page breaks) in text


def binary_format(data: bytes) -> str | None:
    """What a file's bytes say it is, when that is not text (None: it may be text)."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    return next((kind for signature, kind in BINARY_SIGNATURES.items() if head.startswith(signature)), None)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else the most plausible legacy encoding;
    SourceError for a file whose bytes are no text (a PDF, an image, an archive)."""
    kind = binary_format(data)
    if kind:
        raise SourceError(f"this is {kind}, not a text article (whatever its name says): save it as text first")
    text = _decode(data)
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f\v" or "\x7f" <= ch < "\xa0")
    if controls > MAX_CONTROL_SHARE * len(text):
        raise SourceError("looks like a binary file, not text")
    return text


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise SourceError("looks like a binary file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # German and English articles that are not UTF-8 are nearly always Windows-1252 / Latin-1,
    # but on short texts charset_normalizer often guesses another code page ("Straße" came back
    # as "Straþe", "Öl" as a CJK character). So read them as such when that gives clean text.
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:  # one of the five bytes cp1252 leaves undefined
        western = data.decode("latin-1")
    if _western_text_share(western) >= 0.98:
        return western
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise SourceError("text encoding could not be recognised")
    return str(best)


_WESTERN_CHARS = set("äöüÄÖÜßàáâçèéêëìíîïñòóôøùúûÀÁÂÇÈÉÊÑÒÓÔØÙÚÛœŒ€£„“”‚‘’«»‹›–—…•·°§©®™×½¼¾²³")


def _western_text_share(text: str) -> float:
    """Share of characters that are usual in German and English text."""
    if not text:
        return 0.0
    usual = sum(1 for ch in text if (ch.isascii() and (ch.isprintable() or ch in "\t\n\r")) or ch in _WESTERN_CHARS)
    return usual / len(text)


def _html_to_text(html: str) -> tuple[str, PageMetadata]:
    """Main text and metadata of a news web page (trafilatura, plus ad containers it keeps)."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=False, favor_recall=True,
        prune_xpath=HTML_PRUNE_XPATH,
    )
    if doc is None or not (doc.text or "").strip():
        raise SourceError("no article text found in the HTML")
    # trafilatura joins several authors with "; ".
    authors = tuple(a.strip() for a in (doc.author or "").split(";") if a.strip())
    return doc.text, PageMetadata(doc.title or None, doc.date or None, authors, doc.url or None)


# Article text compresses 2-4 times with zlib (the shipped articles 2.0x, XQuAD's JSON 4.1-4.3x);
# 10,000 copies of one sentence compress 150 times, and would cost a minute of sentence splitting.
MAX_COMPRESSION = 10.0
REPEAT_CHECK_CHARS = 20_000  # shorter texts are cheap whatever they hold


def repeats_itself(text: str) -> bool:
    if len(text) < REPEAT_CHECK_CHARS:
        return False
    data = text.encode("utf-8", "surrogatepass")
    return len(data) > MAX_COMPRESSION * len(zlib.compress(data, 1))


def parse_article(file: str, data: bytes) -> Article:
    """Clean one article's bytes; raises SourceError when nothing usable is inside."""
    if not data.strip():
        raise SourceError("file is empty")
    raw = decode_text(data)
    page = PageMetadata()
    suffix = Path(file).suffix.lower()
    if suffix in (".html", ".htm"):
        raw, page = _html_to_text(raw)
    elif suffix == ".md":
        raw, md_title = markdown_to_text(raw)
        page = PageMetadata(title=md_title)
    cleaned = clean_article_text(raw)
    text = cleaned.text
    if len(text.split()) < 3:
        raise SourceError("no article text after cleaning")
    if repeats_itself(text):
        raise SourceError("the text repeats itself over and over (it compresses more than "
                          f"{MAX_COMPRESSION:g} times): not an article")
    language = detect_language(text)
    byline = cleaned.byline
    span = byline.span if byline else None
    return Article(
        file=file,
        title=page.title or article_title(text, language, file, (span,) if span else ()),
        date=cleaned.date or (byline and byline.date) or page.date or first_date_in_text(text[:2000]),
        language=language,
        text=text,
        content_hash=content_hash(data),
        authors=byline.authors if byline else page.authors,
        url=page.url or cleaned.url,
        byline=span,
    )


def read_file_bytes(path: Path) -> bytes:
    if path.stat().st_size > MAX_ARTICLE_BYTES:
        raise SourceError(f"larger than {MAX_ARTICLE_BYTES // (1024 * 1024)} MiB")
    return path.read_bytes()


# The hash of every file scan_sources read, with the stat it was read under: an unchanged stat
# means unchanged bytes, as for git's index, rsync and make, so a scan before every warm answer
# reads no file that has not changed. A file modified less than RACY_S seconds before it was
# read is not remembered ("racily clean" in git's terms): a second write within the file
# system's timestamp resolution could leave its mtime as it was.
RACY_S = 2.0
_hashes: dict[str, tuple[tuple[int, ...], str]] = {}
_hashes_lock = threading.Lock()


def _stamp(stat: os.stat_result) -> tuple[int, ...]:
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def file_hash(path: Path) -> str:
    """content_hash of the file's bytes, read only when its stat changed since the last time."""
    stat = path.stat()
    if stat.st_size > MAX_ARTICLE_BYTES:
        raise SourceError(f"larger than {MAX_ARTICLE_BYTES // (1024 * 1024)} MiB")
    key, stamp = os.path.abspath(path), _stamp(stat)
    with _hashes_lock:
        known = _hashes.get(key)
    if known is not None and known[0] == stamp:
        return known[1]
    digest = content_hash(path.read_bytes())  # after the stat: a write meanwhile changes the next stat
    if time.time() - stat.st_mtime >= RACY_S:
        with _hashes_lock:
            _hashes[key] = (stamp, digest)
    return digest


def scan_sources(folder: Path) -> dict[str, tuple[Path, str]]:
    """File name -> (path, hash) for every article file; cheap enough to run before every answer
    (files whose size and times did not change are not read again: `file_hash`)."""
    found = {}
    for path in article_files(folder):
        try:
            check_inside(folder, path)
            found[path.relative_to(folder).as_posix()] = (path, file_hash(path))
        except (OSError, SourceError) as exc:
            # Listed all the same, so that loading it reports it by name; the marker stands in
            # for the hash (stable while the problem lasts, so it is not re-read every run).
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            found[path.relative_to(folder).as_posix()] = (path, f"unreadable: {reason}")
    return found


def load_article(folder: Path, file: str) -> Article:
    path = folder / file
    check_inside(folder, path)
    try:
        data = read_file_bytes(path)
    except OSError as exc:
        raise SourceError(f"cannot be read ({exc.strerror or exc})") from exc
    return parse_article(file, data)


def load_articles(folder: Path, files: list[str] | None = None) -> tuple[list[Article], list[Skipped]]:
    """Articles that could be read, and the files skipped with the reason."""
    names = files if files is not None else [p.relative_to(folder).as_posix() for p in article_files(folder)]
    articles, skipped = [], []
    for name in names:
        try:
            articles.append(load_article(folder, name))
        except SourceError as exc:  # reported once, by whoever reads the update report
            skipped.append(Skipped(name, str(exc)))
    return articles, skipped
