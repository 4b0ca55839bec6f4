"""Lines of a news page that are not the article: navigation, ads, newsletter boxes, photo
credits, "more on this topic" link lists (German and English).

HTML pages lose most of this in trafilatura already (`HTML_PRUNE_XPATH` adds ad containers it
keeps); these rules catch what is left there and everything in copied text and Markdown. Each
rule matches a whole line and is written so that a sentence that merely mentions advertising
("Die Werbung im Fernsehen habe sich ausgezahlt") is kept: an ad line is a bare label, a label in
capitals, or a label followed by an offer.
"""

from __future__ import annotations

import re

# Elements trafilatura keeps but that are ads: class or id tokens like "ad", "anzeige", "sponsored".
_AD_TOKENS = ("ad", "ads", "advert", "adverts", "advertisement", "advertising", "anzeige", "anzeigen", "werbung",
              "sponsored", "sponsor", "promo", "promotion")
_LOWER = "translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
HTML_PRUNE_XPATH = [
    "//*[" + " or ".join(
        f"contains(concat(' ', normalize-space({_LOWER.format('@' + attr)}), ' '), ' {token} ')"
        for attr in ("class", "id") for token in _AD_TOKENS) + " or @data-ad-slot]"
]

_AD_LABEL = (r"(?:anzeige|werbung|advertisement|advertorial|ad|sponsored(?:\s+(?:content|post))?|gesponsert"
             r"|promoted|paid\s+(?:content|post|partnership)|bezahlte\s+partnerschaft)")
# Whole lines that are page furniture, not article text.
_FURNITURE_LINES = [
    r"zum hauptinhalt( zur navigation)?",
    r"zur navigation",
    r"skip to (main )?content",
    # Golem's "Kommentare News folgen" (optionally with a comment count); not a sentence that
    # merely starts with "Kommentare".
    r"kommentare(\s*\(?\d+\)?)?( news folgen)?",
    r"news folgen",
    r"relevante themen",
    r"(artikel )?teilen",
    r"share( this)?( article| story)?",
    r"(jetzt )?(anmelden|abonnieren|registrieren)",
    r"(subscribe|sign up)( now)?",
    _AD_LABEL,
    r"[\[(]\s*" + _AD_LABEL + r"\s*[\])]",  # "(Anzeige)" alone
    # Newsletter boxes: "Newsletter abonnieren", "Jetzt zum Newsletter anmelden",
    # "Sign up for our daily newsletter".
    r"newsletter",
    r"(jetzt )?((den|unseren|zum) )?(\w+-)?newsletter (abonnieren|bestellen|anmelden)!?",
    r"(jetzt )?(zum|für (den|unseren)) (\w+ ){0,2}newsletter anmelden!?",
    r"(sign up|subscribe)( now)? (to|for) (our|the) (\S+ ){0,3}newsletters?[.!:]?",
    # Calls to buy: "Jetzt Sommerreifen bestellen und 20 % sparen!", "Order now and save 20%!"
    r"jetzt (\S+ ){0,5}?(bestellen|kaufen|sichern|buchen|testen|downloaden|herunterladen|shoppen)"
    r"( und (\S+ ){0,4}?(sparen|profitieren|gewinnen))?\s*!?",
    r"(order|buy|shop|book|get) (\S+ ){0,3}?now( and (\S+ ){0,3}?save\b.*)?!?",
    r"(bild|foto|image|photo)\s*:.*",
]
_FURNITURE = re.compile(r"^(?:" + "|".join(_FURNITURE_LINES) + r")$", re.IGNORECASE)
# "ANZEIGE – Jetzt Sommerreifen bestellen", "Sponsored: Save 30% on cruise tickets!": a label,
# then the ad. Removed when the label is in capitals or brackets or what follows is an offer; a
# sub-heading like "Werbung: Die Einnahmen der Verlage sinken" stays.
_LABELLED = re.compile(r"^(?P<label>" + _AD_LABEL + r"|[\[(]\s*" + _AD_LABEL + r"\s*[\])])(?:\s*[:|·–—]\s*|\s+-\s+|(?<=[\])])\s+)"
                       r"(?P<rest>.+)$", re.IGNORECASE)
_OFFER = re.compile(r"[!%€$£]|\b(jetzt|gratis|kostenlos|rabatte?|angebote?|sparen|bestellen|kaufen|free|now|save|"
                    r"discounts?|offers?|deals?|buy|shop|order)\b", re.IGNORECASE)
# Headings of link lists ("Mehr zum Thema"); with a colon and a link title on the same line,
# the line alone ("Lesen Sie auch: Autohändler klagen ...").
_RELATED = re.compile(
    r"^(?:mehr zum thema|mehr zu diesem thema|passend zum thema|zum thema|lesen sie auch|lesen sie mehr|"
    r"auch interessant|das könnte sie auch interessieren|weitere artikel|weitere meldungen|weiterlesen|"
    r"related|related (?:articles|stories|topics|content|coverage)|more on this (?:topic|story)|"
    r"more (?:articles|stories|topics)|read more|read also|see also|you (?:may|might) also like|"
    r"recommended(?: for you)?|further reading)(?P<rest>\s*:.*)?$",
    re.IGNORECASE,
)
_LIST_ITEM = re.compile(r"^(?:[-*•–]|\d+\.)\s+")
MAX_LINK_TITLE_CHARS = 120
# Inline link markers left behind by copied web pages.
_INLINE_MARKERS = re.compile(r"\s*\((?:öffnet im neuen Fenster|opens in a new (?:window|tab))\)", re.IGNORECASE)
# A photo caption ends with its credit: "... (Bild: Microsoft)" or "... Foto: dpa".
_CAPTION = re.compile(r"[.)]\s*\(?(?:Bild|Foto|Image|Photo|Credit)\s*:\s*[^()]{1,60}\)?$", re.IGNORECASE)


def strip_inline_markers(text: str) -> str:
    return _INLINE_MARKERS.sub("", text)


def is_furniture(line: str) -> bool:
    """Is this stripped line page furniture, an ad, a newsletter box or a credited photo caption?"""
    if not line:
        return False
    if _FURNITURE.match(line) or _CAPTION.search(line):
        return True
    labelled = _LABELLED.match(line)
    if labelled:
        label = labelled.group("label")
        bracketed = label.startswith(("(", "["))  # "(Anzeige) ...": a disclosure, always an ad
        return bracketed or label.isupper() or bool(_OFFER.search(labelled.group("rest")))
    return False


def drop_boilerplate(lines: list[str]) -> list[str]:
    """The lines that are article text: furniture lines go, and so do "more on this topic"
    headings with the link titles listed under them (up to the next blank line or prose)."""
    kept: list[str] = []
    in_links, links = False, 0
    for line in lines:
        stripped = line.strip()
        if in_links:
            if not stripped and not links:
                continue  # blank lines between the heading and its links
            if stripped and _looks_like_link_title(stripped):
                links += 1
                continue
            in_links = False  # a blank line after the links, or prose
        related = _RELATED.match(stripped)
        if related:
            in_links, links = not (related.group("rest") or "").strip(" :"), 0
            continue
        if is_furniture(stripped):
            continue
        kept.append(line)
    return kept


def _looks_like_link_title(line: str) -> bool:
    """A list item or a short headline (no closing full stop) under a "more on this topic" heading."""
    if _LIST_ITEM.match(line):
        return True
    return len(line) <= MAX_LINK_TITLE_CHARS and not line.endswith(".")
