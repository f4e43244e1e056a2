"""Link keys: a case's pseudonyms and an index entry's case id, sealed so that destroying the
key unties them from the person, while equal pseudonyms under one key stay comparable."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain.household import HouseholdMember, MemberRole
from ks_engine.case_links import CaseLinks, IndexRefs, is_sealed, key_of
from ks_engine.keystore import MemoryKeyStore
from tests.referral_builders import make_signal

PSEUDONYMS = st.text(alphabet="0123456789abcdef", min_size=16, max_size=64)


@given(PSEUDONYMS, PSEUDONYMS)
def test_sealing_is_deterministic_per_key_and_opens_until_the_key_is_destroyed(
    a: str, b: str
) -> None:
    links = CaseLinks(MemoryKeyStore())
    one, other = links.new_key(), links.new_key()
    sealed = links.seal(a, one)
    assert is_sealed(sealed)
    assert key_of(sealed) == one
    assert a not in sealed
    assert links.seal(a, one) == sealed  # the case still compares its members
    assert (links.seal(b, one) == sealed) == (a == b)
    assert links.seal(a, other) != sealed  # another case's form differs
    assert links.unseal(sealed) == a
    assert links.resealer(other)(sealed) == links.seal(a, other)
    links.keys.destroy(one)
    assert links.unseal(sealed) is None


def test_a_pseudonym_stored_before_link_keys_is_kept_as_it_is() -> None:
    links = CaseLinks(MemoryKeyStore())
    assert links.seal("a" * 64, None) == "a" * 64
    assert links.unseal("a" * 64) == "a" * 64
    assert key_of("a" * 64) is None


def test_index_entries_name_a_case_under_a_key_of_their_own() -> None:
    refs = IndexRefs(CaseLinks(MemoryKeyStore()))
    case, other = uuid4(), uuid4()
    first, second = refs.new(case), refs.new(case)
    assert key_of(first) != key_of(second)  # two entries share nothing that links them
    assert str(case) not in first
    stored: list[UUID | str] = [UUID(int=7), refs.new(other), first]
    assert refs.cases(stored) == [UUID(int=7), other, case]
    assert refs.find(stored, case) == first
    assert refs.for_case(stored, case) == first
    refs.links.keys.destroy(key_of(first) or "")
    assert refs.cases(stored) == [UUID(int=7), other]
    assert refs.find(stored, case) is None


class _CountingKeys(MemoryKeyStore):
    """A key store that counts the reads of keys."""

    reads = 0

    def get(self, key_id: str) -> bytes | None:
        self.reads += 1
        return super().get(key_id)


def test_a_signal_is_sealed_member_by_member_under_one_read_of_its_key() -> None:
    keys = _CountingKeys()
    links = CaseLinks(keys)
    key = links.new_key()
    signal = make_signal().model_copy(
        update={
            "household": (
                HouseholdMember(role=MemberRole.CO_PARENT, pseudonym="b" * 64),
                HouseholdMember(role=MemberRole.CHILD, pseudonym="c" * 64),
                HouseholdMember(role=MemberRole.UNBORN, due_date=date(2027, 3, 1)),
            )
        }
    )
    sealed = links.seal_signal(signal, key)
    assert keys.reads == 1
    assert sealed.person_pseudonym == links.seal(signal.person_pseudonym, key)
    assert [m.pseudonym for m in sealed.household] == [
        links.seal("b" * 64, key),
        links.seal("c" * 64, key),
        None,
    ]
    # Sealed already: the key is not read, so a destroyed one refuses nothing.
    keys.destroy(key)
    assert links.seal_signal(sealed, key) == sealed
