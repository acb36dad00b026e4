"""The envelope writer (fixed-width ISA, counted trailers) and the 997."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.formats.x12 import (
    Delimiters,
    GroupOut,
    Party,
    SetOut,
    TransactionSet,
    X12Error,
    build_interchange,
    functional_ack,
    isa_segment,
    read_functional_ack,
    read_x12,
    render_segment,
)

WHEN = datetime(2026, 11, 24, 6, 5, tzinfo=UTC)
US, THEM = Party("ZZ", "TANDEM"), Party("ZZ", "NORTHWAY3PL")


def test_isa_fields_are_padded_to_their_fixed_width() -> None:
    d = Delimiters("*", ">", None, "~")
    isa = isa_segment(US, THEM, 7, d, usage="P", now=WHEN)
    assert len(isa) == 106
    assert isa == (
        "ISA*00*          *00*          *ZZ*TANDEM         *ZZ*NORTHWAY3PL    *261124*0605*U*"
        "00401*000000007*0*P*>~"
    )


def test_an_isa_id_longer_than_15_is_refused() -> None:
    with pytest.raises(X12Error, match="ISA06"):
        isa_segment(Party("ZZ", "A" * 16), THEM, 1, Delimiters())


def test_a_value_holding_a_delimiter_is_refused_not_mangled() -> None:
    with pytest.raises(X12Error, match=r"N1.*element N102.*contains the delimiter '\*'"):
        render_segment(["N1", "ST", "Smith*Jones"], Delimiters("*", ">", None, "~"))


def test_trailing_empty_elements_are_dropped_and_composites_joined() -> None:
    d = Delimiters("*", ">", None, "~")
    assert render_segment(["W66", "PP", "U", "", ""], d) == "W66*PP*U~"
    assert render_segment(["AK3", ("W01", "1"), "", "8"], d) == "AK3*W01>1**8~"


@pytest.mark.parametrize("version", ["00401", "00501"])
def test_round_trip_writer_to_reader_with_counts(version: str) -> None:
    d = Delimiters("|", "}", "^" if version >= "00402" else None, "\n")
    groups = [
        GroupOut(
            11,
            [
                SetOut("940", "0001", [["W05", "N", "SO-1"], ["LX", "1"]]),
                SetOut("940", "0002", [["W05", "N", "SO-2"]]),
            ],
        ),
        GroupOut(12, [SetOut("846", "0003", [["BIA", "00", "SI", "R"]])]),
    ]
    data = build_interchange(US, THEM, 99, groups, delimiters=d, version=version, now=WHEN)
    assert b"SE|4|0001\n" in data and b"GE|2|11\n" in data and b"IEA|2|000000099\n" in data
    items = list(read_x12(data, "rt.x12"))
    assert all(isinstance(i, TransactionSet) for i in items), items
    sets = [i for i in items if isinstance(i, TransactionSet)]
    assert [
        (s.group.functional_id, s.group.control_number, s.code, s.control_number) for s in sets
    ] == [
        ("OW", "11", "940", "0001"),
        ("OW", "11", "940", "0002"),
        ("IB", "12", "846", "0003"),
    ]
    assert sets[0].body == [["W05", "N", "SO-1"], ["LX", "1"]]
    assert sets[0].interchange.control_number == "000000099"


def test_a_997_accepts_good_sets_and_rejects_bad_ones_by_segment() -> None:
    data = build_interchange(
        THEM,
        US,
        5,
        [
            GroupOut(
                8,
                [
                    SetOut("945", "0001", [["W06", "F", "A"]]),
                    SetOut("945", "0002", [["W06", "F", "B"]]),
                ],
            )
        ],
    )
    data = data.replace(b"SE*3*0002~", b"SE*4*0002~")
    items = list(read_x12(data, "in.x12"))
    good = next(i for i in items if isinstance(i, TransactionSet))
    ack = functional_ack(good.group, items, "0001")
    assert ack.body == [
        ["AK1", "SW", "8"],
        ["AK2", "945", "0001"],
        ["AK5", "A"],
        ["AK2", "945", "0002"],
        ["AK3", "SE", "3"],
        ["AK4", "1"],
        ["AK5", "R", "4"],
        ["AK9", "P", "2", "2", "1"],
    ]
    # and the 997 reads back as what it says
    back = build_interchange(US, THEM, 6, [GroupOut(9, [ack])])
    (ts,) = [i for i in read_x12(back, "997.x12") if isinstance(i, TransactionSet)]
    read = read_functional_ack(ts)
    assert (read.functional_id, read.group_control, read.status) == ("SW", "8", "P")
    assert [(s.control_number, s.status) for s in read.sets] == [("0001", "A"), ("0002", "R")]
    assert read.sets[1].errors[0] == "4"
