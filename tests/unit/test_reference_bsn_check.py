"""The intake's quick refusal of references too short in digits agrees with the full BSN check,
and a UUID inside a reference is never taken for a BSN, while a BSN beside it still is."""

from __future__ import annotations

from uuid import UUID

from hypothesis import assume, given
from hypothesis import strategies as st

from domain.redaction import holds_bsn
from ks_engine.signal_rules import _UUID_TEXT, _holds_bsn

DIGITS = st.sampled_from("0123456789٠١٢٣٤٥٦٧٨٩０１２３４５６７８９߀߁߂²³¹")
REFERENCE = st.lists(
    st.one_of(DIGITS, st.sampled_from(" -./:#_"), st.characters()), max_size=40
).map("".join)


@given(REFERENCE)
def test_the_quick_check_answers_as_the_full_check_on_any_text(value: str) -> None:
    assume(not _UUID_TEXT.search(value))  # a written-out UUID: the tests below
    assert _holds_bsn(value) == holds_bsn(value)


def test_it_still_finds_a_bsn_in_a_reference() -> None:
    assert _holds_bsn("verloskunde-parkstad#111222333")
    assert _holds_bsn(111222333)
    assert not _holds_bsn("verloskunde-parkstad#b-17")


BEFORE = st.sampled_from(["s-", "signal/", "https://jgz.example.nl/meldingen/", "x", ""])
AFTER = st.sampled_from(["", "#2", "/1", "-v2", "x"])  # kept apart from the UUID's own digits


@given(BEFORE, st.uuids(), AFTER, st.booleans())
def test_a_uuid_inside_a_reference_is_no_bsn(
    before: str, uuid: UUID, after: str, upper: bool
) -> None:
    text = str(uuid).upper() if upper else str(uuid)
    assert not _holds_bsn(f"{before}{text}{after}")


@given(st.uuids(), st.sampled_from(["{}-{}", "{1}/{0}", "{0}#{1}", "{1}:{0}x"]))
def test_a_bsn_beside_a_uuid_is_still_found(uuid: UUID, layout: str) -> None:
    assert _holds_bsn(layout.format("111222333", uuid))
