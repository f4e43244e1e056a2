"""No BSN outside the person block, and well-formed but wrong signals refused, on the whole stack.

A real nats-server, the API served by uvicorn, the intake, relay and projectors on SQLite files.
Partners put citizen numbers where they do not belong (references, notes, their organisation's
name), coordinators type them into free-text fields; afterwards the stores on disk (the SQLite
files of the data directory, the streams KS_EVENTS and KS_RECEIPTS) are searched byte by byte.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import nats
import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from adapters.nats.embedded import EmbeddedNatsServer
from ks_engine.signal_contract import example_signal
from tests.integration.test_http_signals import MIDWIFE, Stack
from tests.integration.test_http_signals import stack as _stack

whole_stack = _stack  # the API, intake, relay and projectors of the HTTP signal tests


@pytest.fixture
def stack(whole_stack: Stack) -> Stack:
    return whole_stack


PERSON = "111222333"  # the person block: the only place a BSN may be sent
# Citizen numbers put where they do not belong, one per place, to know which leaked where.
IN_ID, IN_SOURCE, IN_SUBJECT, IN_NOTE, GROUPED_NOTE, IN_REPORTER = (
    "123456782",
    "100000009",
    "100000010",
    "100000022",
    "100000034",
    "100000046",
)
IN_SCOPE, IN_JUSTIFICATION, IN_REASON, IN_LEAD, IN_NATS_SUBJECT = (
    "100000058",
    "100000071",
    "100000083",
    "100000095",
    "100000101",
)
MISPLACED = [
    IN_ID,
    IN_SOURCE,
    IN_SUBJECT,
    IN_NOTE,
    GROUPED_NOTE,
    IN_REPORTER,
    IN_SCOPE,
    IN_JUSTIFICATION,
    IN_REASON,
    IN_LEAD,
    IN_NATS_SUBJECT,
]


def _signal(**data: Any) -> dict[str, Any]:
    doc = example_signal(PERSON, source=MIDWIFE, event_id=str(uuid4()))
    doc["data"].update(data)
    return doc


def _grouped(bsn: str) -> str:
    return f"{bsn[:4]}.{bsn[4:6]}.{bsn[6:]}"


async def _post(stack: Stack, doc: dict[str, Any]) -> Any:
    return await stack.http.post("/signals", json=doc, headers=stack.auth("demo-partner-midwife"))


def _found_in(root: Path, needles: list[str], *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Which needle is in which file under ``root`` (bytes, as written to disk)."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and not any(part in skip for part in path.parts):
            content = path.read_bytes()
            for needle in needles:
                if needle.encode() in content:
                    found[needle] = str(path.relative_to(root))
    return found


async def test_http_partners_get_a_reason_for_each_wrong_signal(stack: Stack) -> None:
    today = stack.engine.referrals.clock().date()
    wrong = [
        (_signal() | {"id": f"dossier-{IN_ID}"}, "bsn_as_reference", "body.id"),
        (_signal(municipality="GM0917"), "municipality_not_served", "body.data.municipality"),
        (
            _signal(person={"bsn": PERSON, "birth_date": (today + timedelta(1)).isoformat()}),
            "implausible_date",
            "body.data.person.birth_date",
        ),
        (
            _signal(phase={"phase": "pregnancy", "date": (today + timedelta(330)).isoformat()}),
            "implausible_date",
            "body.data.phase.date",
        ),
        (
            _signal(phase={"phase": "postnatal", "date": (today + timedelta(2)).isoformat()}),
            "implausible_date",
            "body.data.phase.date",
        ),
    ]
    for doc, code, field in wrong:
        answer = await _post(stack, doc)
        assert answer.status_code == 422, answer.text
        problem = answer.json()
        assert problem["code"] == code
        assert field in [e["field"] for e in problem["errors"]]
        assert IN_ID not in answer.text


async def test_no_misplaced_bsn_reaches_any_store(
    stack: Stack, nats_server: EmbeddedNatsServer, tmp_path: Path
) -> None:
    # 1. Over HTTP, a signal with a BSN in its note and its reporter's organisation is taken,
    #    with the numbers redacted; one with a BSN as its id is refused.
    doc = _signal(
        note=f"Moeder (BSN{IN_NOTE}), partner {_grouped(GROUPED_NOTE)}: schulden.",
        reporter={"organisation": f"Verloskunde #{IN_REPORTER}.", "role": "midwife"},
    )
    posted = await _post(stack, doc)
    assert posted.status_code == 202, posted.text
    case_id = (await stack.receipt(posted.headers["Location"]))["case_id"]
    assert (await _post(stack, _signal() | {"id": IN_ID})).status_code == 422

    # 2. Over NATS, BSNs in source, subject attribute and NATS subject are refused with receipts.
    nc = await nats.connect(nats_server.url)
    receipts: list[Msg] = []

    async def on_receipt(msg: Msg) -> None:
        receipts.append(msg)

    await nc.subscribe("ks.receipts.>", cb=on_receipt)
    js = nc.jetstream()
    sent = [
        ("ks.signals.GM0928", _signal() | {"source": f"https://praktijk.nl/{IN_SOURCE}"}),
        ("ks.signals.GM0928", _signal() | {"subject": f"client-{IN_SUBJECT}"}),
        (f"ks.signals.{IN_NATS_SUBJECT}", _signal()),
        ("ks.signals.GM0917", _signal(municipality="GM0917")),
    ]
    for subject, body in sent:
        await js.publish(
            subject,
            json.dumps(body).encode(),
            headers={"Nats-Msg-Id": f"{MIDWIFE}#{body['id']}"},
        )
    for _ in range(200):
        if len(receipts) >= len(sent):
            break
        await asyncio.sleep(0.05)
    decided = {json.loads(m.data)["error_code"]: m for m in receipts}
    assert set(decided) == {
        "bsn_as_reference",
        "municipality_mismatch",
        "municipality_not_served",
    }, [json.loads(m.data) for m in receipts]
    assert sum(json.loads(m.data)["error_code"] == "bsn_as_reference" for m in receipts) == 2
    assert any(m.subject.startswith("ks.receipts.unknown.") for m in receipts)
    for m in receipts:
        assert not any(bsn in m.subject or bsn.encode() in m.data for bsn in MISPLACED)
    await nc.close()

    # 3. The coordinator types BSNs into every free-text field of the commands.
    kerkrade = stack.auth("demo-coordinator-kerkrade")
    today = stack.engine.referrals.clock().date().isoformat()
    partner = f"schuldhulp-{IN_SCOPE}"
    steps: list[tuple[str, dict[str, Any] | None]] = [
        ("consent-request", None),
        ("consent", {"decision": "given", "scope": [MIDWIFE, "schuldhulp-parkstad", partner]}),
        (
            "discussion",
            {
                "on": today,
                "participants": [partner],
                "scores": dict.fromkeys(
                    (
                        "bodily_functions",
                        "mental_wellbeing",
                        "meaningfulness",
                        "quality_of_life",
                        "participation",
                        "daily_functioning",
                    ),
                    5,
                ),
                "needs": ["financial"],
            },
        ),
        (
            "support-match",
            {
                "offer_ids": ["schuldhulpverlening"],
                "lead_professional": f"JGZ ({IN_LEAD})",
                "planned_start": today,
            },
        ),
        (
            "escalation",
            {
                "meldcode_step": "decide",
                "legal_basis": "Wmo 2015 art. 5.2.6",
                "justification": f"Acute onveiligheid; zie dossier BSN:{IN_JUSTIFICATION}.",
                "organisations": ["veilig-thuis-zuid-limburg"],
                "purpose": "discussion",
            },
        ),
        ("closure", {"outcome": "referred_elsewhere", "reason": f"#{IN_REASON}."}),
    ]
    version = 1
    for step, body in steps:
        done = await stack.http.post(
            f"/cases/{case_id}/{step}", json=body, headers=kerkrade | {"If-Match": f'"{version}"'}
        )
        assert done.status_code == 200, (step, done.text)
        version += 1
    # The views have caught up with the last command.
    view = await stack.http.get(
        f"/cases/{case_id}", params={"after_position": done.json()["position"]}, headers=kerkrade
    )
    assert view.json()["state"] == "closed"
    assert "X-Read-Models-Behind" not in view.headers
    case = stack.engine.referrals.get_case(UUID(case_id))
    assert case.escalations[0]["justification"] == "Acute onveiligheid; zie dossier BSN:[BSN]."
    assert case.consent is not None
    assert "schuldhulp-[BSN]" in case.consent["scope"]
    personal = stack.engine.referrals.personal_details(UUID(case_id)).details
    assert personal is not None
    assert personal.note == "Moeder (BSN[BSN]), partner [BSN]: schulden."
    assert case.signals[0]["reporter"]["organisation"] == "Verloskunde #[BSN]."

    # 4. Nothing stored holds a misplaced number: not the SQLite files (event store, views,
    #    access log, keys) on disk, not a message of the streams of events and receipts (their
    #    store is encrypted on disk, so they are read through the server).
    data_dir = stack.engine.settings.data_dir
    assert _found_in(data_dir, MISPLACED) == {}
    assert _found_in(data_dir, [_grouped(GROUPED_NOTE)]) == {}
    nc = await nats.connect(nats_server.url)
    stored = {name: await _messages(nc.jetstream(), name) for name in ("KS_EVENTS", "KS_RECEIPTS")}
    await nc.close()
    for name, messages in stored.items():
        leaked = [bsn for bsn in MISPLACED if any(bsn.encode() in m for m in messages)]
        assert leaked == [], name
    # The searches can find what is there: the case's id in the views and the events, the
    # partner's source in the receipts.
    assert case_id in _found_in(data_dir, [case_id])
    assert any(case_id.encode() in m for m in stored["KS_EVENTS"])
    assert any(MIDWIFE.encode() in m for m in stored["KS_RECEIPTS"])


async def _messages(js: JetStreamContext, stream: str) -> list[bytes]:
    """Every message of ``stream``: subject, headers and body as bytes."""
    state = (await js.stream_info(stream)).state
    out = []
    for seq in range(state.first_seq, state.last_seq + 1):
        msg = await js.get_msg(stream, seq)
        out.append(f"{msg.subject} {msg.headers}".encode() + b" " + (msg.data or b""))
    return out
