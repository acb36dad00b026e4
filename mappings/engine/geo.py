"""ISO 3166 transforms: countries to alpha-2 codes, subdivisions without the country prefix."""

from __future__ import annotations

import gettext
import re
import unicodedata
from functools import cache, lru_cache
from typing import Any

import pycountry

from mappings.engine.registry import Transform, ValueMapSource, need, options, transform

_SUBDIVISION_CODE = re.compile(r"^[A-Z0-9]{1,3}$")


@cache
def _alpha2(name: str) -> str | None:
    if len(name) == 2 and name.isalpha():
        found = pycountry.countries.get(alpha_2=name)
    else:
        try:
            found = pycountry.countries.lookup(name)
        except LookupError:
            found = None
    return None if found is None else str(found.alpha_2)


def _known_subdivision(code: str) -> bool:
    return pycountry.subdivisions.get(code=code) is not None  # type: ignore[no-untyped-call]


def fold(name: str) -> str:
    """A name compared loosely: case, accents and repeated spaces do not count."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


@cache
def _subdivision_names(country_code: str) -> dict[str, str]:
    """Folded subdivision names of one country (ISO's own and English) -> code without prefix.

    A name two subdivisions share is kept for the top-level one, or left out when that does
    not decide it.
    """
    english = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, ["en"], fallback=True)
    found: dict[str, set[tuple[bool, str]]] = {}
    for sub in pycountry.subdivisions.get(country_code=country_code) or ():  # type: ignore[no-untyped-call]
        code = str(sub.code).partition("-")[2]
        top = getattr(sub, "parent_code", None) is None
        for name in {str(sub.name), english.gettext(str(sub.name))}:
            found.setdefault(fold(name), set()).add((top, code))
    names: dict[str, str] = {}
    for name, candidates in found.items():
        codes = {code for _top, code in candidates}
        tops = {code for top, code in candidates if top}
        if len(codes) == 1 or len(tops) == 1:
            names[name] = next(iter(codes if len(codes) == 1 else tops))
    return names


def subdivision_code(name: str, country_code: str) -> str | None:
    """The ISO 3166-2 code (without the country prefix) of a subdivision named ``name`` in the
    country ``country_code`` (alpha-2): ``("Bavaria", "DE") -> "BY"``; None when unknown."""
    return _subdivision_names(country_code.upper()).get(fold(name))


@transform(
    "country",
    "ISO 3166-1 alpha-2 from alpha-2, alpha-3, numeric or English name; "
    "{country: {allow: [XK]}} also accepts user-assigned codes",
    argument=None,
)
def country(argument: Any, _maps: ValueMapSource) -> Transform:
    opts = options(argument, "country", {"allow"})
    allow = opts.get("allow", [])
    need(
        isinstance(allow, list) and all(isinstance(a, str) for a in allow),
        "country: allow is a list",
    )
    allowed = frozenset(a.upper() for a in allow)

    def run(value: Any) -> str:
        name = str(value).strip().upper()
        if name in allowed:
            return name
        code = _alpha2(name)
        if code is None:
            raise ValueError(f"{value!r} is not an ISO 3166-1 country")
        return code

    return run


@transform(
    "subdivision",
    "ISO 3166-2 subdivision without its country prefix (DE-BE -> BE) from a code or a name "
    "(Bavaria, Bayern -> BY; needs the country): from: [state, country]; "
    "{subdivision: {strict: true}} refuses codes and names ISO does not know",
    argument=None,
)
def subdivision(argument: Any, _maps: ValueMapSource) -> Transform:
    strict = bool(options(argument, "subdivision", {"strict"}).get("strict", False))

    def run(value: Any) -> str | None:
        code, country_code = value if isinstance(value, tuple) else (value, None)
        if code is None:
            return None
        return normalise(str(code), None if country_code is None else str(country_code))

    @lru_cache(maxsize=4096)
    def normalise(code: str, country_code: str | None) -> str | None:
        code = str(code).strip()
        cc = str(country_code).strip().upper() if country_code else None
        if cc and len(cc) != 2:
            cc = _alpha2(cc) or cc  # the country as a name or alpha-3 code
        if cc and code.upper().startswith(f"{cc}-"):
            code = code[len(cc) + 1 :]
        if _SUBDIVISION_CODE.match(code.upper()):
            code = code.upper()
            if strict and cc and not _known_subdivision(f"{cc}-{code}"):
                raise ValueError(f"{code!r} is not an ISO 3166-2 subdivision of {cc}")
        elif cc and (known := subdivision_code(code, cc)) is not None:
            code = known
        elif strict:
            where = f" of {cc}" if cc else " (no country to look the name up in)"
            raise ValueError(f"{code!r} is not an ISO 3166-2 subdivision{where}")
        return code or None

    return run
