"""What fault tests publish and what they count afterwards: receipts, the event store, views.

Counts come from three independent places: the receipts in KS_RECEIPTS (what partners were
told), the event store's notification log (what happened), and the work queue (what
coordinators see). A signal lost or applied twice shows in at least one of them.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from adapters.persistence.views import open_views
from domain.referral import Referral
from ks_engine.bootstrap import bootstrap
from ks_engine.demo import demo_bsn
from ks_engine.settings import Settings
from ks_engine.signal_contract import example_signal
from projections.read_models import ReadModels
from tests.nats_cluster import Credentials, once_elected

MUNICIPALITY = "GM0928"
PARTNER = "verloskunde-heuvelland"  # a partner user of deploy/nats/accounts.conf
SOURCE = f"https://{PARTNER}.example.nl"
GUARD = 240.0  # seconds: a guard against hanging, never a speed requirement


@dataclass(frozen=True)
class Plan:
    """The signals a test publishes: (signal id, BSN) in publishing order."""

    signals: list[tuple[str, str]]

    @classmethod
    def of(cls, persons: int, signals: int, *, prefix: str, seed: int) -> Plan:
        """``signals`` signals about ``persons`` people, each person at least once."""
        rng = random.Random(seed)
        bsns: list[str] = []
        seen: set[str] = set()
        while len(bsns) < persons:
            bsn = demo_bsn(rng)
            if bsn not in seen:
                seen.add(bsn)
                bsns.append(bsn)
        about = bsns + [rng.choice(bsns) for _ in range(signals - persons)]
        return cls([(f"{prefix}-{n}", bsn) for n, bsn in enumerate(about)])

    @classmethod
    def in_pairs(cls, persons: int, block: int, *, prefix: str, seed: int) -> Plan:
        """Two first signals about each person, ``block`` people apart: the first signals of a
        block of people, then their second signals, block after block."""
        one = cls.of(persons, persons, prefix=prefix, seed=seed)
        bsns = [bsn for _, bsn in one.signals]
        about: list[str] = []
        for start in range(0, persons, block):
            about += bsns[start : start + block] * 2
        return cls([(f"{prefix}-{n}", bsn) for n, bsn in enumerate(about)])

    @property
    def keys(self) -> set[str]:
        return {f"{SOURCE}#{signal_id}" for signal_id, _ in self.signals}

    def per_person(self) -> Counter[str]:
        return Counter(bsn for _, bsn in self.signals)


async def partner_connection(credentials: Credentials) -> Client:
    return await nats.connect(**credentials.connect_options())


async def publish(nc: Client, plan: Plan, *, window: int = 50) -> None:
    """Publish as a partner; a publish not acknowledged is retried with the same message id
    (the stream's duplicate window keeps one copy), as a partner's outbox would."""
    js = nc.jetstream()

    async def one(signal_id: str, bsn: str) -> None:
        doc = example_signal(bsn, municipality=MUNICIPALITY, source=SOURCE, event_id=signal_id)
        payload = json.dumps(doc).encode()
        await once_elected(
            lambda: js.publish(
                f"ks.signals.{MUNICIPALITY}",
                payload,
                timeout=2,
                headers={"Nats-Msg-Id": f"{SOURCE}#{signal_id}"},
            ),
            guard=GUARD,
        )

    for start in range(0, len(plan.signals), window):
        await asyncio.gather(*(one(i, b) for i, b in plan.signals[start : start + window]))


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until ``check`` holds; fail naming ``what`` when the guard runs out."""
    deadline = time.monotonic() + GUARD
    while not await check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.25)


async def signals_left(js: JetStreamContext) -> int:
    """Signals KS_SIGNALS still holds (work-queue retention: processed ones are removed)."""
    try:
        return int((await js.stream_info("KS_SIGNALS")).state.messages)
    except nats.errors.Error:
        return -1  # the stream's leader is being elected: not known yet


async def read_stream(js: JetStreamContext, stream: str, subjects: str) -> list[Msg]:
    """Every message ``stream`` keeps (on ``subjects``), read from its start.

    While a cluster node restarts, JetStream can answer "unavailable" or not at all for a few
    seconds as its leaders are elected; the whole read is then tried again from the start.
    """
    deadline = time.monotonic() + GUARD
    return await once_elected(
        lambda: _read_stream_once(js, stream, subjects, deadline), guard=GUARD
    )


async def _read_stream_once(
    js: JetStreamContext, stream: str, subjects: str, deadline: float
) -> list[Msg]:
    kept = (await js.stream_info(stream)).state.messages
    sub = await js.pull_subscribe(
        subjects, durable=None, stream=stream, config=ConsumerConfig(ack_policy=AckPolicy.NONE)
    )
    got: list[Msg] = []
    try:
        while len(got) < kept and time.monotonic() < deadline:
            try:
                got += await sub.fetch(min(500, kept - len(got)), timeout=2)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
    finally:
        await sub.unsubscribe()
    assert len(got) == kept, f"read {len(got)} of the {kept} messages {stream} keeps"
    return got


async def receipts(js: JetStreamContext) -> list[dict[str, Any]]:
    """Every receipt KS_RECEIPTS keeps (the last one per signal reference)."""
    return [json.loads(m.data) for m in await read_stream(js, "KS_RECEIPTS", "ks.receipts.>")]


@dataclass(frozen=True)
class StoreSummary:
    """What the event store holds: per case, its person's pseudonym and its signal keys."""

    person_of: dict[str, str]
    signals_of: dict[str, list[str]]

    @property
    def all_keys(self) -> list[str]:
        return [key for keys in self.signals_of.values() for key in keys]

    def cases_per_person(self) -> Counter[str]:
        return Counter(self.person_of.values())


def store_summary(settings: Settings) -> StoreSummary:
    """Read every Referral event in the notification log."""
    engine = bootstrap(settings, configure_logs=False)
    try:
        app = engine.referrals
        person_of: dict[str, str] = {}
        signals_of: dict[str, list[str]] = {}
        topic = f"{Referral.__module__}:{Referral.__qualname__}."
        start = 1
        while True:
            section = app.recorder.select_notifications(start, limit=1000)
            if not section:
                break
            for n in section:
                if not n.topic.startswith(topic):
                    continue
                event = app.mapper.to_domain_event(n)
                case_id = str(event.originator_id)
                if isinstance(event, Referral.Signalled):
                    sealed = event.person_pseudonym  # under the case's link key: opened
                    person_of[case_id] = app.links.unseal(sealed) or sealed
                    signals_of.setdefault(case_id, []).append(event.signal["signal_key"])
                elif type(event).__name__ == "SignalAdded":
                    signals_of.setdefault(case_id, []).append(vars(event)["signal"]["signal_key"])
            start = section[-1].id + 1
        return StoreSummary(person_of, signals_of)
    finally:
        engine.close()


def pseudonyms(settings: Settings, bsns: set[str]) -> dict[str, str]:
    """Each BSN's pseudonym under the engine's key."""
    engine = bootstrap(settings, configure_logs=False)
    try:
        return {bsn: engine.pseudonymise(bsn) for bsn in bsns}
    finally:
        engine.close()


def work_queue_counts(settings: Settings) -> dict[str, int]:
    """Signals per open case as the coordinators' work queue shows them (views on
    PostgreSQL with KS_STORE=postgres)."""
    db = open_views(settings)
    try:
        views = ReadModels(db)
        counts: dict[str, int] = {}
        cursor: str | None = None
        while True:
            page = views.work_queue.page(now=datetime.now(UTC), limit=500, cursor=cursor)
            counts.update({str(e.case_id): e.signal_count for e in page.items})
            if page.next_cursor is None:
                return counts
            cursor = page.next_cursor
    finally:
        close = getattr(db, "close", None)  # a PostgreSQL pool; SQLite opens per session
        if close is not None:
            close()


async def verify_every_signal_took_effect_once(
    js: JetStreamContext, settings: Settings, plan: Plan
) -> StoreSummary:
    """Every signal processed, with one accepted receipt, applied once to its person's one case."""
    await eventually(lambda: _none_left(js), "KS_SIGNALS emptied by the intake")
    got = await receipts(js)
    assert [r for r in got if r["status"] != "accepted"] == []
    accepted = Counter(r["signal_id"] for r in got)
    assert len(accepted) == len(plan.signals), "a signal got no receipt"
    assert set(accepted) == {signal_id for signal_id, _ in plan.signals}
    assert max(accepted.values()) == 1, "a signal got two receipts"

    summary = await asyncio.to_thread(store_summary, settings)
    keys = summary.all_keys
    assert len(keys) == len(set(keys)), "a signal was applied twice"
    assert set(keys) == plan.keys, "a signal was lost"
    per_person = plan.per_person()
    names = await asyncio.to_thread(pseudonyms, settings, set(per_person))
    assert summary.cases_per_person() == Counter({names[bsn]: 1 for bsn in per_person})
    count_of = {names[bsn]: n for bsn, n in per_person.items()}
    for case_id, case_keys in summary.signals_of.items():
        assert len(case_keys) == count_of[summary.person_of[case_id]]
    case_of_key = {k: case for case, ks in summary.signals_of.items() for k in ks}
    assert {f"{SOURCE}#{r['signal_id']}": r["case_id"] for r in got} == case_of_key
    return summary


async def _none_left(js: JetStreamContext) -> bool:
    return await signals_left(js) == 0


async def verify_views_converge(settings: Settings, summary: StoreSummary) -> None:
    """The work queue shows every case of the event store with its number of signals."""
    expected = {case: len(keys) for case, keys in summary.signals_of.items()}

    async def converged() -> bool:
        return await asyncio.to_thread(work_queue_counts, settings) == expected

    await eventually(converged, "the work queue equals the event store")
