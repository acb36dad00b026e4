"""The streaming X12 reader: delimiters from the ISA, envelope counts, hostile input."""

from __future__ import annotations

import io

import pytest

from connectors.formats.x12 import (
    Delimiters,
    GroupOut,
    Party,
    SetOut,
    TransactionSet,
    X12Error,
    X12Reader,
    build_interchange,
    read_x12,
)

US, THEM = Party("ZZ", "TANDEM"), Party("01", "123456789", "WHSE")


def interchange(
    delimiters: Delimiters | None = None,
    *,
    sets: int = 2,
    control: int = 41,
    version: str = "00401",
    newline: bool = False,
) -> bytes:
    bodies = [
        SetOut(
            "846",
            f"{n:04d}",
            [
                ["BIA", "00", "SI", f"R{n}", "20261124"],
                ["LIN", "", "VN", f"SKU-{n}"],
                ["QTY", "17", str(n), "EA"],
            ],
        )
        for n in range(1, sets + 1)
    ]
    return build_interchange(
        US,
        THEM,
        control,
        [GroupOut(7, bodies)],
        delimiters=delimiters,
        version=version,
        newline=newline,
    )


def sets_and_errors(data: bytes, **kw: object) -> tuple[list[TransactionSet], list[X12Error]]:
    items = list(read_x12(data, "in.x12", **kw))
    return (
        [i for i in items if isinstance(i, TransactionSet)],
        [i for i in items if isinstance(i, X12Error)],
    )


@pytest.mark.parametrize(
    "delimiters",
    [
        Delimiters("*", ">", None, "~"),
        Delimiters("|", "^", None, "\n"),
        Delimiters("\x1d", "\x1f", None, "\x1c"),  # binary separators some VANs use
        Delimiters("+", ":", None, "'"),
        Delimiters("!", "\\", None, "\x85"),
    ],
    ids=["standard", "pipe-newline", "control-chars", "edifact-like", "nel"],
)
def test_delimiters_come_from_the_isa(delimiters: Delimiters) -> None:
    sets, errors = sets_and_errors(interchange(delimiters))
    assert errors == []
    assert [(s.code, s.control_number) for s in sets] == [("846", "0001"), ("846", "0002")]
    assert sets[0].body[1] == ["LIN", "", "VN", "SKU-1"]
    assert sets[0].delimiters == delimiters
    assert sets[0].interchange.sender_id == "TANDEM"
    assert sets[0].interchange.receiver_qualifier == "01"
    assert sets[0].group.sender == "TANDEM" and sets[0].group.receiver == "WHSE"


def test_5010_repetition_separator_is_isa11() -> None:
    data = interchange(Delimiters("*", ":", "^", "~"), version="00501")
    sets, errors = sets_and_errors(data)
    assert errors == [] and len(sets) == 2
    assert sets[0].delimiters.repetition == "^"
    assert sets[0].interchange.version == "00501"


def test_crlf_after_terminators_and_tiny_chunks() -> None:
    data = interchange(newline=True).replace(b"\n", b"\r\n")
    for chunk_size in (1, 3, 7, 1 << 20):
        sets, errors = sets_and_errors(data, chunk_size=chunk_size)
        assert errors == [], chunk_size
        assert [s.lines for s in sets] == [s.lines for s in sets_and_errors(data)[0]]
        assert sets[1].body[2] == ["QTY", "17", "2", "EA"]


def test_two_interchanges_with_different_delimiters_in_one_file() -> None:
    data = (
        interchange(control=1) + b"\r\n" + interchange(Delimiters("|", "}", None, "\n"), control=2)
    )
    sets, errors = sets_and_errors(data, chunk_size=16)
    assert errors == []
    assert [(s.interchange.control_number, s.delimiters.element) for s in sets] == [
        ("000000001", "*"),
        ("000000001", "*"),
        ("000000002", "|"),
        ("000000002", "|"),
    ]


def test_se01_wrong_names_file_interchange_set_segment_and_element() -> None:
    data = interchange().replace(b"SE*5*0001~", b"SE*12*0001~")
    sets, errors = sets_and_errors(data)
    assert [s.control_number for s in sets] == ["0002"], "the other set goes on"
    (error,) = errors
    assert str(error) == (
        "in.x12, interchange 000000041, group 7, set 846 0001, segment 5 (SE) element SE01: "
        "SE01 says '12' segments, counted 5"
    )
    assert (error.code, error.level, error.set_control) == ("4", "set", "0001")
    assert error.raw.startswith(b"ST*846*0001~") and error.raw.endswith(b"SE*12*0001~")


def test_se02_must_repeat_st02() -> None:
    _, errors = sets_and_errors(interchange().replace(b"SE*5*0002~", b"SE*5*0009~"))
    assert [e.detail for e in errors] == ["SE02 '0009' does not match ST02 '0002'"]


def test_group_and_interchange_trailers_are_checked() -> None:
    data = (
        interchange()
        .replace(b"GE*2*7~", b"GE*3*8~")
        .replace(b"IEA*1*000000041", b"IEA*2*000000042")
    )
    sets, errors = sets_and_errors(data)
    assert len(sets) == 2
    assert [(e.segment_id, e.element, e.detail) for e in errors] == [
        ("GE", 1, "GE01 says '3' transaction sets, counted 2"),
        ("GE", 2, "GE02 '8' does not match GS06 '7'"),
        ("IEA", 1, "IEA01 says '2' functional groups, counted 1"),
        ("IEA", 2, "IEA02 '000000042' does not match ISA13 '000000041'"),
    ]


def test_a_missing_se_fails_that_set_only() -> None:
    data = interchange(sets=3).replace(b"SE*5*0002~", b"")
    sets, errors = sets_and_errors(data)
    assert [s.control_number for s in sets] == ["0001", "0003"]
    assert [(e.set_control, e.code) for e in errors] == [("0002", "2")]
    assert "no SE" in errors[0].detail


def test_truncated_input_is_reported_and_complete_sets_kept() -> None:
    data = interchange(sets=3)
    cut = data[: data.index(b"ST*846*0003") + 20]
    sets, errors = sets_and_errors(cut)
    assert [s.control_number for s in sets] == ["0001", "0002"]
    assert errors[0].set_control == "0003" and "truncated" in errors[0].detail
    assert {e.segment_id for e in errors[1:]} == {"GE", "IEA"}


def test_truncated_inside_the_isa() -> None:
    _, errors = sets_and_errors(interchange()[:60])
    assert len(errors) == 1 and "truncated" in errors[0].detail and errors[0].segment_id == "ISA"


def test_wrong_element_separator_inside_the_isa() -> None:
    data = interchange().replace(b"*", b"|", 3)  # ISA's first separators differ from the rest
    _, errors = sets_and_errors(data)
    assert len(errors) == 1
    assert "expected 16" in errors[0].detail


def test_unpadded_isa_field_names_the_element() -> None:
    data = interchange().replace(b"TANDEM         ", b"TANDEM", 1)
    _, errors = sets_and_errors(data)
    assert len(errors) == 1 and errors[0].segment_id == "ISA"


def test_a_bad_isa13_names_the_element() -> None:
    data = interchange().replace(b"*000000041*", b"*00000004X*", 1)
    _, errors = sets_and_errors(data)
    assert (errors[0].element, errors[0].code) == (13, "018")


@pytest.mark.parametrize(
    "content",
    [b"", b"order_id,qty\n1,2\n", b"<?xml version='1.0'?><a/>", b"\x00\xff\xfe" * 50, b"ISA"],
    ids=["empty", "csv", "xml", "binary", "just-isa"],
)
def test_non_edi_content_is_one_clear_error(content: bytes) -> None:
    sets, errors = sets_and_errors(content)
    assert sets == []
    assert len(errors) == 1
    assert errors[0].level in ("file", "interchange")
    assert "in.x12" in str(errors[0])


def test_invalid_utf8_is_reported_with_a_hint() -> None:
    data = interchange().replace(b"SKU-1", b"SKU-\xe9")
    _, errors = sets_and_errors(data)
    assert "encoding" in errors[0].detail
    sets, errors = sets_and_errors(data, encoding="latin-1")
    assert errors == [] and sets[0].body[1][3] == "SKU-é"


def test_garbage_after_the_last_iea_is_an_error_after_the_good_sets() -> None:
    sets, errors = sets_and_errors(interchange() + b"\nthis is not edi")
    assert len(sets) == 2 and len(errors) == 1 and errors[0].level == "file"


def test_the_reader_streams_from_a_file_object() -> None:
    data = interchange(sets=50)
    reader = X12Reader(io.BufferedReader(io.BytesIO(data)), "stream.x12", chunk_size=64)
    assert sum(isinstance(i, TransactionSet) for i in reader) == 50


def test_line_breaks_after_only_some_segments() -> None:
    data = interchange(newline=True, sets=4)
    cut = data.index(b"ST*846*0003")
    mixed = data[:cut] + data[cut:].replace(b"~\n", b"~")  # a partner's writer changed style
    for chunk_size in (5, 1 << 20):
        sets, errors = sets_and_errors(mixed, chunk_size=chunk_size)
        assert errors == [], chunk_size
        assert [s.lines for s in sets] == [s.lines for s in sets_and_errors(data)[0]]
        assert sets[3].body[1] == ["LIN", "", "VN", "SKU-4"]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
def test_line_breaks_split_from_their_terminator_by_a_chunk_boundary(eol: bytes) -> None:
    data = interchange(newline=True, sets=30).replace(b"\n", eol)
    expected = [s.lines for s in sets_and_errors(data)[0]]
    assert all(not line.startswith(("\r", "\n")) for lines in expected for line in lines)
    for chunk_size in (2, 5, 11, 64):
        sets, errors = sets_and_errors(data, chunk_size=chunk_size)
        assert errors == [], chunk_size
        assert [s.lines for s in sets] == expected, chunk_size
