"""What a partner puts in a signal's ``data`` (nl.kansrijkestart.signal.v1), as pydantic models.

The published JSON schema is generated from these models, so a change here is a change of the
contract partners code against.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.household import ConsentGiver
from domain.values import (
    Bsn,
    MunicipalityCode,
    PhaseInfo,
    Reporter,
    RiskFactor,
    Urgency,
)

SIGNAL_TYPE = "nl.kansrijkestart.signal.v1"
SIGNAL_TYPE_PREFIX = "nl.kansrijkestart.signal."


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
