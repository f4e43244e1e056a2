"""The contract partners code against: a signal as a CloudEvents 1.0 event (structured JSON).

Shared by the NATS intake and the HTTP API, so both take exactly the same input and refuse
it with the same error codes and reasons. Reasons name the field and what was wrong; they
never repeat the value (which may be a BSN).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.household import (
    ConsentGiver,
    HouseholdMember,
    MemberDetails,
    MemberRole,
    ReferralConsent,
)
from domain.values import (
    Actor,
    ActorRole,
    Bsn,
    MunicipalityCode,
    PersonalDetails,
    Phase,
    PhaseInfo,
    Reporter,
    RiskFactor,
    Signal,
    Urgency,
)
from ks_engine.signal_rejection import Rejection as Rejection
from ks_engine.signal_rejection import RejectionCode as RejectionCode
from ks_engine.signal_rejection import load_json as load_json
from ks_engine.signal_rules import SignalRules, check_dates, check_references, check_served
from projections import cloudevent as cloudevents

SIGNAL_TYPE = "nl.kansrijkestart.signal.v1"
SIGNAL_TYPE_PREFIX = "nl.kansrijkestart.signal."
SIGNAL_SUBJECT_PREFIX = "ks.signals."
EXAMPLE_TIME = "2026-11-23T10:15:00+01:00"  # the time of example_signal


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonIn(_Strict):
    """The person the signal is about: usually the (expectant) mother."""

    bsn: Bsn = Field(description="Burgerservicenummer: nine digits passing the elfproef.")
    birth_date: dt.date | None = None
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(
        default=None, max_length=40, pattern=r"^\+?[0-9 ()-]{6,40}$", description="Phone number."
    )
    address: str | None = Field(default=None, max_length=300, description="Postal address.")


class ChildPersonIn(_Strict):
    """A born child: their own BSN and birth date."""

    bsn: Bsn = Field(description="The child's BSN: nine digits passing the elfproef.")
    birth_date: dt.date
    name: str | None = Field(default=None, max_length=200)


class ChildIn(_Strict):
    """A child of the household: a born child (``person``) or an expected one (``due_date``)."""

    person: ChildPersonIn | None = None
    due_date: dt.date | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ChildIn:
        if (self.person is None) == (self.due_date is None):
            raise ValueError("a child is either a person (BSN and birth date) or a due_date")
        return self


class HouseholdIn(_Strict):
    """The household of the person: a co-parent and children (all optional)."""

    co_parent: PersonIn | None = None
    children: list[ChildIn] = Field(default_factory=list, max_length=20)


class ReferralConsentIn(_Strict):
    """The family agreed to be referred to the Knooppunt (*aanmelding na toestemming*)."""

    given_by: ConsentGiver = Field(description="parent (the person), co_parent, or both.")
    given_on: dt.date


class SignalData(_Strict):
    """The ``data`` of a signal (nl.kansrijkestart.signal.v1)."""

    model_config = ConfigDict(title="KansrijkeStartSignalV1")
    municipality: MunicipalityCode = Field(description="CBS code, e.g. GM0928 (Kerkrade).")
    person: PersonIn
    reporter: Reporter
    phase: PhaseInfo
    risk_factors: list[RiskFactor] = Field(min_length=1, max_length=len(RiskFactor))
    urgency: Urgency = Urgency.ROUTINE
    note: str | None = Field(
        default=None, max_length=1000, description="Short explanation, not the questionnaire."
    )
    household: HouseholdIn | None = None
    referral_consent: ReferralConsentIn | None = Field(
        default=None, description="Present when the family agreed to the referral."
    )


class SignalEvent(BaseModel):
    """The CloudEvents 1.0 envelope; extension attributes are allowed and ignored."""

    model_config = ConfigDict(extra="allow")
    specversion: str
    type: str
    source: str = Field(min_length=1, max_length=300)
    id: str = Field(min_length=1, max_length=200)
    time: dt.datetime | None = None
    datacontenttype: str | None = None
    data: Any = None

    @property
    def signal_key(self) -> str:
        """Unique per partner: source and id (also the expected Nats-Msg-Id)."""
        return f"{self.source}#{self.id}"


@dataclass(frozen=True)
class ParsedSignal:
    """A valid signal, split into the envelope, the data and who sent it."""

    event: SignalEvent
    data: SignalData


def field_errors(exc: ValidationError, prefix: str = "data") -> list[tuple[str, str, str]]:
    """(path, message, pydantic type) per error, without the offending value."""
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        path = ".".join(str(p) for p in (prefix, *err["loc"]))
        msg = str(err["msg"]).removeprefix("Value error, ")
        out.append((path, msg, str(err["type"])))
    return out


def parse_signal(raw: bytes, subject: str | None = None, *, rules: SignalRules) -> ParsedSignal:
    """Validate a signal as received; raise Rejection with the first class of error found.

    ``subject``: the NATS subject it was published on (None over HTTP); ``rules``: what this
    Knooppunt takes (its municipalities, today's date).
    """
    doc, event = read_envelope(raw)
    return signal_from(doc, event, subject, rules=rules)


def read_envelope(raw: bytes) -> tuple[dict[str, Any], SignalEvent]:
    """The JSON object and its CloudEvents 1.0 envelope; Rejection when it is neither."""
    doc = load_json(raw)
    if not isinstance(doc, dict):
        raise Rejection(RejectionCode.NOT_CLOUDEVENT, "the message must be a JSON object")
    missing = [a for a in ("specversion", "type", "source", "id") if a not in doc]
    if missing:
        raise Rejection(
            RejectionCode.NOT_CLOUDEVENT,
            f"not a CloudEvent: missing required attribute(s) {', '.join(missing)}",
        )
    try:
        event = SignalEvent.model_validate(doc)
    except ValidationError as exc:
        errors = [(p.removeprefix("data."), m) for p, m, _ in field_errors(exc)]
        detail = "; ".join(f"{p}: {m}" for p, m in errors)
        raise Rejection(
            RejectionCode.NOT_CLOUDEVENT, f"not a valid CloudEvent: {detail}", tuple(errors)
        ) from None
    if event.specversion != "1.0":
        raise Rejection(
            RejectionCode.NOT_CLOUDEVENT,
            f"specversion must be '1.0' (CloudEvents 1.0), got '{event.specversion[:20]}'",
        )
    return doc, event


def check_envelope(doc: dict[str, Any], event: SignalEvent) -> None:
    """What CloudEvents 1.0 itself asks of the envelope, checked by the CloudEvents SDK (a time
    with its UTC offset, extension attribute names, ...), after ks-engine's own checks."""
    attributes = {k: v for k, v in doc.items() if k not in cloudevents.PAYLOAD}
    if event.time is not None:
        attributes["time"] = event.time
    try:
        cloudevents.build(attributes)
    except cloudevents.EnvelopeError as exc:
        raise Rejection(
            RejectionCode.NOT_CLOUDEVENT, f"not a valid CloudEvent: {exc}", exc.problems
        ) from None


def signal_from(
    doc: dict[str, Any], event: SignalEvent, subject: str | None, *, rules: SignalRules
) -> ParsedSignal:
    """The signal in an envelope read by :func:`read_envelope` (see :func:`parse_signal`)."""
    if event.type != SIGNAL_TYPE:
        if event.type.startswith(SIGNAL_TYPE_PREFIX):
            raise Rejection(
                RejectionCode.UNSUPPORTED_VERSION,
                f"signal type version '{event.type[:80]}' is not supported; use '{SIGNAL_TYPE}'",
            )
        takes = f"'{SIGNAL_TYPE}'"
        if subject is not None:  # on NATS the intake also takes a provider's confirmation
            takes += " or 'nl.kansrijkestart.support-started.v1'"
        raise Rejection(
            RejectionCode.UNKNOWN_TYPE,
            f"unknown event type '{event.type[:80]}'; ks-engine takes {takes}",
        )
    if event.datacontenttype not in (None, "application/json"):
        raise Rejection(RejectionCode.NOT_CLOUDEVENT, "datacontenttype must be 'application/json'")
    check_references(doc)
    check_envelope(doc, event)
    data = _parse_data(event.data)
    check_municipality(subject, data.municipality, rules)
    check_dates(not_future=_past_dates(data), due=_due_dates(data), rules=rules)
    return ParsedSignal(event=event, data=data)


def check_municipality(subject: str | None, municipality: str, rules: SignalRules) -> None:
    """Refuse a message published to another municipality's subject than its data names, or
    for a municipality this Knooppunt does not serve."""
    if subject is not None:
        subject_code = subject.removeprefix(SIGNAL_SUBJECT_PREFIX)
        if subject_code != municipality:
            raise Rejection(
                RejectionCode.MUNICIPALITY_MISMATCH,
                f"published to municipality '{subject_code[:20]}' but data.municipality is "
                f"'{municipality}'; publish to ks.signals.{municipality}",
            )
    check_served(municipality, rules)


def _past_dates(d: SignalData) -> list[tuple[str, dt.date, str]]:
    """The signal's dates that cannot lie in the future, with their paths."""
    found = [("data.person.birth_date", d.person.birth_date, "the date of birth")]
    if d.phase.phase is Phase.POSTNATAL:
        found.append(("data.phase.date", d.phase.date, "the child's birth date"))
    if d.household is not None:
        if d.household.co_parent is not None:
            found.append(
                (
                    "data.household.co_parent.birth_date",
                    d.household.co_parent.birth_date,
                    "the co-parent's date of birth",
                )
            )
        for n, child in enumerate(d.household.children):
            if child.person is not None:
                path = f"data.household.children.{n}.person.birth_date"
                found.append((path, child.person.birth_date, "the child's birth date"))
    if d.referral_consent is not None:
        found.append(
            ("data.referral_consent.given_on", d.referral_consent.given_on, "the consent's date")
        )
    return [(path, day, what) for path, day, what in found if day is not None]


def _due_dates(d: SignalData) -> list[tuple[str, dt.date]]:
    """The due dates of expected children, with their paths."""
    found = []
    if d.phase.phase is Phase.PREGNANCY and d.phase.date is not None:
        found.append(("data.phase.date", d.phase.date))
    for n, child in enumerate(d.household.children if d.household else []):
        if child.due_date is not None:
            found.append((f"data.household.children.{n}.due_date", child.due_date))
    return found


def _parse_data(data: Any) -> SignalData:
    if not isinstance(data, dict):
        raise Rejection(RejectionCode.SCHEMA_VIOLATION, "data must be a JSON object")
    try:
        return SignalData.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc)
        detail = "; ".join(f"{p}: {m}" for p, m, _ in errors)
        fields = tuple((p, m) for p, m, _ in errors)
        if any(p.endswith(".bsn") for p, _ in fields):
            raise Rejection(RejectionCode.INVALID_BSN, detail, fields) from None
        if any("needs its date" in m for _, m in fields):
            raise Rejection(RejectionCode.PHASE_DATE_MISSING, detail, fields) from None
        raise Rejection(RejectionCode.SCHEMA_VIOLATION, detail, fields) from None


def to_domain(parsed: ParsedSignal, pseudonymise: Callable[[str], str]) -> tuple[Signal, Actor]:
    """The domain signal (every BSN replaced by its pseudonym) and the partner as actor."""
    d = parsed.data
    members, details = _household(d.household, pseudonymise)
    person = d.person
    signal = Signal(
        signal_key=parsed.event.signal_key,
        municipality=d.municipality,
        person_pseudonym=pseudonymise(person.bsn),
        reporter=d.reporter,
        phase=d.phase,
        risk_factors=tuple(d.risk_factors),
        urgency=d.urgency,
        personal=PersonalDetails(
            name=person.name,
            birth_date=person.birth_date,
            note=d.note,
            phone=person.phone,
            address=person.address,
            household=details,
        ),
        household=members,
        referral_consent=ReferralConsent(**d.referral_consent.model_dump())
        if d.referral_consent
        else None,
    )
    actor = Actor(organisation=parsed.event.source, role=ActorRole.PARTNER)
    return signal, actor


def _household(
    household: HouseholdIn | None, pseudonymise: Callable[[str], str]
) -> tuple[tuple[HouseholdMember, ...], tuple[MemberDetails, ...]]:
    """Members by pseudonym or due date (for matching), and their sealed-to-be details."""
    if household is None:
        return (), ()
    members: list[HouseholdMember] = []
    details: list[MemberDetails] = []
    if (co := household.co_parent) is not None:
        ref = pseudonymise(co.bsn)
        members.append(HouseholdMember(role=MemberRole.CO_PARENT, pseudonym=ref))
        details.append(
            MemberDetails(
                role=MemberRole.CO_PARENT,
                ref=ref,
                name=co.name,
                birth_date=co.birth_date,
                phone=co.phone,
                address=co.address,
            )
        )
    for child in household.children:
        if child.person is not None:
            ref = pseudonymise(child.person.bsn)
            members.append(HouseholdMember(role=MemberRole.CHILD, pseudonym=ref))
            details.append(
                MemberDetails(
                    role=MemberRole.CHILD,
                    ref=ref,
                    name=child.person.name,
                    birth_date=child.person.birth_date,
                )
            )
        else:
            members.append(HouseholdMember(role=MemberRole.UNBORN, due_date=child.due_date))
    return tuple(members), tuple(details)


def data_json_schema() -> dict[str, Any]:
    """JSON Schema of ``data``, generated from the pydantic model."""
    schema = SignalData.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://kansrijkestart.nl/schemas/signal-data.v1.json"
    return schema


def example_signal(
    bsn: str,
    *,
    municipality: str = "GM0928",
    source: str = "https://verloskunde-parkstad.nl",
    event_id: str = "2026-000123",
    due_date: dt.date | None = None,
    co_parent_bsn: str | None = None,
) -> dict[str, Any]:
    """A complete, valid signal as a partner publishes it (JSON-ready); with
    ``co_parent_bsn`` it names the household: a co-parent and the expected child."""
    due = due_date or dt.date(2027, 4, 15)
    data: dict[str, Any] = {
        "municipality": municipality,
        "person": {"bsn": bsn},
        "reporter": {"organisation": source, "role": "midwife"},
        "phase": {"phase": "pregnancy", "date": due.isoformat()},
        "risk_factors": ["debts", "stress"],
        "urgency": "soon",
        "note": "Verbrede risicosignalering: zorgen over geldzaken en spanning thuis.",
    }
    if co_parent_bsn is not None:
        data["household"] = {
            "co_parent": {"bsn": co_parent_bsn},
            "children": [{"due_date": due.isoformat()}],
        }
        data["referral_consent"] = {"given_by": "both", "given_on": "2026-11-20"}
    time = dt.datetime.fromisoformat(EXAMPLE_TIME)
    return cloudevents.structured(SIGNAL_TYPE, source, event_id, time, data)
