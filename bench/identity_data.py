"""Generated customers with known duplicates, to measure identity resolution.

Each true customer appears once or several times, as different systems would hold it: a
typo here, first and last name swapped there, a missing e-mail, a phone number with or
without the country code, ``Straße`` written ``Str.``, ``GmbH`` written ``G.m.b.H.``, a
nickname, an initial, all upper case. Hard negatives are generated on purpose: members of
one household (same address and surname, some sharing the e-mail address) and namesakes
in other towns, who are different customers.

``generate(n, seed)`` returns ``(records, truth)``: canonical-shaped customer dicts and the
true customer of each record's ref.
"""

from __future__ import annotations

import random
import string
from typing import Any


def words(text: str) -> list[str]:
    return text.split()


GIVEN = {
    "DE": words(
        "Jürgen Klaus Stefan Thomas Michael Andreas Katharina Sabine Ursula Petra Jörg Sören "
        "Björn Günther Heike Monika Susanne Wolfgang Matthias Johannes Friedrich Elisabeth"
    ),
    "AT": words("Josef Franz Johann Maria Anna Leopold Theresia Florian Lukas Hannes Christine"),
    "US": words(
        "James Robert William Richard Elizabeth Jennifer Patricia Michael David Joseph "
        "Thomas Christopher Margaret Catherine Daniel Anthony Steven Samuel Victoria"
    ),
    "GB": words("Oliver George Harry Amelia Olivia Isla Charles Edward Henry Alexander Deborah"),
    "FR": words("Jean Pierre Michel André François Hélène Cécile Amélie Benoît Léa Chloé Noël"),
}
SURNAMES = {
    "DE": words(
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
        "Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger"
    ),
    "AT": words("Gruber Huber Bauer Wagner Pichler Steiner Moser Mayer Hofer Leitner Berger"),
    "US": words(
        "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Wilson "
        "Anderson Taylor Thomas Moore Jackson Martin Lee Thompson White Harris Clark"
    ),
    "GB": words("Taylor Davies Evans Thomas Roberts Walker Wright Robinson Thompson Hughes"),
    "FR": words("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Lefèvre"),
}
STREET_NAMES = words(
    "Linden Eichen Birken Ahorn Kastanien Rosen Tulpen Garten Wiesen Feld Wald Berg "
    "Tal Bach Mühlen Kirch Schul Markt Bahnhof Haupt Schiller Goethe Mozart Beethoven "
    "Oak Maple Cedar Pine Elm Willow Birch Walnut Cherry Chestnut Washington Lincoln "
    "Jefferson Madison Franklin Victoria Albert King Queen Church Station Mill Park "
    "Lake River Hill Spring Meadow Forest Sunset Highland Paix Moulin Lilas Roses"
)
STREET_TYPES = {
    "DE": ["straße", "weg", "allee", "platz", "gasse"],
    "AT": ["gasse", "straße", "weg", "platz"],
    "US": [" Street", " Avenue", " Road", " Drive", " Lane", " Boulevard", " Court"],
    "GB": [" Street", " Road", " Lane", " Close", " Avenue"],
    "FR": ["Rue des ", "Avenue des ", "Place des ", "Chemin des "],
}


def street_name(rng: random.Random, country: str) -> str:
    """One of a few hundred street names per country, as a town has."""
    name, kind = rng.choice(STREET_NAMES), rng.choice(STREET_TYPES[country])
    if country == "FR":
        return kind + name
    return name + kind if kind.startswith(" ") else (name + kind).capitalize()


CITIES = {
    "DE": [
        ("Berlin", "10115", "+49 30"),
        ("München", "80331", "+49 89"),
        ("Köln", "50667", "+49 221"),
        ("Düsseldorf", "40213", "+49 211"),
        ("Nürnberg", "90402", "+49 911"),
        ("Hamburg", "20095", "+49 40"),
    ],
    "AT": [("Wien", "1010", "+43 1"), ("Graz", "8010", "+43 316"), ("Linz", "4020", "+43 732")],
    "US": [
        ("Springfield", "62701", "+1 217"),
        ("Portland", "97201", "+1 503"),
        ("Austin", "78701", "+1 512"),
        ("Columbus", "43004", "+1 614"),
    ],
    "GB": [
        ("London", "SW1A 1AA", "+44 20"),
        ("Leeds", "LS1 4AP", "+44 113"),
        ("Bristol", "BS1 4DJ", "+44 117"),
    ],
    "FR": [("Paris", "75001", "+33 1"), ("Lyon", "69001", "+33 4"), ("Nantes", "44000", "+33 2")],
}
COMPANY_WORDS = words(
    "Nord Süd Alpen Pacific Atlas Delta Kaffee Rösterei Logistik Handel Technik "
    "Bäckerei Brew Coffee Trading Systems Solutions Partners Vertrieb Maschinenbau"
)
LEGAL = {
    "DE": ["GmbH", "AG", "KG", "GmbH & Co. KG"],
    "AT": ["GmbH", "OG", "KG"],
    "US": ["Inc.", "LLC", "Corp."],
    "GB": ["Ltd", "Ltd.", "PLC"],
    "FR": ["SARL", "SA", "SAS"],
}
LEGAL_VARIANTS = {
    "GmbH": ["G.m.b.H.", "Gmbh", "GMBH", ""],
    "Inc.": ["Inc", "Incorporated", ""],
    "Ltd": ["Limited", "Ltd.", ""],
    "Ltd.": ["Limited", "Ltd", ""],
    "LLC": ["L.L.C.", ""],
    "SARL": ["S.A.R.L.", ""],
    "AG": ["Aktiengesellschaft", ""],
}
NICK = {
    "William": "Bill",
    "Robert": "Bob",
    "Richard": "Rick",
    "Elizabeth": "Liz",
    "Michael": "Mike",
    "Thomas": "Tom",
    "Joseph": "Joe",
    "James": "Jim",
    "Johannes": "Hannes",
    "Josef": "Sepp",
    "Katharina": "Kathrin",
    "Daniel": "Dan",
    "Samuel": "Sam",
    "Christopher": "Chris",
    "Steven": "Steve",
    "Anthony": "Tony",
    "Catherine": "Kate",
}
STREET_ABBREV = [
    ("straße", "str."),
    ("Straße", "Str."),
    ("Street", "St"),
    ("Avenue", "Ave."),
    ("Road", "Rd"),
    ("Boulevard", "Blvd"),
    ("Drive", "Dr."),
    ("Lane", "Ln"),
]


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)  # rarely the first letter, as in real data
    kind = rng.choice("isdt")
    letter = rng.choice(string.ascii_lowercase)
    if kind == "i":
        return word[:i] + letter + word[i:]
    if kind == "s":
        return word[:i] + letter + word[i + 1 :]
    if kind == "d":
        return word[:i] + word[i + 1 :]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def _phone(rng: random.Random, prefix: str) -> str:
    return f"{prefix} {rng.randrange(1000000, 9999999)}"


def _national(phone: str) -> str:
    code, area, number = phone.split(" ")
    return f"0{area}/{number}" if code != "+1" else f"({area}) {number[:3]}-{number[3:]}"


def true_customer(rng: random.Random, i: int) -> dict[str, Any]:
    country = rng.choice(list(GIVEN))
    city, postcode, prefix = rng.choice(CITIES[country])
    person = rng.random() < 0.7
    street = f"{street_name(rng, country)} {rng.randrange(1, 180)}"
    given, surname = rng.choice(GIVEN[country]), rng.choice(SURNAMES[country])
    if person:
        name = f"{given} {surname}"
        email = f"{given}.{surname}{i}@example.{country.lower()}"  # one address per customer
    else:
        words = rng.sample(COMPANY_WORDS, rng.choice([1, 2]))
        name = f"{surname} {' '.join(words)} {rng.choice(LEGAL[country])}"
        email = f"info{i}@{surname.lower()}-{words[0].lower()}.example"
    record: dict[str, Any] = {
        "kind": "person" if person else "organisation",
        "name": name,
        "email": email.lower().replace("ü", "ue").replace("ö", "oe").replace("ä", "ae"),
        "phone": _phone(rng, prefix),
        "addresses": [{"street": street, "city": city, "postal_code": postcode,
                       "country": country}],
    }  # fmt: skip
    if person:
        record.update(first_name=given, last_name=surname)
    if not person and rng.random() < 0.5:
        record["vat_number"] = f"{country}{rng.randrange(10**8, 10**9)}"
    return record


def variant(rng: random.Random, base: dict[str, Any]) -> dict[str, Any]:
    """The same customer as another system holds it: 1 to 3 differences."""
    rec: dict[str, Any] = {
        k: ([dict(a) for a in v] if k == "addresses" else v) for k, v in base.items()
    }
    for change in rng.sample(CHANGES, rng.choice([1, 2, 2, 3])):
        change(rng, rec)
    if rec.get("kind") == "person":
        rec["name"] = " ".join(p for p in (rec.get("first_name"), rec.get("last_name")) if p)
    return rec


def _typo_name(rng: random.Random, rec: dict[str, Any]) -> None:
    field = rng.choice(["first_name", "last_name"]) if rec["kind"] == "person" else "name"
    if rec.get(field):
        words = rec[field].split(" ")
        j = rng.randrange(len(words))
        words[j] = typo(rng, words[j])
        rec[field] = " ".join(words)


def _swap_names(rng: random.Random, rec: dict[str, Any]) -> None:
    if rec["kind"] == "person":
        rec["first_name"], rec["last_name"] = rec.get("last_name"), rec.get("first_name")


def _drop(rng: random.Random, rec: dict[str, Any]) -> None:
    field = rng.choice(["email", "phone", "addresses", "first_name", "vat_number"])
    if field == "first_name" and rec["kind"] != "person":
        field = "email"
    rec.pop(field, None)


def _phone_format(rng: random.Random, rec: dict[str, Any]) -> None:
    if rec.get("phone"):
        rec["phone"] = _national(rec["phone"])


def _street_format(rng: random.Random, rec: dict[str, Any]) -> None:
    for address in rec.get("addresses") or []:
        for long, short in STREET_ABBREV:
            address["street"] = address["street"].replace(long, short)
        if rng.random() < 0.3:
            address["street"] = typo(rng, address["street"])


def _case(rng: random.Random, rec: dict[str, Any]) -> None:
    for field in ("name", "first_name", "last_name"):
        if rec.get(field):
            rec[field] = rec[field].upper()
    if rec.get("email"):
        rec["email"] = rec["email"].upper()
    for address in rec.get("addresses") or []:
        address["city"] = address["city"].upper()


def _legal_form(rng: random.Random, rec: dict[str, Any]) -> None:
    if rec["kind"] != "person":
        for form, variants in LEGAL_VARIANTS.items():
            if rec["name"].endswith(" " + form):
                rec["name"] = (rec["name"][: -len(form)] + rng.choice(variants)).strip()
                return


def _nickname(rng: random.Random, rec: dict[str, Any]) -> None:
    given = rec.get("first_name")
    if given in NICK:
        rec["first_name"] = NICK[given]
    elif given and rng.random() < 0.5:
        rec["first_name"] = given[0] + "."


def _diacritics(rng: random.Random, rec: dict[str, Any]) -> None:
    table = str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "ß": "ss", "é": "e", "è": "e"})
    for field in ("name", "first_name", "last_name"):
        if rec.get(field):
            rec[field] = rec[field].translate(table)


def _postcode_typo(rng: random.Random, rec: dict[str, Any]) -> None:
    for address in rec.get("addresses") or []:
        code = address["postal_code"]
        i = rng.randrange(len(code))
        address["postal_code"] = code[:i] + rng.choice(string.digits) + code[i + 1 :]


CHANGES = [_typo_name, _swap_names, _drop, _phone_format, _street_format, _case, _legal_form,
           _nickname, _diacritics, _postcode_typo, _typo_name, _drop]  # fmt: skip


def household_member(rng: random.Random, base: dict[str, Any], i: int) -> dict[str, Any] | None:
    """Someone else at the same address with the same surname (sometimes the same e-mail)."""
    if base["kind"] != "person":
        return None
    country = base["addresses"][0]["country"] if base.get("addresses") else "DE"
    given = rng.choice([g for g in GIVEN[country] if g != base["first_name"]])
    member = variant(rng, {**base, "first_name": given}) if rng.random() < 0.3 else dict(base)
    member.update(first_name=given, name=f"{given} {base['last_name']}")
    member["phone"] = base.get("phone") if rng.random() < 0.5 else None
    if rng.random() < 0.7:
        member["email"] = f"{given.lower()}.{base['last_name'].lower()}{i}@mail.example"
    return member


def namesake(rng: random.Random, base: dict[str, Any], i: int) -> dict[str, Any]:
    """The same name, another customer elsewhere."""
    other = true_customer(rng, i)
    other.update(kind=base["kind"], name=base["name"])
    if base["kind"] == "person":
        other.update(first_name=base["first_name"], last_name=base["last_name"])
    else:
        other.pop("first_name", None)
        other.pop("last_name", None)
        other.pop("vat_number", None)
    return other


def generate(n: int, seed: int = 7) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, int]]:
    """About ``n`` records: (ref, customer dict) in random order, and ref -> true customer."""
    rng = random.Random(seed)
    records: list[tuple[str, dict[str, Any]]] = []
    truth: dict[str, int] = {}
    entity = 0
    while len(records) < n:
        entity += 1
        base = true_customer(rng, entity)
        copies = [base] + [variant(rng, base) for _ in range(rng.choice([0, 0, 1, 1, 2, 3]))]
        for j, rec in enumerate(copies):
            ref = f"c{entity}-{j}"
            records.append((ref, rec))
            truth[ref] = entity
        roll = rng.random()
        if roll < 0.08 and (member := household_member(rng, base, entity)) is not None:
            entity += 1
            records.append((f"c{entity}-0", member))
            truth[f"c{entity}-0"] = entity
        elif roll < 0.14:
            entity += 1
            records.append((f"c{entity}-0", namesake(rng, base, entity)))
            truth[f"c{entity}-0"] = entity
    rng.shuffle(records)
    return records, truth
