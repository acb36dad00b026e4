"""Text normalisation for matching: the same customer written by two systems compares equal.

Every function is pure and total: ``None`` and empty input give ``""``.

- ``fold``: Unicode compatibility form, diacritics removed (``Müller`` -> ``muller``,
  ``ß`` -> ``ss``, ``Øre`` -> ``ore``), case-folded, punctuation to spaces, spaces collapsed;
- ``org_name``: ``fold`` without legal forms (``GmbH``, ``Ltd.``, ``S.A.R.L.``) and filler
  words (``the``, ``und``, ``&``);
- ``street``: ``fold`` with the usual abbreviations unified (``Straße``/``Str.`` ->
  ``str``, ``Avenue``/``Ave`` -> ``ave``) and split into the street name and the house number;
- ``phone``: the last 8 digits, so ``+49 (0)30 1234567``, ``0049 30 1234567`` and
  ``030/1234567`` all give ``01234567`` (the prefix a system writes does not matter);
- ``postcode``: letters and digits only, upper case.
"""

from __future__ import annotations

import re
import unicodedata

_SPECIAL = str.maketrans(
    {"ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "œ": "oe", "Œ": "oe",
     "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "þ": "th", "\u0131": "i"}
)  # fmt: skip
_NON_WORD = re.compile(r"[^0-9a-z]+")

LEGAL_FORMS = frozenset(
    """
    ab ag as asa bv bvba co company corp corporation cv eg ek ev gbr gesmbh gmbh gmbhco
    inc incorporated kft kg kgaa limited llc llp lp ltd mbh nv oe og oy oyj plc pty sa sarl
    sas sl spa sp srl sro ug ohg
    """.split()  # noqa: SIM905 - a word list reads better as text
)
FILLER = frozenset("the and und et e y der die das le la les de des du van von am an".split())  # noqa: SIM905

_STREET_WORDS = {
    "strasse": "str", "str": "str", "street": "st", "st": "st", "avenue": "ave", "ave": "ave",
    "av": "ave", "road": "rd", "rd": "rd", "boulevard": "blvd", "blvd": "blvd", "lane": "ln",
    "ln": "ln", "drive": "dr", "dr": "dr", "place": "pl", "pl": "pl", "platz": "pl",
    "court": "ct", "ct": "ct", "weg": "weg", "gasse": "g", "g": "g", "allee": "allee",
    "square": "sq", "sq": "sq", "terrace": "tce", "tce": "tce", "crescent": "cres",
    "cres": "cres", "highway": "hwy", "hwy": "hwy", "parkway": "pkwy", "north": "n",
    "south": "s", "east": "e", "west": "w", "rue": "rue", "via": "via", "chemin": "ch",
}  # fmt: skip
_HOUSE_NUMBER = re.compile(r"^\d+[a-z]?$")


def fold(text: str | None) -> str:
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", plain.casefold().translate(_SPECIAL)).strip()


def tokens(text: str | None) -> list[str]:
    return fold(text).split()


def org_name(text: str | None) -> str:
    """A company name without its legal form: ``Müller & Söhne GmbH`` -> ``muller sohne``."""
    words = tokens(text)
    # "G.m.b.H." folds to "g m b h": glue runs of single letters back together first
    glued: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        if run:
            glued.append("".join(run))
            run = []
        if word:
            glued.append(word)
    kept = [w for w in glued if w not in LEGAL_FORMS and w not in FILLER]
    return " ".join(kept or glued)


def street(text: str | None) -> tuple[str, str]:
    """(street name, house number): ``Hauptstraße 5a`` -> (``haupt str``, ``5a``);
    ``12 Main Street`` -> (``main st``, ``12``)."""
    words = tokens(_split_glued_street(text or ""))
    number = ""
    name: list[str] = []
    for word in words:
        if not number and _HOUSE_NUMBER.match(word):
            number = word
        else:
            name.append(_STREET_WORDS.get(word, word))
    return " ".join(name), number


_STREET_TYPES = frozenset(_STREET_WORDS.values()) | {
    "crescent", "circuit", "cct", "close", "cl", "way", "parade", "pde", "esplanade",
    "grove", "gr", "tsreet", "steet", "stret", "rd", "road",
}  # fmt: skip


def street_core(name: str) -> str:
    """A street name without its type words and spaces (``copland dr`` and ``coplandrive``
    share ``copland``): glued or misspelt types compare on the part that names the street."""
    words = [w for w in name.split() if w not in _STREET_TYPES and w not in FILLER]
    core = "".join(words) or name.replace(" ", "")
    for suffix in ("crescent", "street", "drive", "road", "avenue", "place", "strasse", "str"):
        if core.endswith(suffix) and len(core) > len(suffix) + 2:
            return core[: -len(suffix)]
    return core


def _split_glued_street(text: str) -> str:
    # German compounds: "Hauptstraße"/"Hauptstr." -> "Haupt str" so they equal "Haupt Str."
    return re.sub(r"(?i)(?<=\w)(stra(?:ss|ß)e|str\.?)(?=\s|\d|$)", r" \1", text)


def phone(text: str | None) -> str:
    """The last 8 digits (all of them when fewer): the subscriber part, whatever prefix a
    system wrote (``+49 (0)30 1234567``, ``0049 30 1234567`` and ``030/1234567`` agree)."""
    if not text:
        return ""
    digits = re.sub(r"\D", "", text.replace("(0)", ""))
    return digits[-8:]


def postcode(text: str | None) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text or "").upper()


def email(text: str | None) -> str:
    return (text or "").strip().lower()


def identifier(text: str | None) -> str:
    """VAT numbers, GLNs: letters and digits only, upper case (``DE 123.456.789`` ->
    ``DE123456789``)."""
    return re.sub(r"[^0-9A-Za-z]", "", text or "").upper()
