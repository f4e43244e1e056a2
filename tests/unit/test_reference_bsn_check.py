"""The intake's quick refusal of references too short in digits agrees with the full BSN check."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.redaction import holds_bsn
from ks_engine.signal_rules import _holds_bsn

DIGITS = st.sampled_from("0123456789٠١٢٣٤٥٦٧٨٩０１２３４５６７８９߀߁߂²³¹")
REFERENCE = st.lists(
    st.one_of(DIGITS, st.sampled_from(" -./:#_"), st.characters()), max_size=40
).map("".join)


@given(REFERENCE)
def test_the_quick_check_answers_as_the_full_check_on_any_text(value: str) -> None:
    assert _holds_bsn(value) == holds_bsn(value)


def test_it_still_finds_a_bsn_in_a_reference() -> None:
    assert _holds_bsn("verloskunde-parkstad#111222333")
    assert _holds_bsn(111222333)
    assert not _holds_bsn("verloskunde-parkstad#b-17")
