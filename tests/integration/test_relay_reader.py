"""The relay's read of the log on each event store (in memory, a SQLite file, PostgreSQL): the
case events of a span and how far each one's reader has seen, the same as reading every stored
event and filtering; and the orjson-decoded events are the events the application reads."""

from __future__ import annotations

import pytest

from adapters.nats.relay import coverage, is_referral
from adapters.nats.relay_decoding import orjson_mapper
from adapters.nats.relay_reader import GenericLogReader, LogReader, Span, log_reader
from ks_engine.bootstrap import Engine
from tests.conftest import FixedClock
from tests.unit.test_projection_scenario import notifications, play


def read_all(reader: LogReader, span: int, peek: int) -> list[Span]:
    spans: list[Span] = []
    start = 1
    while (found := reader.read(start, span, peek)) is not None:
        spans.append(found)
        start = found.end + 1
    return spans


@pytest.mark.parametrize("span", [1, 7, 60, 100_000])
def test_spans_hold_the_case_events_and_how_far_each_reader_has_seen(
    engine: Engine, clock: FixedClock, span: int
) -> None:
    # Given a log of many cases with index and idempotency records between their events
    app = engine.referrals
    play(app, clock, seed=4, steps=60)
    log = notifications(app)
    cases = [n for n in log if is_referral(n)]
    assert 0 < len(cases) < len(log)
    for reader in (log_reader(app.recorder), GenericLogReader(app.recorder)):
        # When the whole log is read span by span
        spans = read_all(reader, span, peek=5)
        # Then the spans tile the log, and hold its case events exactly, in order
        assert spans[-1].end == log[-1].id
        assert all(
            s.end - (p.end if p else 0) <= span
            for p, s in zip([None, *spans[:-1]], spans, strict=True)
        )
        events = [n for s in spans for n in s.events]
        assert [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in events
        ] == [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in cases]
        # And each event's coverage reaches at least itself and never past the next case event
        through = [t for s in spans for t in s.through]
        nexts = [n.id for n in cases[1:]] + [log[-1].id + 1]
        assert all(n.id <= t < after for n, t, after in zip(events, through, nexts, strict=True))
        if span >= len(log):  # read at once: exactly the coverage of reading everything
            every = coverage([(n.id, is_referral(n)) for n in log])
            assert through == [every[n.id] for n in cases]


def test_nothing_is_read_past_the_end_of_the_log(engine: Engine, clock: FixedClock) -> None:
    app = engine.referrals
    assert log_reader(app.recorder).read(1, 10, 5) is None
    play(app, clock, seed=2, steps=5)
    last = notifications(app)[-1].id
    assert log_reader(app.recorder).read(last + 1, 10, 5) is None
    assert GenericLogReader(app.recorder).read(last + 1, 10, 5) is None


def test_events_decoded_with_orjson_are_the_events_the_application_reads(
    engine: Engine, clock: FixedClock
) -> None:
    # Given every kind of stored event (encrypted at rest on the durable stores)
    app = engine.referrals
    play(app, clock, seed=3, steps=120)
    fast = orjson_mapper(app.mapper)
    for n in notifications(app):
        # Then the relay's mapper gives the very event the application's gives
        expected, got = app.mapper.to_domain_event(n), fast.to_domain_event(n)
        assert type(got) is type(expected)
        assert vars(got) == vars(expected)
        assert {k: type(v) for k, v in vars(got).items()} == {
            k: type(v) for k, v in vars(expected).items()
        }
