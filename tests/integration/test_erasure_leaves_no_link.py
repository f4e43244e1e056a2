"""Erasure leaves no link between a case and a person (AVG art. 17, crypto-shredding), on a
real nats-server and a real event store (SQLite file, and PostgreSQL).

Signals go through the real intake (receipts, KS_SIGNALS), the relay publishes KS_EVENTS, the
projections build their views, the access log records reads; then the case is erased and
every store is searched for the person's BSNs, pseudonyms and blind name keys: every file
byte for byte (SQLite files, the JetStream store directory, logs, the audit files `ks`
writes), and every stored event, KS_EVENTS/KS_RECEIPTS/KS_DLQ message and view opened with
every key the engine still holds. Nothing may name the person, no entry derived from the
person may lead to the case, and the audit trail still verifies. Matching and exactly-once
keep working for the open cases.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from nats.aio.client import Client
from typer.testing import CliRunner

from adapters.nats.embedded import EmbeddedNatsServer
from adapters.nats.events_stream import ensure_events_stream
from adapters.nats.streams import DLQ, RECEIPTS
from domain.case_lookup import CaseLookup, lookup_id
from domain.person_index import PersonIndex, person_index_id
from domain.values import Actor, ActorRole
from entrypoints.cli import app as cli
from ks_engine import commands as c
from ks_engine.access_log import AccessAction, AccessLog, AccessOutcome, Purpose
from ks_engine.bootstrap import Engine, bootstrap
from ks_engine.settings import Settings
from projections.event import STREAM
from tests.integration.receipts import Receipts
from tests.integration.test_erasure import publish_and_project
from tests.integration.test_signal_intake import Running, publish, signal

MOTHER, FATHER, CHILD, STRANGER = "111222333", "123456782", "100000009", "999999990"
NAMES = {"mother": "Anna Vergeetmij", "father": "Pieter Vergeetmij"}
COORDINATOR = Actor(organisation="gemeente-kerkrade", role=ActorRole.COORDINATOR, user_ref="c-9")
KERKRADE = "GM0928"


def _household_signal(event_id: str) -> dict[str, Any]:
    doc = signal(MOTHER, event_id)
    doc["data"]["person"] = {"bsn": MOTHER, "name": NAMES["mother"], "birth_date": "1995-03-04"}
    doc["data"]["household"] = {
        "co_parent": {"bsn": FATHER, "name": NAMES["father"], "birth_date": "1993-01-02"},
        "children": [{"person": {"bsn": CHILD, "birth_date": "2024-05-01"}}],
    }
    return doc


def _secrets(engine: Engine) -> dict[str, str]:
    """What would tie a store to the family: BSNs, pseudonyms, blind name keys, names."""
    found = {f"bsn {b}": b for b in (MOTHER, FATHER, CHILD)}
    found |= {f"pseudonym of {b}": engine.pseudonymise(b) for b in (MOTHER, FATHER, CHILD)}
    index = engine.referrals.name_index
    assert index is not None
    for who, born in (("mother", "1995-03-04"), ("father", "1993-01-02")):
        for n, key in enumerate(index.keys(NAMES[who], date.fromisoformat(born))):
            found[f"name key {n} of {who}"] = key
        found[f"name of {who}"] = NAMES[who]
    return found


def _settings(base: Settings) -> Settings:
    return base.model_copy(update={"intake_retry_delay_seconds": 0.1})


def _decoded_events(engine: Engine) -> list[tuple[UUID, str]]:
    """Every stored event, opened with the store's cipher: its aggregate id and its body."""
    app, out, start = engine.referrals, [], 1
    while True:
        batch = app.recorder.select_notifications(start=start, limit=500)
        for n in batch:
            event = app.mapper.to_domain_event(n)
            out.append((event.originator_id, json.dumps(vars(event), default=str)))
        if len(batch) < 500:
            return out
        start = batch[-1].id + 1


async def _stream_bodies(nc: Client, stream: str) -> list[str]:
    """Every message kept in a stream, as the server hands it out (decrypted)."""
    js = nc.jetstream()
    state = (await js.stream_info(stream)).state
    bodies = []
    for seq in range(state.first_seq, state.last_seq + 1):
        try:
            m = await js.get_msg(stream, seq=seq)
        except Exception:
            continue
        bodies.append(m.subject + " " + (m.data or b"").decode("utf-8", "replace"))
    # A gap is a deleted message; every message the stream still keeps must have been read
    assert len(bodies) == state.messages, f"{stream}: {len(bodies)} of {state.messages} read"
    return bodies


async def test_erasure_leaves_no_link_between_the_case_and_the_person(
    tmp_path: Path,
    durable_settings: Settings,
    nats_server: EmbeddedNatsServer,
    nc: Client,
    receipts: Receipts,
) -> None:
    settings = _settings(durable_settings)
    engine = bootstrap(settings, configure_logs=False)
    js = nc.jetstream()
    await ensure_events_stream(js)
    try:
        # Given a household's case (mother, father, born child, with names) built over NATS,
        # the father's own later signal joining it, and a stranger's case beside it
        async with Running(engine, nats_server.url):
            await publish(js, _household_signal("h-1"))
            await publish(js, signal(FATHER, "h-2"))
            await publish(js, signal(STRANGER, "s-1"))
            got = await receipts.wait_for(3)
        by_id = {r["signal_id"]: r for r in got}
        case_id = UUID(by_id["h-1"]["case_id"])
        assert by_id["h-2"]["case_id"] == str(case_id)
        stranger = UUID(by_id["s-1"]["case_id"])
        app = engine.referrals
        # And a coordinator's work on it, each read in the access log as the API records it
        ctx = c.Context(actor=COORDINATOR, causation_id="t")
        app.request_consent(c.RequestConsent(case_id=case_id), ctx)
        log = AccessLog(app, app.clock)
        case = app.get_case(case_id)
        log.record(
            action=AccessAction.READ_PERSONAL_DATA,
            outcome=AccessOutcome.ALLOWED,
            principal_id="demo-coordinator-kerkrade",
            role="coordinator",
            organisation="gemeente-kerkrade",
            purpose=Purpose.FAMILY_CONTACT,
            source_address="127.0.0.1",
            request_id="r-1",
            case_id=case_id,
            person_pseudonym=case.person_pseudonym,
            municipality=KERKRADE,
            object="GET /cases/{case_id}/personal",
            status=200,
        )
        assert app.search_cases([KERKRADE], pseudonym=engine.pseudonymise(CHILD)) == [case]
        app.close_case(c.Close(case_id=case_id, outcome="no_longer_needed"), ctx)  # type: ignore[arg-type]
        await publish_and_project(engine, js)

        # When the case is erased, then published and projected again
        app.erase_personal_data(case_id, ctx)
        await publish_and_project(engine, js)
        secrets = _secrets(engine)

        # Then no stored event, opened with the store's cipher, names the person
        decoded = _decoded_events(engine)
        assert {case_id, stranger} <= {originator for originator, _ in decoded}
        for originator, body in decoded:
            for what, secret in secrets.items():
                assert secret not in body, f"{what} in a stored event of {originator}"
        # And nothing derived from the person (their matching-index entries, name lookups)
        # leads to the case, nor can any link in the case's events be opened
        people = [engine.pseudonymise(b) for b in (MOTHER, FATHER, CHILD)]
        indexes = [app._find(PersonIndex, person_index_id(KERKRADE, p), {}) for p in people]
        name_keys = [v for k, v in secrets.items() if k.startswith("name key")]
        lookups = [app._find(CaseLookup, lookup_id("name", KERKRADE, k), {}) for k in name_keys]
        entries = [e for e in (*indexes, *lookups) if e is not None]
        assert len(entries) == 3 + len(name_keys), "every entry derived from the person is stored"
        derived = {e.id for e in entries}
        for originator, body in decoded:
            if originator in derived:
                assert str(case_id) not in body, f"entry {originator} names the case in clear"
        for entry in entries:
            assert case_id not in app.refs.cases(entry.case_ids)
            assert app.refs.case_of(getattr(entry, "last_closed_case_id", None)) != case_id
        erased = app.get_case(case_id)
        assert app.member_pseudonyms(erased) == []
        assert all(app.links.unseal(p) is None for p in erased.member_pseudonyms)
        for b in (MOTHER, FATHER, CHILD):
            assert app.search_cases([KERKRADE], pseudonym=engine.pseudonymise(b)) == []
        # And no message of KS_EVENTS, KS_RECEIPTS or KS_DLQ (opened by the server) names them
        for stream in (STREAM, RECEIPTS, DLQ):
            bodies = await _stream_bodies(nc, stream)
            assert bodies or stream == DLQ, f"no message of {stream} was read"
            for body in bodies:
                for what, secret in secrets.items():
                    assert secret not in body, f"{what} in a message of {stream}"
        # And no file, byte for byte: SQLite files, the JetStream store, logs, audit files
        env = {"KS_DATA_DIR": str(settings.data_dir), "KS_STORE": settings.store}
        if settings.store == "postgres":
            password = settings.pg_password.get_secret_value() if settings.pg_password else ""
            env |= {
                "KS_PG_HOST": settings.pg_host,
                "KS_PG_PORT": str(settings.pg_port),
                "KS_PG_DBNAME": settings.pg_dbname,
                "KS_PG_USER": settings.pg_user,
                "KS_PG_PASSWORD": password,
            }
        backup = tmp_path / "checkpoints.jsonl"
        exported = CliRunner().invoke(
            cli, ["audit", "checkpoints", "export", "--out", str(backup)], env=env
        )
        assert exported.exit_code == 0, exported.output
        files = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert any(p.suffix == ".blk" for p in files), "the JetStream store was searched"
        if settings.store == "sqlite":
            assert any(p.name == "events.sqlite" for p in files)
        for path in files:
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                # nats-server writes a consumer's state to o.dat.tmp and renames it to o.dat
                # (which is searched): only such a temporary file may vanish meanwhile
                assert path.suffix == ".tmp", f"{path.relative_to(tmp_path)} vanished"
                continue
            for what, secret in secrets.items():
                assert secret.encode() not in raw, f"{what} in {path.relative_to(tmp_path)}"
        # And the audit trail still verifies (exit 3: intact; no checkpoint kept outside yet)
        verified = CliRunner().invoke(cli, ["audit", "verify", "--grace", "0"], env=env)
        assert verified.exit_code in (0, 3), verified.output
        assert "Audit trail intact" in verified.output

        # And matching and exactly-once keep working: the stranger's next signal joins their
        # open case, a repeated signal has one effect, a new signal about the mother opens a
        # new case
        async with Running(engine, nats_server.url):
            await publish(js, signal(STRANGER, "s-2"))
            await publish(js, signal(STRANGER, "s-2"), msg_id="again-s-2")
            await publish(js, signal(MOTHER, "h-3"))
            more = await receipts.wait_for(6)
        later = {r["signal_id"]: r for r in more[3:]}
        assert later["s-2"]["case_id"] == str(stranger)
        assert later["s-2"]["matched_existing"] is True
        assert [r["signal_id"] for r in more[3:]].count("s-2") == 2
        assert len(app.get_case(stranger).signals) == 2
        assert later["h-3"]["case_id"] not in (str(case_id), str(stranger))
        assert later["h-3"]["matched_existing"] is False
    finally:
        engine.close()
