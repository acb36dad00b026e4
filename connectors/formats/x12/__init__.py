"""X12 EDI: a streaming reader, an envelope writer, durable control numbers and the 997.

Reading (any size, in the memory of one chunk plus one transaction set)::

    from connectors.formats.x12 import TransactionSet, X12Error, X12Reader, read_x12

    with open("in.x12", "rb") as f:
        for item in X12Reader(f, source="in.x12"):
            if isinstance(item, X12Error):       # a bad set (or envelope): located, with raw
                quarantine(item.source, str(item), item.raw)
                continue
            item.code, item.control_number      # ST01 "846", ST02
            item.group.control_number           # GS06; item.interchange.control_number: ISA13
            for seg in item.body:               # segments between ST and SE
                seg[0], seg[1]                  # "LIN", first element ("" if empty)

    read_x12(bytes_or_text_or_path)             # the same items from memory or a Path

The delimiters come from each ISA: element separator = 4th character, ISA11 the repetition
separator (00402+), ISA16 the component separator, the character after ISA16 the segment
terminator; CR/LF after terminators is ignored. The reader checks SE01 (segment count),
SE02 = ST02, GE01 (number of sets), GE02 = GS06, IEA01 (number of groups), IEA02 = ISA13
and yields an ``X12Error`` for each problem, e.g. ``"in.x12, interchange 000000007, group
7, set 846 0003, segment 12 (SE) element SE01: SE01 says '12' segments, counted 11"``.
Set-level positions count from ST = 1; envelope positions from ISA = 1 in the file.

Writing::

    from connectors.formats.x12 import Delimiters, GroupOut, Party, SetOut, build_interchange

    data = build_interchange(
        Party("ZZ", "TANDEM"), Party("ZZ", "THREEPL"), control_number=12,
        groups=[GroupOut(12, [SetOut("940", "0001", [["W05", "N", "SO-1"], ...])])],
        delimiters=Delimiters("*", ">", None, "~"), usage="T", version="00401",
    )

Control numbers (``ControlNumbers(url)``: SQLAlchemy Core table ``x12_control_numbers``,
atomic increment per partner and kind ISA13/GS06/ST02, plus ``x12_sent`` remembering what
was sent for idempotent re-sends and 997 matching). 997: ``functional_ack`` builds one for a
received group; ``read_functional_ack`` reads one.
"""

from connectors.formats.x12.ack import GroupAck, SetAck, functional_ack, read_functional_ack
from connectors.formats.x12.control import ControlNumbers, SentDocument, default_url
from connectors.formats.x12.isa import parse_isa
from connectors.formats.x12.model import (
    Delimiters,
    GroupHeader,
    InterchangeHeader,
    Segment,
    TransactionSet,
    X12Error,
    element,
)
from connectors.formats.x12.reader import X12Reader, read_x12
from connectors.formats.x12.writer import (
    FUNCTIONAL_IDS,
    GroupOut,
    Party,
    SetOut,
    build_interchange,
    isa_segment,
    render_segment,
    render_set,
)

__all__ = [
    "FUNCTIONAL_IDS",
    "ControlNumbers",
    "Delimiters",
    "GroupAck",
    "GroupHeader",
    "GroupOut",
    "InterchangeHeader",
    "Party",
    "Segment",
    "SentDocument",
    "SetAck",
    "SetOut",
    "TransactionSet",
    "X12Error",
    "X12Reader",
    "build_interchange",
    "default_url",
    "element",
    "functional_ack",
    "isa_segment",
    "parse_isa",
    "read_functional_ack",
    "read_x12",
    "render_segment",
    "render_set",
]
