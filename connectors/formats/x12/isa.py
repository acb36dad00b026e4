"""The ISA segment: fixed width, and the only place the delimiters are declared."""

from __future__ import annotations

from connectors.formats.x12.model import (
    ISA_LENGTH,
    ISA_WIDTHS,
    Delimiters,
    InterchangeHeader,
    X12Error,
)


def _fail(message: str, source: str, element: int = 0, code: str = "") -> X12Error:
    return X12Error(
        message,
        source=source,
        segment_id="ISA",
        position=1,
        element=element,
        code=code,
        level="interchange",
    )


def not_edi(text: str, source: str) -> X12Error:
    head = text[:24].encode("unicode_escape").decode("ascii")
    return X12Error(
        f"not an X12 interchange: expected 'ISA' at the start, found {head!r}",
        source=source,
        code="022",
        level="file",
        raw=text[:4096].encode("utf-8", "replace"),
    )


def parse_isa(text: str, source: str = "") -> tuple[InterchangeHeader, str]:
    """The header and delimiters of the ISA at the start of ``text`` (at least 106
    characters), and the segment terminator. Raises ``X12Error`` naming the element."""
    if not text.startswith("ISA"):
        raise not_edi(text, source)
    if len(text) < ISA_LENGTH:
        raise _fail(
            f"ISA is {len(text)} characters before the end of the input; it is fixed width "
            f"({ISA_LENGTH} with its terminator): truncated",
            source,
            code="023",
        )
    sep = text[3]
    if sep.isalnum() or sep == " ":
        raise _fail(
            f"element separator {sep!r} (ISA position 4) must not be a letter, digit or space",
            source,
            code="026",
        )
    fields = text[: ISA_LENGTH - 1].split(sep)
    if len(fields) != 17:
        raise _fail(
            f"found {len(fields) - 1} elements separated by {sep!r} in the fixed-width ISA, "
            "expected 16 (wrong element separator, or a field is not padded to its width)",
            source,
            code="026",
        )
    for index, (value, width) in enumerate(zip(fields[1:], ISA_WIDTHS, strict=True), start=1):
        if len(value) != width:
            raise _fail(
                f"{value!r} is {len(value)} characters, ISA{index:02d} must be exactly {width}",
                source,
                element=index,
                code="022",
            )
    component, terminator = fields[16], text[ISA_LENGTH - 1]
    if len({sep, component, terminator}) != 3 or terminator.isalnum() or component.isalnum():
        raise _fail(
            f"delimiters must be distinct and not letters or digits: element {sep!r}, "
            f"component {component!r} (ISA16), segment terminator {terminator!r}",
            source,
            element=16,
            code="027",
        )
    version = fields[12]
    repetition: str | None = None
    if version >= "00402":
        repetition = fields[11]
        if repetition.isalnum() or repetition in (sep, component, terminator):
            raise _fail(
                f"repetition separator {repetition!r} (ISA11, version {version}) must be a "
                "distinct non-alphanumeric character",
                source,
                element=11,
                code="026",
            )
    _check_values(fields, source)
    header = InterchangeHeader(
        sender_qualifier=fields[5],
        sender_id=fields[6].rstrip(),
        receiver_qualifier=fields[7],
        receiver_id=fields[8].rstrip(),
        date=fields[9],
        time=fields[10],
        version=version,
        control_number=fields[13],
        ack_requested=fields[14],
        usage=fields[15],
        delimiters=Delimiters(sep, component, repetition, terminator),
    )
    return header, terminator


def _check_values(fields: list[str], source: str) -> None:
    checks = (
        (12, fields[12].isdigit(), "017", "version must be 5 digits"),
        (13, fields[13].isdigit(), "018", "control number must be 9 digits"),
        (9, fields[9].isdigit(), "014", "date must be YYMMDD"),
        (10, fields[10].isdigit(), "015", "time must be HHMM"),
        (14, fields[14] in ("0", "1"), "019", "acknowledgment requested must be 0 or 1"),
        (15, fields[15] in ("P", "T", "I"), "020", "usage indicator must be P, T or I"),
    )
    for index, ok, code, what in checks:
        if not ok:
            raise _fail(f"{fields[index]!r}: {what}", source, element=index, code=code)
