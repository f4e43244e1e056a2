"""A valid signal in the domain's terms: every BSN replaced by its pseudonym, the personal
details set apart to be sealed, and the partner who sent it as the actor."""

from __future__ import annotations

from collections.abc import Callable

from domain.household import HouseholdMember, MemberDetails, MemberRole, ReferralConsent
from domain.values import Actor, ActorRole, PersonalDetails, Signal
from ks_engine.signal_contract.models import HouseholdIn
from ks_engine.signal_contract.parser import ParsedSignal


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
