"""The quick scan of `ks audit verify` recomputes the chain exactly as ``chain.py`` defines it:
a chain built with ``chain.body_hash``/``link_hash`` over any values scans clean, and changing
any one value of any row (or leaving a row out, or adding one) makes it not clean."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from ks_engine.audit import chain
from ks_engine.audit.scan import scan

CASE = "domain.referral:Referral.Signalled"
Row = tuple[Any, ...]


class Rows:
    """Plain rows in memory, as the SQLite adapter gives them."""

    def __init__(self, events: list[Row], links: list[Row], stored: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self._events, self._links, self._stored = events, links, stored

    def events(self, first: int, last: int) -> Iterator[Row]:
        return iter([e for e in self._events if first <= e[0] <= last])

    def links(self, first: int, last: int | None) -> Iterator[Row]:
        return iter([k for k in self._links if k[0] >= first and (last is None or k[0] <= last)])

    def stored(self, position: int) -> bool:
        return position in self._stored


def summary_of(position: int, aggregate: str, version: int, topic: str, state: bytes) -> str:
    return chain.sha256(b"summary " + state)


texts = st.text(max_size=12)
event_specs = st.lists(
    st.tuples(
        st.integers(0, 3),  # which aggregate
        st.sampled_from([CASE, "domain.person_index:PersonIndex.Opened", 'x:\u00e9"\\']),
        st.binary(max_size=40),
        st.sampled_from([1, 2]),  # chain format
        texts,  # sealed_at
    ),
    min_size=1,
    max_size=12,
)


def build(specs: list[tuple[int, str, bytes, int, str]]) -> tuple[list[Row], list[Row]]:
    """Events and their links, sealed as the sealer seals them (positions with a gap)."""
    events: list[Row] = []
    links: list[Row] = []
    prev, latest, versions = chain.GENESIS, dict[str, tuple[int, str]](), dict[str, int]()
    for n, (which, topic, state, form, sealed_at) in enumerate(specs):
        position = 1 + n + (n > 3)  # positions need not follow each other
        aggregate = str(UUID(int=which + 1))
        version = versions[aggregate] = versions.get(aggregate, 0) + 1
        before = latest.get(aggregate)
        in_aggregate = before[1] if before else chain.GENESIS
        summary = summary_of(position, aggregate, version, topic, state) if topic == CASE else ""
        body = chain.body_hash(
            aggregate=aggregate,
            version=version,
            topic=topic,
            state_hash=chain.sha256(state),
            summary_hash=summary,
            prev_in_aggregate=in_aggregate,
            chain_format=form,
            sealed_at=sealed_at,
        )
        link_hash = chain.link_hash(position, prev, body)
        predecessor = f"{before[0]} {before[1]}" if before else None
        events.append((position, UUID(aggregate).hex, version, topic, state))
        links.append(
            (
                position,
                aggregate,
                version,
                topic,
                chain.sha256(state),
                summary,
                in_aggregate,
                prev,
                link_hash,
                sealed_at,
                form,
                predecessor,
            )
        )
        latest[aggregate] = (position, link_hash)
        prev = link_hash
    return events, links


def scanned(events: list[Row], links: list[Row], stored: set[int] = frozenset()) -> bool:  # type: ignore[assignment]
    upto = max((e[0] for e in events), default=0)
    return scan(Rows(events, links, stored), summary_of, 1, None, upto, set()).clean


@settings(max_examples=150, deadline=None)
@given(specs=event_specs)
def test_a_chain_sealed_as_chain_py_defines_it_scans_clean(
    specs: list[tuple[int, str, bytes, int, str]],
) -> None:
    events, links = build(specs)
    result = scan(Rows(events, links), summary_of, 1, None, events[-1][0], {links[-1][0]})
    assert result.clean
    assert result.count == result.verified == len(specs)
    assert result.first is not None
    assert result.first.position == links[0][0]
    assert result.last is not None
    assert result.last.link_hash == links[-1][8]
    assert result.met[links[-1][0]][1] == len(specs)


def _other(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return "0" * 64
    if isinstance(value, int):
        return value + 1
    if isinstance(value, bytes):
        return value + b"\0"
    return value + "0" if value else "x"


@settings(max_examples=300, deadline=None)
@given(specs=event_specs, which=st.integers(0), column=st.integers(0, 16), odd=st.booleans())
def test_any_one_changed_value_makes_the_scan_not_clean(
    specs: list[tuple[int, str, bytes, int, str]], which: int, column: int, odd: bool
) -> None:
    events, links = build(specs)
    n = which % len(events)
    if column < 5:  # a column of the stored event
        row = list(events[n])
        row[column] = _other(row[column])
        events[n] = tuple(row)
    elif column < 16:  # a column of the link (its predecessor's "position hash" is not one)
        row = list(links[n])
        if column - 5 == 9 and row[10] == 1:
            return  # a format-1 seal does not cover the time it was sealed
        row[column - 5] = (
            float(row[0]) if odd and column - 5 in (0, 2, 10) else _other(row[column - 5])
        )
        links[n] = tuple(row)
    elif odd:
        del events[n]  # removed, its seal kept
    else:
        del links[n]  # never sealed
    if not events:
        return
    assert not scanned(events, links)


def test_a_seal_made_after_the_log_was_read_ends_the_scan_only_if_its_event_is_stored() -> None:
    events, links = build([(0, CASE, b"a", 2, "t"), (1, CASE, b"b", 2, "t")])
    # The log was read up to the first event; the second was stored and sealed meanwhile
    assert scanned(events[:1], links, stored={links[1][0]})
    assert not scanned(events[:1], links, stored=set())  # a seal of an event not in the log


def test_a_predecessor_after_the_link_or_another_than_the_previous_seal_is_not_clean() -> None:
    events, links = build([(0, "t:A", b"a", 2, "t"), (0, "t:A", b"b", 2, "t")])
    assert scanned(events, links)
    second = list(links[1])
    second[11] = f"{links[1][0]} {links[0][8]}"  # the previous version stands at or after it
    assert not scanned(events, [links[0], tuple(second)])
    second[11] = None  # the previous version has no seal
    assert not scanned(events, [links[0], tuple(second)])
