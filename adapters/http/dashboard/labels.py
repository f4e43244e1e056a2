"""Dutch words for what the dashboard shows: states, events, deadline steps and actions.

Vocabularies with a Dutch label in ``domain.values`` (risk factors, needs, outcomes, ...) are
shown through ``label_of``; the lifecycle's states and the events of a case's timeline are
named here, because only the dashboard displays them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum

from domain.after_match import LABELS as AFTER_MATCH_LABELS
from domain.escalation import PURPOSE_LABELS as ESCALATION_PURPOSES
from domain.lifecycle import Action, State
from domain.values import (
    ActorRole,
    Dimension,
    MeldcodeStep,
    Need,
    Outcome,
    Phase,
    ReporterRole,
    RiskFactor,
    Urgency,
)
from ks_engine.clock import AMSTERDAM

STATES: dict[str, str] = {
    State.SIGNALLED: "Gesignaleerd",
    State.CONSENT_REQUESTED: "Toestemming gevraagd",
    State.CONSENTED: "Toestemming gegeven",
    State.CONSENT_DECLINED: "Toestemming geweigerd",
    State.DISCUSSED: "Besproken",
    State.SUPPORT_MATCHED: "Ondersteuning gekoppeld",
    State.SUPPORT_STARTED: "Ondersteuning gestart",
    State.EVALUATED: "Geëvalueerd",
    State.ESCALATED: "Opgeschaald (Meldcode)",
    State.WITHDRAWN: "Toestemming ingetrokken",
    State.CLOSED: "Afgesloten",
}

EVENTS: dict[str, str] = {
    "Signalled": "Signaal ontvangen",
    "SignalAdded": "Nieuw signaal toegevoegd",
    "ConsentRequested": "Toestemming gevraagd",
    "ConsentGiven": "Toestemming gegeven",
    "ConsentDeclined": "Toestemming geweigerd",
    "ConsentWithdrawn": "Toestemming ingetrokken",
    "Discussed": "Casus besproken",
    "SupportMatched": "Ondersteuning gekoppeld",
    "Escalated": "Opgeschaald onder de Meldcode",
    "Closed": "Casus afgesloten",
    "SupportStarted": "Ondersteuning gestart",
    "Evaluated": "Ondersteuning geëvalueerd",
    "Reopened": "Heropend als vervolgcasus",
    "DeadlineSuspended": "Termijn opgeschort",
    "DeadlineResumed": "Termijn hervat",
    "DeadlineExtended": "Termijn verlengd",
    "Assigned": "Casus toegewezen",
    "Restricted": "Verwerking beperkt (AVG art. 18)",
    "RestrictionLifted": "Beperking van de verwerking opgeheven",
    "SignalRetracted": "Melding ingetrokken (AVG art. 16)",
    "PersonalDetailsCorrected": "Persoonsgegevens gecorrigeerd (AVG art. 16)",
    "TransferRequested": "Overdracht aan andere gemeente gevraagd",
    "CaseTransferred": "Casus overgedragen aan andere gemeente",
    "TransferRefused": "Overdracht geweigerd door ontvangende gemeente",
}

DEADLINE_STEPS: dict[str, str] = {
    "request_consent": "Toestemming vragen",
    "consent_answer": "Antwoord op toestemmingsvraag",
    "discussion": "Casusbespreking",
    "support": "Ondersteuning koppelen",
    "support_start": "Start van de ondersteuning",
    "evaluation": "Evaluatie",
    "closing": "Afsluiten of opnieuw bespreken",
}

ACTIONS: dict[str, str] = {
    Action.REQUEST_CONSENT: "Toestemming vragen",
    Action.GIVE_CONSENT: "Toestemming vastleggen",
    Action.DECLINE_CONSENT: "Weigering vastleggen",
    Action.WITHDRAW_CONSENT: "Intrekking van toestemming vastleggen",
    Action.RECORD_DISCUSSION: "Casusbespreking vastleggen",
    Action.MATCH_SUPPORT: "Ondersteuning koppelen",
    Action.ESCALATE: "Opschalen onder de Meldcode",
    Action.CLOSE: "Casus afsluiten",
    Action.RECORD_BIRTH: "Geboorte vastleggen",
    Action.MERGE: "Casussen van het gezin samenvoegen",
    Action.MERGE_INTO: "Opgaan in een andere casus van het gezin",
    Action.START_SUPPORT: "Start van de ondersteuning vastleggen",
    Action.RECORD_EVALUATION: "Evaluatie vastleggen",
    Action.REOPEN: "Heropenen als vervolgcasus",
    Action.SUSPEND_DEADLINE: "Termijn opschorten",
    Action.RESUME_DEADLINE: "Termijn hervatten",
    Action.EXTEND_DEADLINE: "Termijn verlengen",
    Action.RETRACT_SIGNAL: "Melding intrekken",
    Action.CORRECT_PERSONAL_DETAILS: "Persoonsgegevens corrigeren",
    Action.REQUEST_TRANSFER: "Overdracht aan andere gemeente vragen",
    Action.ACCEPT_TRANSFER: "Overdracht accepteren",
    Action.REFUSE_TRANSFER: "Overdracht weigeren",
    Action.ASSIGN: "Casus toewijzen",
}

# What a coordinator reads after a command was recorded (the key travels in the redirect).
DONE: dict[str, str] = {
    "consent-request": "Vastgelegd: de familie is om toestemming gevraagd.",
    "consent": "Vastgelegd: het antwoord van de familie op de toestemmingsvraag.",
    "consent-withdrawal": "Vastgelegd: de familie heeft de toestemming ingetrokken.",
    "discussion": "Vastgelegd: de casusbespreking.",
    "support-match": "Vastgelegd: de gekoppelde ondersteuning.",
    "escalation": "Vastgelegd: de opschaling onder de Meldcode.",
    "closure": "Vastgelegd: de casus is afgesloten.",
    "birth": "Vastgelegd: de geboorte van het kind.",
    "merge": "Vastgelegd: de casussen van het gezin zijn samengevoegd.",
    "support-start": "Vastgelegd: de ondersteuning is gestart.",
    "evaluation": "Vastgelegd: de evaluatie.",
    "reopening": "Heropend: dit is de vervolgcasus.",
    "suspension": "Vastgelegd: de termijn is opgeschort.",
    "resumption": "Vastgelegd: de termijn loopt weer.",
    "extension": "Vastgelegd: de termijn is verlengd.",
    "assignment": "Vastgelegd: de casus is toegewezen.",
    "notitie": "Vastgelegd: de notitie is versleuteld bewaard.",
    "transfer": "Vastgelegd: de overdracht is gevraagd; de ontvangende gemeente beslist.",
    "transfer-acceptance": "Overgenomen: deze casus loopt nu in uw gemeente.",
    "transfer-refusal": "Vastgelegd: de overdracht is geweigerd; de casus blijft waar hij was.",
    "retraction": "Vastgelegd: de melding is ingetrokken.",
    "correction": "Vastgelegd: de persoonsgegevens zijn gecorrigeerd; de oude versie is gewist.",
    "restriction": "Vastgelegd: de verwerking is beperkt.",
    "restriction-lifting": "Vastgelegd: de beperking is opgeheven.",
}

CONSENT_STATUS: dict[str, str] = {
    "requested": "gevraagd",
    "given": "gegeven",
    "declined": "geweigerd",
    "withdrawn": "ingetrokken",
}

MEASURES: dict[str, str] = {
    "signals_by_role": "Signalen per melder",
    "consent": "Toestemming",
    "offers_matched": "Gekoppelde ondersteuning per aanbod",
    "days_to_support": "Dagen van signaal tot ondersteuning",
    "days_to_support_start": "Dagen van signaal tot start van de ondersteuning",
    "evaluation_by_offer": "Evaluaties per aanbod (behoeften behaald of niet)",
    "evaluation_outcome_by_offer": "Evaluaties per aanbod, naar uitkomst",
    "cases_opened": "Nieuwe casussen",
    "families_by_reporter": "Gezinnen gesignaleerd, per melder",
    "families_by_phase": "Gezinnen gesignaleerd, per fase",
    "cases_closed": "Afgesloten casussen, per resultaat",
    "days_to_consent": "Dagen van signaal tot toestemming",
    "days_to_discussion": "Dagen van signaal tot casusbespreking",
}
PRINCIPAL_ROLES: dict[str, str] = {
    "coordinator": "coördinator",
    "auditor": "auditor",
    "partner": "ketenpartner",
    "admin": "beheerder",
    "programme_office": "programmabureau",
    "privacy_officer": "functionaris gegevensbescherming",
}

_VOCABULARIES: tuple[type[StrEnum], ...] = (
    RiskFactor,
    ReporterRole,
    Need,
    Phase,
    Urgency,
    Dimension,
    Outcome,
    MeldcodeStep,
    ActorRole,
)


def label_of(vocabulary: str, code: str) -> str:
    """The Dutch label of ``code`` in the named vocabulary; the code itself if unknown."""
    tables: dict[str, dict[str, str]] = {
        "state": STATES,
        "event": EVENTS,
        "deadline": DEADLINE_STEPS,
        "consent": CONSENT_STATUS,
        "measure": MEASURES,
        "principal_role": PRINCIPAL_ROLES,
        "need_result": AFTER_MATCH_LABELS,
        "next_step": AFTER_MATCH_LABELS,
        "escalation_purpose": {p.value: text for p, text in ESCALATION_PURPOSES.items()},
    }
    if vocabulary in tables:
        return tables[vocabulary].get(code, code)
    for enum in _VOCABULARIES:
        if enum.__name__.lower() == vocabulary.replace("_", ""):
            try:
                label: str = enum(code).label  # type: ignore[attr-defined]
            except ValueError:
                return code
            return label
    return code


def names_of(ids: Iterable[str] | None, known: Mapping[str, str]) -> str:
    """Organisations by name, each once (one may be known by several ids), in their order."""
    return ", ".join(dict.fromkeys(known.get(i, i) for i in ids or ()))


def day(value: date | datetime | str | None) -> str:
    """A date as Dutch readers write it (23-11-2026); local date for a moment."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(AMSTERDAM).date()
    return value.strftime("%d-%m-%Y")


def moment(value: datetime | str | None) -> str:
    """A moment in Dutch local time (23-11-2026 14:05)."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")
