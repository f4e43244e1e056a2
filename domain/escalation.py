"""What an escalation under the Meldcode lifts (*opschaling*): the consent check, only for the
organisations it names and only for its purpose, from its day on.

Promise: an escalation never lifts the consent check in general. A discussion or a support
match without the family's consent goes ahead only for organisations an escalation names, for
an action its purpose covers, dated on or after the day of that escalation. Escalations from
before this rule (their events name no organisations) lift nothing for new steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from domain.lifecycle import Action


class EscalationPurpose(StrEnum):
    """Why the escalation lifts the consent check: which steps it allows without consent."""

    DISCUSSION = "discussion"  # discuss the family's safety with the organisations named
    SUPPORT = "support"  # discuss and organise help with the organisations named


PURPOSE_LABELS: dict[EscalationPurpose, str] = {
    EscalationPurpose.DISCUSSION: "bespreking van de veiligheid in het Knooppunt",
    EscalationPurpose.SUPPORT: "bespreking en het organiseren van hulp",
}

# The steps each purpose allows without consent.
PURPOSE_ACTIONS: dict[EscalationPurpose, frozenset[Action]] = {
    EscalationPurpose.DISCUSSION: frozenset({Action.RECORD_DISCUSSION}),
    EscalationPurpose.SUPPORT: frozenset(
        {Action.RECORD_DISCUSSION, Action.MATCH_SUPPORT, Action.START_SUPPORT}
    ),
}


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _covering(
    escalations: Iterable[Mapping[str, Any]], action: Action, on: date
) -> list[Mapping[str, Any]]:
    """The escalations whose purpose covers ``action`` dated ``on``."""
    return [
        e
        for e in escalations
        if e.get("purpose") is not None
        and action in PURPOSE_ACTIONS[EscalationPurpose(e["purpose"])]
        and on >= _day(e["at"])
    ]


def lifted_for(escalations: Iterable[Mapping[str, Any]], action: Action, on: date) -> set[str]:
    """The organisations for which the case's escalations lift the consent check of ``action``
    dated ``on``."""
    return {o for e in _covering(escalations, action, on) for o in e.get("organisations") or ()}


def lifts(
    escalations: Iterable[Mapping[str, Any]], action: Action, on: date, organisations: set[str]
) -> bool:
    """Whether escalations lift the consent check of ``action`` on ``on`` for every one of
    ``organisations`` (none named, as when a coordinator records a step: one covering
    escalation suffices)."""
    covering = _covering(escalations, action, on)
    named = {o for e in covering for o in e.get("organisations") or ()}
    return bool(covering) and organisations <= named
