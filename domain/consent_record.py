"""The full record of a family's consent (*toestemming*): who gave it, how, when and for what.

Compare HL7 FHIR ``Consent``: the performer (which parent, or both), the method (spoken,
written, digital), the date, the purpose, the organisations and the period. The organisations
and the end date are the consent's scope and expiry; this record adds the rest.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.household import ConsentGiver


class ConsentMethod(StrEnum):
    """How the family gave consent."""

    SPOKEN = "spoken"
    WRITTEN = "written"
    DIGITAL = "digital"


class ConsentPurpose(StrEnum):
    """What the family consented to."""

    DISCUSSION = "discussion"  # being discussed at the Knooppunt
    SUPPORT = "support"  # being discussed and referred to the organisations named


METHOD_LABELS = {
    ConsentMethod.SPOKEN: "mondeling",
    ConsentMethod.WRITTEN: "schriftelijk",
    ConsentMethod.DIGITAL: "digitaal",
}
PURPOSE_LABELS = {
    ConsentPurpose.DISCUSSION: "bespreking in het Knooppunt",
    ConsentPurpose.SUPPORT: "bespreking en toeleiding naar ondersteuning",
}


class ConsentRecord(BaseModel):
    """Who gave consent, how, on which day and for which purpose."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    given_by: ConsentGiver
    method: ConsentMethod
    given_on: dt.date
    purpose: ConsentPurpose = ConsentPurpose.DISCUSSION

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="python") | {
            "given_by": self.given_by.value,
            "method": self.method.value,
            "purpose": self.purpose.value,
        }
