"""E-mail addresses in the canonical model: accepted, normalised and refused exactly as pydantic's
``EmailStr`` (email-validator) does it, also on the fast path for plain addresses."""

from __future__ import annotations

import itertools

import pytest
from pydantic import BaseModel, EmailStr, ValidationError

from canonical.models import Contact, Customer
from canonical.types import EmailAddress

LOCALS = ["anna", "anna.muller", "a", "x_y+tag", "-dash", "a..b", ".lead", "trail.", "Mixed",
          "postmaster", "POSTMASTER", "o'brien", "zoé", "a b", '"quoted"', "a" * 64, "a" * 65,
          "abuse", "", "søren.nielsen.7", "łukasz", "josé.garcía", "jose\u0301", "\u0301a",
          "ĳssel", "\u1100\u1161", "مرحبا", "Zoé", "zo\u200be", "a\u3000b", "x²", "a;b",
          "\uff46\uff55\uff4c\uff4c", "é" * 64, "é" * 65, "ü" * 120]  # fmt: skip
DOMAINS = ["example.com", "mail.example", "EXAMPLE.com", "sub.example.co.uk", "localhost",
           "shop.test", "host.local", "a.invalid", "x.onion", "example", "1.2.3.4", "ex-ample.org",
           "-bad.com", "bad-.com", "a..b.com", "xn--mller-kva.de", "müller.de", "b" * 63 + ".com",
           "b" * 64 + ".com", "example.com.", "[127.0.0.1]", "exa_mple.com", "123.456",
           ".".join(["c" * 60] * 4) + ".com"]  # fmt: skip
OTHERS = ["no-at-sign", "two@@example.com", "a@b@example.com", "Anna <anna@example.com>",
          " anna@example.com ", "anna@example.com\n", "anna\uff20example.com", "@example.com",
          "anna@", "a" * 250 + "@example.com", "x" * 230 + "@" + "y" * 20 + ".com"]  # fmt: skip


class Reference(BaseModel):
    email: EmailStr


class Ours(BaseModel):
    email: EmailAddress


def outcome(model: type[BaseModel], value: str) -> tuple[str, str]:
    try:
        return "ok", str(model.model_validate({"email": value}).model_dump()["email"])
    except ValidationError as exc:
        error = exc.errors()[0]
        return "error", f"{error['type']} {error['loc']} {error['msg']}"


ADDRESSES = [f"{local}@{domain}" for local, domain in itertools.product(LOCALS, DOMAINS)]


@pytest.mark.parametrize("value", ADDRESSES + OTHERS)
def test_same_result_and_same_error_as_pydantic_email_str(value: str) -> None:
    expected = outcome(Reference, value)
    assert outcome(Ours, value) == expected
    assert outcome(Ours, value) == expected  # again, with the domain's verdict kept


def test_a_bad_address_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        Customer(kind="person", name="Anna", email="anna@shop.test")
    error = caught.value.errors()[0]
    assert error["loc"] == ("email",)
    assert "not a valid email address" in error["msg"]
    assert "special-use or reserved name" in error["msg"]


def test_addresses_are_normalised_as_before() -> None:
    assert Customer(kind="person", name="A", email=" Anna@Example.COM ").email == "anna@example.com"
    assert Contact(email="Anna@EXAMPLE.com").email == "Anna@example.com"
    assert Contact(email="Postmaster@example.com").email == "postmaster@example.com"
    assert Contact(email="anna@xn--mller-kva.de").email == "anna@müller.de"


def test_json_schema_says_email() -> None:
    assert Ours.model_json_schema()["properties"]["email"] == {
        "format": "email",
        "title": "Email",
        "type": "string",
    }
