"""Finding the candidates worth comparing, and resolving a whole set into customers.

Comparing every pair is quadratic. Each profile gets a few blocking keys (its e-mail, phone,
VAT number, GLN; surname prefix with the first initial, either way round; postcode with the
street; city with the surname prefix; street with the house number); only profiles that share
a key are compared. A key shared by more than ``max_block`` profiles says little (a shared
info@ address, a big city) and is skipped, so the cost stays near linear in the number of
customers. ``IdentityIndex`` does this one profile at a time (the customer sync); ``resolve``
for a whole set (a first load, or the matching benchmark).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from flows.identity import normalize as norm
from flows.identity.matching import Comparison, Matcher, MatchSettings, Profile, Verdict, best_of


def blocking_keys(p: Profile) -> set[str]:
    """Keys that two records of one customer are likely to share even with a typo or two:
    identifiers; the exact name; a name prefix with a postcode or town (either name first,
    for swapped fields); the street with the house number."""
    keys = {f"{kind}:{value}" for kind, value in (
        ("e", p.email), ("t", p.phone), ("v", p.vat), ("g", p.gln)) if value}  # fmt: skip
    names: list[str] = []
    if p.person and p.surname:
        keys.add(f"nf:{p.surname}:{p.given}")
        names.append(f"{p.surname[:3]}{p.given[:1]}")
        if p.given:
            names.append(f"{p.given[:3]}{p.surname[:1]}")
    elif p.name:
        keys.add(f"of:{p.name}")
        names.extend(word[:5] for word in p.name.split()[:2] if len(word) > 2)
    for place in p.places:
        for name in names:
            if place.postcode:
                keys.add(f"np:{name}:{place.postcode}")
            if place.city:
                keys.add(f"nc:{name}:{place.city[:4]}")
        if place.street:
            core = norm.street_core(place.street)[:6]
            keys.add(f"s:{core}:{place.number}:{place.postcode or place.city[:4]}")
    return keys


@dataclass
class IdentityIndex:
    """Profiles by blocking key; ``match`` finds the best existing customer for a new one."""

    settings: MatchSettings = field(default_factory=MatchSettings)
    max_block: int = 500
    _profiles: dict[str, Profile] = field(default_factory=dict)
    _blocks: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        self.matcher = Matcher(self.settings)

    def __len__(self) -> int:
        return len(self._profiles)

    def add(self, profile: Profile) -> None:
        if profile.ref in self._profiles:
            self.remove(profile.ref)
        self._profiles[profile.ref] = profile
        for key in blocking_keys(profile):
            self._blocks[key].append(profile.ref)

    def remove(self, ref: str) -> None:
        old = self._profiles.pop(ref, None)
        if old is None:
            return
        for key in blocking_keys(old):
            refs = self._blocks.get(key)
            if refs and ref in refs:
                refs.remove(ref)

    def candidates(self, profile: Profile) -> Iterator[Profile]:
        seen: set[str] = {profile.ref}
        for key in blocking_keys(profile):
            refs = self._blocks.get(key, ())
            if len(refs) > self.max_block:
                continue
            for ref in refs:
                if ref not in seen:
                    seen.add(ref)
                    yield self._profiles[ref]

    def compare_all(self, profile: Profile) -> list[Comparison]:
        return [self.matcher.compare(profile, other) for other in self.candidates(profile)]

    def match(self, profile: Profile) -> Comparison | None:
        """The best match (or, failing one, the best pair to review) among the candidates."""
        return best_of(self.compare_all(profile))


@dataclass(frozen=True)
class Resolution:
    clusters: list[set[str]]  # every ref in exactly one cluster
    matches: list[Comparison]
    reviews: list[Comparison]  # uncertain pairs not already in one cluster
    compared: int

    def cluster_of(self) -> dict[str, int]:
        return {ref: i for i, refs in enumerate(self.clusters) for ref in refs}


def resolve(
    profiles: Iterable[Profile], settings: MatchSettings | None = None, *, max_block: int = 500
) -> Resolution:
    """Every profile compared with its candidates once; matches joined transitively."""
    index = IdentityIndex(settings or MatchSettings(), max_block=max_block)
    parent: dict[str, str] = {}

    def root(ref: str) -> str:
        while parent[ref] != ref:
            parent[ref] = parent[parent[ref]]
            ref = parent[ref]
        return ref

    matches: list[Comparison] = []
    reviews: list[Comparison] = []
    compared = 0
    for profile in profiles:
        parent[profile.ref] = profile.ref
        for comparison in index.compare_all(profile):
            compared += 1
            if comparison.verdict is Verdict.MATCH:
                matches.append(comparison)
                parent[root(comparison.left)] = root(comparison.right)
            elif comparison.verdict is Verdict.REVIEW:
                reviews.append(comparison)
        index.add(profile)
    groups: dict[str, set[str]] = defaultdict(set)
    for ref in parent:
        groups[root(ref)].add(ref)
    open_reviews = [r for r in reviews if root(r.left) != root(r.right)]
    return Resolution(list(groups.values()), matches, open_reviews, compared)
