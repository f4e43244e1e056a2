"""Rules of the access export (AVG art. 15): another adult's details are withheld, and no
pseudonym, sealed detail or bookkeeping field reaches the export at any depth."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ks_engine.personal_details import PersonalField
from ks_engine.privacy.access_request import _LEFT_OUT, _scrub, _shown

_KEYS = st.sampled_from([*sorted(_LEFT_OUT), "signal", "scope", "on", "needs", "reason"])
_JSON = st.recursive(
    st.none() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@given(_JSON)
def test_no_pseudonym_or_sealed_field_survives_at_any_depth(value: Any) -> None:
    assert not _keys(_scrub(value)) & _LEFT_OUT


def _field(member: str, name: str) -> PersonalField:
    return PersonalField(member, member, name, name, "x", "contact", ("coordinator",))


FIELDS = [
    _field("parent", "name"),
    _field("co_parent", "name"),
    _field("child", "birth_date"),
]


def test_a_parent_sees_their_own_and_the_childrens_details_not_the_other_parents() -> None:
    shown, withheld = _shown(FIELDS, "parent")
    assert [(f.member, f.field) for f in shown] == [("parent", "name"), ("child", "birth_date")]
    assert withheld == ["co_parent"]


def test_the_co_parent_sees_their_own_and_the_childrens_details() -> None:
    shown, withheld = _shown(FIELDS, "co_parent")
    assert [f.member for f in shown] == ["co_parent", "child"]
    assert withheld == ["parent"]


def test_a_child_sees_no_parents_details() -> None:
    shown, withheld = _shown(FIELDS, "child")
    assert [f.member for f in shown] == ["child"]
    assert withheld == ["co_parent", "parent"]
