"""Replay: a case as it was at any moment, rebuilt from its stored events alone.

Snapshots and caches are not used: the events are read from the store and applied in order,
stopping at the first event that occurred after the requested moment. ``replay_all`` rebuilds
every case and compares it with the state the application serves (snapshots, cache) and,
when a case view is given, with the projections' view of the case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application, project_aggregate
from eventsourcing.utils import get_topic

from domain.errors import CaseNotFoundError
from domain.referral import Referral
from ks_engine.audit.summary import is_case_event, summarise
from ks_engine.keystore import PersonalDataVault

Json = dict[str, Any]


@dataclass(frozen=True)
class CaseReplay:
    """A case rebuilt from its history up to a moment, and the timeline that led there."""

    case: Referral
    timeline: list[Json]  # pseudonymised summaries of the events applied, oldest first
    as_of: datetime | None
    later_events: int  # events of the case after the moment


def _occurred(event: Any) -> datetime:
    at: datetime = event.occurred_at
    return at


def replay_case(app: Application[UUID], case_id: UUID, as_of: datetime | None = None) -> CaseReplay:
    """The case as it was at ``as_of`` (now when None); CaseNotFoundError if it did not exist."""
    events = list(app.events.get(case_id))
    if not events or not isinstance(events[0], Referral.Signalled):
        raise CaseNotFoundError(f"there is no case {case_id}")
    applied = list(events)
    if as_of is not None:  # stop at the first event after the moment (versions are in order)
        later = next((i for i, e in enumerate(events) if _occurred(e) > as_of), len(events))
        applied = events[:later]
    if not applied:
        raise CaseNotFoundError(
            f"case {case_id} did not exist yet at {as_of.isoformat() if as_of else ''}; it was "
            f"opened at {_occurred(events[0]).isoformat()}"
        )
    case = project_aggregate(None, applied)
    assert isinstance(case, Referral)
    municipality = case.municipality
    return CaseReplay(
        case=case,
        timeline=[summarise(e, municipality) for e in applied],
        as_of=as_of,
        later_events=len(events) - len(applied),
    )


def case_ids(app: Application[UUID]) -> Iterator[UUID]:
    """Every case's id, in the order the cases were opened."""
    topic = get_topic(Referral.Signalled)
    start = 1
    while batch := app.recorder.select_notifications(start=start, limit=500, topics=[topic]):
        for n in batch:
            if is_case_event(n.topic):
                yield UUID(str(n.originator_id))
        start = batch[-1].id + 1


class CaseViewSource(Protocol):
    """The projections' case view, as a plain document per case (None: not projected)."""

    def __call__(self, case_id: UUID) -> Mapping[str, Any] | None: ...


def _comparable(case: Referral) -> Json:
    """The parts of a case that both the aggregate and the case view hold."""
    consent = case.consent
    return {
        "municipality": case.municipality,
        "state": case.state.value,
        "risk_factors": case.risk_factors,
        "urgency": case.urgency,
        "consent": None if consent is None else (consent["status"], sorted(consent["scope"])),
        "discussions": len(case.discussions),
        "support": len(case.support),
        "escalations": len(case.escalations),
        "outcome": case.outcome["code"] if case.outcome else None,
    }


def _comparable_view(view: Mapping[str, Any]) -> Json:
    consent = view.get("consent")
    return {
        "municipality": view.get("municipality"),
        "state": view.get("state"),
        "risk_factors": list(view.get("risk_factors") or []),
        "urgency": view.get("urgency"),
        "consent": None if not consent else (consent["status"], sorted(consent["scope"])),
        "discussions": len(view.get("discussions") or []),
        "support": len(view.get("support") or []),
        "escalations": len(view.get("escalations") or []),
        "outcome": view.get("outcome"),
    }


def differences(expected: Json, found: Json, source: str) -> list[str]:
    """Each field where ``found`` (from ``source``) differs from the rebuilt case."""
    return [
        f"{key}: the history gives {expected[key]!r}, the {source} has {found.get(key)!r}"
        for key in expected
        if expected[key] != found.get(key)
    ]


@dataclass(frozen=True)
class CaseDifference:
    """A case whose rebuilt state differs from what is served."""

    case_id: UUID
    differences: list[str]


def replay_all(
    app: Application[UUID],
    *,
    current: Callable[[UUID], Referral],
    case_view: CaseViewSource | None = None,
) -> tuple[int, list[CaseDifference]]:
    """Rebuild every case; compare with ``current`` (the served aggregate) and the case view.

    Returns how many cases were rebuilt and the cases that differ.
    """
    rebuilt, found = 0, []
    for case_id in case_ids(app):
        case = replay_case(app, case_id).case
        rebuilt += 1
        expected = _comparable(case)
        served = current(case_id)
        diffs = differences(expected, _comparable(served), "application's state")
        if served.version != case.version:
            diffs.append(f"version: the history gives {case.version}, served {served.version}")
        if case_view is not None:
            view = case_view(case_id)
            if view is None:
                diffs.append("the case view has no document for this case")
            else:
                diffs += differences(expected, _comparable_view(view), "case view")
        if diffs:
            found.append(CaseDifference(case_id, diffs))
    return rebuilt, found


def personal_fields(vault: PersonalDataVault, case: Referral) -> dict[str, str]:
    """Which personal details the case held, never their values: each field 'present' while
    its data key exists; once erased (or the key destroyed) only the erasure is shown."""
    erased = case.personal_erased
    if erased is not None:
        return {"personal details": f"erased on {erased['at'].date().isoformat()}"}
    fields: dict[str, str] = {}
    for entry in case.sealed_personal:
        opened = vault.open(entry)
        if opened is None:
            return {"personal details": "erased (their data key was destroyed)"}
        fields.update(dict.fromkeys(opened.model_dump(exclude_none=True), "present"))
    return fields
