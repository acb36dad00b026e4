"""Is this the same customer? A pairwise comparison that explains itself.

Deterministic rules first — the same VAT number, GLN or e-mail address (with names that do
not contradict) is the same customer. Otherwise every attribute adds or removes evidence, in
bits (log2 of how much more likely the observation is for the same customer than for two
different ones, after Fellegi and Sunter): agreeing names, street, postcode, city and phone
add; disagreeing ones subtract; a missing value says nothing. The sum decides against two
thresholds: a match, a pair for a person to review, or different customers.

Some disagreements decide on their own (vetoes): two different VAT numbers or GLNs, or two
clearly different first names of persons (a household shares an address and a surname, and
often an e-mail address). A veto caps the verdict at "review" when an identifier agrees, else
at "different".

Every figure is in ``MatchSettings`` so a team can change them as data; every comparison
returns the rule or the evidence it used, attribute by attribute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from flows.identity import normalize as norm
from flows.identity.nicknames import same_given_name


class MatchSettings(BaseModel):
    """Thresholds and evidence weights (bits). Defaults follow from rough m/u probabilities
    (how often an attribute agrees for the same customer / for two random customers)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    match_at: float = 14.0
    review_at: float = 8.0
    similar: float = 0.92  # Jaro-Winkler at or above: the same word, give or take a typo
    close: float = 0.85  # at or above: probably a typo; below: a different word
    different: float = 0.75  # first names below this are different people (veto)
    surname: tuple[float, float, float] = (6.0, 2.0, -6.0)  # agree, close, disagree
    given_name: tuple[float, float, float] = (5.0, 1.5, -5.0)
    initial: float = 2.0  # "J." against "John"
    organisation: tuple[float, float, float] = (10.0, 5.0, -6.0)
    email: tuple[float, float] = (10.0, -1.0)  # agree, disagree
    phone: tuple[float, float] = (8.0, -2.0)
    address_line: tuple[float, float, float] = (6.0, 1.0, -3.0)  # same, other number, other
    postcode: tuple[float, float] = (3.0, -2.0)
    city: tuple[float, float] = (2.0, -1.0)
    country_differs: float = -3.0


class Verdict(StrEnum):
    MATCH = "match"
    REVIEW = "review"
    DIFFERENT = "different"


@dataclass(frozen=True)
class Evidence:
    attribute: str
    weight: float
    detail: str

    def __str__(self) -> str:
        return f"{self.attribute} {self.weight:+.1f} ({self.detail})"


@dataclass(frozen=True)
class Comparison:
    left: str
    right: str
    verdict: Verdict
    score: float
    rule: str  # "vat", "gln", "email" or "evidence"
    evidence: tuple[Evidence, ...] = ()
    vetoes: tuple[str, ...] = ()

    def explain(self) -> str:
        head = f"{self.left} ~ {self.right}: {self.verdict} by {self.rule} (score {self.score:.1f})"
        parts = [str(e) for e in self.evidence] + [f"veto: {v}" for v in self.vetoes]
        return head + ("; " + "; ".join(parts) if parts else "")


@dataclass(frozen=True)
class Place:
    street: str
    number: str
    postcode: str
    city: str
    country: str


@dataclass(frozen=True)
class Profile:
    """A customer as the matcher sees it: normalised, from any system's canonical record."""

    ref: str
    person: bool
    given: str = ""
    surname: str = ""
    name: str = ""  # folded full name (persons) or company name without legal form
    email: str = ""
    phone: str = ""
    vat: str = ""
    gln: str = ""
    places: tuple[Place, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, ref: str, customer: Any) -> Profile:
        """From a canonical ``Customer`` (or its dict)."""
        get = _getter(customer)
        kind = str(get("kind") or "person")
        person = kind.endswith("person")
        given, surname = norm.fold(get("first_name")), norm.fold(get("last_name"))
        name = str(get("name") or "")
        if person and not (given and surname):
            words = norm.tokens(name)
            if len(words) >= 2:
                given, surname = given or words[0], surname or words[-1]
            else:  # one name only: call it the surname; the given name is unknown
                surname, given = surname or given or (words[0] if words else ""), ""
        places = tuple(_place(a) for a in (get("addresses") or ()))
        return cls(
            ref=ref,
            person=person,
            given=given,
            surname=surname,
            name=" ".join(w for w in (given, surname) if w) if person else norm.org_name(name),
            email=norm.email(get("email")),
            phone=norm.phone(get("phone")),
            vat=norm.identifier(get("vat_number")),
            gln=norm.identifier(get("gln")),
            places=tuple(p for p in places if p.street or p.postcode or p.city),
        )


def _getter(item: Any) -> Callable[[str], Any]:
    """Field access for a model or its dict alike."""
    if isinstance(item, dict):
        return item.get

    def get(name: str) -> Any:
        return getattr(item, name, None)

    return get


def _place(address: Any) -> Place:
    get = _getter(address)
    street, number = norm.street(get("street"))  # street2 (flat, building) varies too much
    return Place(
        street=street,
        number=number,
        postcode=norm.postcode(get("postal_code")),
        city=norm.fold(get("city")),
        country=str(get("country") or "").upper(),
    )


def _weight(result: tuple[list[Evidence], str | None]) -> float:
    return sum(e.weight for e in result[0]) - (100.0 if result[1] else 0.0)


def _household_ambiguous(a: Profile, b: Profile) -> bool:
    """Two persons, one without a given name: the name cannot tell household members apart."""
    return a.person and b.person and not (a.given and b.given)


def similarity(a: str, b: str) -> float:
    return float(JaroWinkler.normalized_similarity(a, b))


class Matcher:
    def __init__(self, settings: MatchSettings | None = None) -> None:
        self.s = settings or MatchSettings()

    def compare(self, a: Profile, b: Profile) -> Comparison:
        vetoes: list[str] = []
        for rule, x, y in (("vat", a.vat, b.vat), ("gln", a.gln, b.gln)):
            if x and y:
                if x == y:
                    return Comparison(a.ref, b.ref, Verdict.MATCH, 99.0, rule)
                vetoes.append(f"{rule} {x} != {y}")
        names = self._names(a, b, vetoes)
        evidence = names + self._contacts(a, b) + self._places(a, b)
        score = sum(e.weight for e in evidence)
        names_agree = sum(e.weight for e in names) >= 0
        if a.email and a.email == b.email and not vetoes and names_agree:
            return Comparison(a.ref, b.ref, Verdict.MATCH, score, "email", tuple(evidence))
        verdict = self._verdict(score)
        identifier_agrees = (a.email and a.email == b.email) or (a.phone and a.phone == b.phone)
        if vetoes and verdict is not Verdict.DIFFERENT:
            verdict = Verdict.REVIEW if identifier_agrees else Verdict.DIFFERENT
        elif verdict is Verdict.MATCH and _household_ambiguous(a, b) and not identifier_agrees:
            verdict = Verdict.REVIEW
            vetoes.append("a given name is missing: could be anyone of the household")
        return Comparison(a.ref, b.ref, verdict, score, "evidence", tuple(evidence), tuple(vetoes))

    def _verdict(self, score: float) -> Verdict:
        if score >= self.s.match_at:
            return Verdict.MATCH
        return Verdict.REVIEW if score >= self.s.review_at else Verdict.DIFFERENT

    # -- names ---------------------------------------------------------------------------

    def _names(self, a: Profile, b: Profile, vetoes: list[str]) -> list[Evidence]:
        if a.person and b.person and a.surname and b.surname:
            straight = self._person(a.given, a.surname, b.given, b.surname)
            # one system wrote the surname as the first name: compare across; which side
            # swapped is unknown, so which pair are the given names too: assume the worse
            swapped = min(
                self._person(a.given, a.surname, b.surname, b.given),
                self._person(a.surname, a.given, b.given, b.surname),
                key=_weight,
            )
            found, veto = max(straight, swapped, key=_weight)
            if veto:
                vetoes.append(veto)
            return found
        if not (a.name and b.name):
            return []
        # word order may differ; words may not go missing ("Moreau" is not "Moreau Partners")
        ratio = max(fuzz.token_sort_ratio(a.name, b.name) / 100, similarity(a.name, b.name))
        weight = self._graded(ratio, self.s.organisation)
        if a.person != b.person:  # a person against a company: only the same name counts
            weight = min(weight, self.s.surname[0]) if weight > 0 else self.s.organisation[2]
        return [Evidence("name", weight, f"{a.name!r} vs {b.name!r}: {ratio:.2f}")]

    def _person(self, g1: str, s1: str, g2: str, s2: str) -> tuple[list[Evidence], str | None]:
        sur = similarity(s1, s2)
        found = [Evidence("surname", self._graded(sur, self.s.surname), f"{s1} vs {s2}: {sur:.2f}")]
        if not (g1 and g2):
            return found, None
        if len(g1) == 1 or len(g2) == 1:
            if g1[0] == g2[0]:
                found.append(Evidence("given name", self.s.initial, f"initial {g1} vs {g2}"))
                return found, None
            found.append(Evidence("given name", self.s.given_name[2], f"initial {g1} vs {g2}"))
            return found, f"given names {g1} and {g2} differ"
        if same_given_name(g1, g2):
            how = "same" if g1 == g2 else "nickname"
            found.append(Evidence("given name", self.s.given_name[0], f"{g1} = {g2} ({how})"))
            return found, None
        sim = similarity(g1, g2)
        found.append(
            Evidence("given name", self._graded(sim, self.s.given_name), f"{g1} vs {g2}: {sim:.2f}")
        )
        veto = f"given names {g1} and {g2} differ" if sim < self.s.different else None
        return found, veto

    def _graded(self, sim: float, weights: tuple[float, float, float]) -> float:
        if sim >= self.s.similar:
            return weights[0]
        return weights[1] if sim >= self.s.close else weights[2]

    # -- contacts and places -----------------------------------------------------------------

    def _contacts(self, a: Profile, b: Profile) -> list[Evidence]:
        found: list[Evidence] = []
        for attribute, x, y, (agree, disagree) in (
            ("email", a.email, b.email, self.s.email),
            ("phone", a.phone, b.phone, self.s.phone),
        ):
            if x and y:
                found.append(Evidence(attribute, agree if x == y else disagree, f"{x} vs {y}"))
        return found

    def _places(self, a: Profile, b: Profile) -> list[Evidence]:
        if not (a.places and b.places):
            return []
        best: list[Evidence] = []
        for p in a.places:
            for q in b.places:
                found = self._place(p, q)
                if not best or sum(e.weight for e in found) > sum(e.weight for e in best):
                    best = found
        return best

    def _place(self, p: Place, q: Place) -> list[Evidence]:
        s = self.s
        found: list[Evidence] = []
        if p.country and q.country and p.country != q.country:
            return [Evidence("country", s.country_differs, f"{p.country} vs {q.country}")]
        if p.street and q.street:
            # on the name of the street alone: "Rue des Roses" and "Rue des Lilas" share
            # a long prefix that makes them look alike
            sim = similarity(norm.street_core(p.street), norm.street_core(q.street))
            if sim < s.close:
                weight = s.address_line[2]
            elif p.number == q.number or not (p.number and q.number):
                weight = s.address_line[0]
            else:  # the same street, another house number: a typo or a neighbour
                weight = s.address_line[1]
            found.append(
                Evidence(
                    "street", weight, f"{p.street} {p.number} vs {q.street} {q.number}: {sim:.2f}"
                )
            )
        if p.postcode and q.postcode:
            weight = s.postcode[0] if p.postcode == q.postcode else s.postcode[1]
            found.append(Evidence("postcode", weight, f"{p.postcode} vs {q.postcode}"))
        if p.city and q.city:
            sim = similarity(p.city, q.city)
            weight = s.city[0] if sim >= s.similar else s.city[1]
            found.append(Evidence("city", weight, f"{p.city} vs {q.city}: {sim:.2f}"))
        return found


def best_of(comparisons: Sequence[Comparison]) -> Comparison | None:
    """The strongest match among ``comparisons``, else the strongest review, else None."""
    ranked = sorted(
        (c for c in comparisons if c.verdict is not Verdict.DIFFERENT),
        key=lambda c: (c.verdict is Verdict.MATCH, c.score),
        reverse=True,
    )
    return ranked[0] if ranked else None
