"""Value objects of the Knooppunt, validated with pydantic. Dutch labels for display."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)

from domain.errors import InvalidValueError
from domain.household import HouseholdMember, MemberDetails, ReferralConsent
from domain.redaction import FreeText

_MUNICIPALITY = re.compile(r"^GM[0-9]{4}$")


def check_municipality_code(value: str) -> str:
    """A CBS municipality code: ``GM`` followed by four digits (Kerkrade is ``GM0928``)."""
    if not _MUNICIPALITY.fullmatch(value):
        raise InvalidValueError(
            "municipality code must be 'GM' followed by four digits, e.g. GM0928"
        )
    return value


def check_bsn(value: str) -> str:
    """A BSN (burgerservicenummer): nine digits passing the elfproef.

    The error message never repeats the number itself.
    """
    if not (len(value) == 9 and value.isascii() and value.isdigit()):
        raise InvalidValueError("BSN must be exactly nine digits")
    # The weighted sum 9*d1 + 8*d2 + ... + 2*d8 - d9, from the digits' character codes (each
    # 48 more than the digit: 43 times 48 in all, the weights adding up to 43).
    c = value.encode()
    total = 9 * c[0] + 8 * c[1] + 7 * c[2] + 6 * c[3] + 5 * c[4] + 4 * c[5] + 3 * c[6]
    total += 2 * c[7] - c[8] - 43 * 48
    if total % 11 != 0 or value == "000000000":
        raise InvalidValueError("BSN fails the elfproef (11-test); check for a typing error")
    return value


class _Withheld(str):
    """A BSN on its way through validation; any error pydantic builds shows '[withheld]'."""

    value: Any

    def __new__(cls, value: Any) -> _Withheld:
        withheld = super().__new__(cls, "[withheld]")
        withheld.value = value
        return withheld


def _withhold(value: Any) -> _Withheld:
    return _Withheld(value)


def _check_withheld(candidate: Any) -> str:
    value = candidate.value if isinstance(candidate, _Withheld) else candidate
    if not isinstance(value, str):
        raise InvalidValueError("BSN must be exactly nine digits")
    return check_bsn(value)


MunicipalityCode = Annotated[
    str,
    AfterValidator(check_municipality_code),
    WithJsonSchema({"type": "string", "pattern": _MUNICIPALITY.pattern}),
]
# pydantic puts the input of a failed validator into its error (and so into HTTP problem
# details and dead-letter reasons). Validators run from the last one: the input is withheld
# before the check, so an error never repeats a BSN, not even a mistyped one.
Bsn = Annotated[
    str,
    PlainValidator(_check_withheld),
    BeforeValidator(_withhold),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{9}$"}),
]


class Labelled(StrEnum):
    """A closed vocabulary whose members carry a Dutch label for display."""

    @property
    def label(self) -> str:
        return _LABELS[self]


class RiskFactor(Labelled):
    """Vulnerability factor in a signal (vocabulary version 1)."""

    DEBTS = "debts"
    STRESS = "stress"
    SUBSTANCE_USE = "substance_use"
    DOMESTIC_VIOLENCE = "domestic_violence"
    HOUSING = "housing"
    MENTAL_HEALTH = "mental_health"
    SOCIAL_ISOLATION = "social_isolation"
    LANGUAGE_LITERACY = "language_literacy"
    UNINTENDED_PREGNANCY = "unintended_pregnancy"
    YOUNG_PARENTS = "young_parents"
    INTELLECTUAL_DISABILITY = "intellectual_disability"


class ReporterRole(Labelled):
    """The profession of whoever signalled."""

    MIDWIFE = "midwife"
    GYNAECOLOGIST = "gynaecologist"
    MATERNITY_CARE = "maternity_care"
    YOUTH_HEALTH_CARE = "youth_health_care"
    GENERAL_PRACTITIONER = "general_practitioner"
    PRACTICE_NURSE = "practice_nurse"
    HOSPITAL = "hospital"
    SOCIAL_WORK = "social_work"
    DEBT_COUNSELLING = "debt_counselling"
    YOUTH_CARE = "youth_care"
    MENTAL_HEALTH_CARE = "mental_health_care"
    OTHER = "other"


class Need(Labelled):
    """A need identified at the Knooppunt; offers on the menukaart address needs."""

    FINANCIAL = "financial"
    HOUSING = "housing"
    MENTAL_HEALTH = "mental_health"
    ADDICTION = "addiction"
    SAFETY = "safety"
    PARENTING = "parenting"
    SOCIAL_NETWORK = "social_network"
    LANGUAGE = "language"
    PREGNANCY_PLANNING = "pregnancy_planning"
    ANTENATAL_CARE = "antenatal_care"
    PRACTICAL_SUPPORT = "practical_support"


class Phase(Labelled):
    """Action line of Kansrijke Start the family is in."""

    PRECONCEPTION = "preconception"
    PREGNANCY = "pregnancy"
    POSTNATAL = "postnatal"


class Urgency(Labelled):
    """How quickly the reporter thinks the Knooppunt should act."""

    ROUTINE = "routine"
    SOON = "soon"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return {"urgent": 0, "soon": 1, "routine": 2}[self.value]


class Dimension(Labelled):
    """The six dimensions of Positieve Gezondheid."""

    BODILY_FUNCTIONS = "bodily_functions"
    MENTAL_WELLBEING = "mental_wellbeing"
    MEANINGFULNESS = "meaningfulness"
    QUALITY_OF_LIFE = "quality_of_life"
    PARTICIPATION = "participation"
    DAILY_FUNCTIONING = "daily_functioning"


class Outcome(Labelled):
    """Result of a closed case (the ZGW *resultaat*)."""

    SUPPORT_STARTED = "support_started"
    NO_SUPPORT_NEEDED = "no_support_needed"
    CONSENT_DECLINED = "consent_declined"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    REFERRED_TO_VEILIG_THUIS = "referred_to_veilig_thuis"
    MOVED_AWAY = "moved_away"
    NO_CONTACT = "no_contact"
    EXPIRED = "expired"
    MERGED = "merged"  # taken into another case of the same household
    SIGNAL_RETRACTED = "signal_retracted"  # every signal was retracted (AVG art. 16)
    # The results a coordinator chooses from when closing (``CLOSING_RESULTS``); the codes
    # above stay readable for cases closed before them.
    SUPPORT_COMPLETED = "support_completed"
    FAMILY_DECLINED = "family_declined"
    NO_LONGER_NEEDED = "no_longer_needed"
    REFERRED_ELSEWHERE = "referred_elsewhere"


class MeldcodeStep(Labelled):
    """The step of the Meldcode huiselijk geweld en kindermishandeling that led to escalation."""

    MAP_SIGNALS = "map_signals"
    CONSULT = "consult"
    TALK_WITH_CLIENT = "talk_with_client"
    WEIGH = "weigh"
    DECIDE = "decide"


class ActorRole(Labelled):
    """Role of whoever caused an event."""

    PARTNER = "partner"
    COORDINATOR = "coordinator"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SYSTEM = "system"
    PRIVACY_OFFICER = "privacy_officer"  # *functionaris gegevensbescherming*


_LABELS: dict[Any, str] = {
    RiskFactor.DEBTS: "Schulden en financiële problemen",
    RiskFactor.STRESS: "Stress",
    RiskFactor.SUBSTANCE_USE: "Middelengebruik",
    RiskFactor.DOMESTIC_VIOLENCE: "Huiselijk geweld",
    RiskFactor.HOUSING: "Huisvestingsproblemen",
    RiskFactor.MENTAL_HEALTH: "Psychische problemen",
    RiskFactor.SOCIAL_ISOLATION: "Sociaal isolement",
    RiskFactor.LANGUAGE_LITERACY: "Taal- of leesbarrière",
    RiskFactor.UNINTENDED_PREGNANCY: "Onbedoelde zwangerschap",
    RiskFactor.YOUNG_PARENTS: "Zeer jonge ouders",
    RiskFactor.INTELLECTUAL_DISABILITY: "Licht verstandelijke beperking",
    ReporterRole.MIDWIFE: "Verloskundige",
    ReporterRole.GYNAECOLOGIST: "Gynaecoloog",
    ReporterRole.MATERNITY_CARE: "Kraamzorg",
    ReporterRole.YOUTH_HEALTH_CARE: "Jeugdgezondheidszorg (JGZ)",
    ReporterRole.GENERAL_PRACTITIONER: "Huisarts",
    ReporterRole.PRACTICE_NURSE: "Praktijkondersteuner (POH)",
    ReporterRole.HOSPITAL: "Ziekenhuis",
    ReporterRole.SOCIAL_WORK: "Maatschappelijk werk",
    ReporterRole.DEBT_COUNSELLING: "Schuldhulpverlening",
    ReporterRole.YOUTH_CARE: "Jeugdhulp",
    ReporterRole.MENTAL_HEALTH_CARE: "GGZ",
    ReporterRole.OTHER: "Anders",
    Need.FINANCIAL: "Financiën en schulden",
    Need.HOUSING: "Wonen",
    Need.MENTAL_HEALTH: "Psychische gezondheid",
    Need.ADDICTION: "Verslaving",
    Need.SAFETY: "Veiligheid",
    Need.PARENTING: "Opvoeding en ouderschap",
    Need.SOCIAL_NETWORK: "Sociaal netwerk",
    Need.LANGUAGE: "Taal",
    Need.PREGNANCY_PLANNING: "Kinderwens en anticonceptie",
    Need.ANTENATAL_CARE: "Zwangerschapsbegeleiding",
    Need.PRACTICAL_SUPPORT: "Praktische ondersteuning",
    Phase.PRECONCEPTION: "Voor de zwangerschap",
    Phase.PREGNANCY: "Tijdens de zwangerschap",
    Phase.POSTNATAL: "Na de geboorte",
    Urgency.ROUTINE: "Regulier",
    Urgency.SOON: "Spoedig",
    Urgency.URGENT: "Met spoed",
    Dimension.BODILY_FUNCTIONS: "Lichaamsfuncties",
    Dimension.MENTAL_WELLBEING: "Mentaal welbevinden",
    Dimension.MEANINGFULNESS: "Zingeving",
    Dimension.QUALITY_OF_LIFE: "Kwaliteit van leven",
    Dimension.PARTICIPATION: "Meedoen",
    Dimension.DAILY_FUNCTIONING: "Dagelijks functioneren",
    Outcome.SUPPORT_STARTED: "Ondersteuning gestart",
    Outcome.NO_SUPPORT_NEEDED: "Geen ondersteuning nodig",
    Outcome.CONSENT_DECLINED: "Geen toestemming",
    Outcome.CONSENT_WITHDRAWN: "Toestemming ingetrokken",
    Outcome.REFERRED_TO_VEILIG_THUIS: "Gemeld bij Veilig Thuis",
    Outcome.MOVED_AWAY: "Verhuisd",
    Outcome.NO_CONTACT: "Geen contact",
    Outcome.EXPIRED: "Verlopen",
    Outcome.MERGED: "Samengevoegd met een andere casus van het gezin",
    Outcome.SIGNAL_RETRACTED: "Melding ingetrokken (ging over een andere persoon)",
    Outcome.SUPPORT_COMPLETED: "Ondersteuning afgerond",
    Outcome.FAMILY_DECLINED: "Gezin ziet af van ondersteuning",
    Outcome.NO_LONGER_NEEDED: "Niet meer nodig",
    Outcome.REFERRED_ELSEWHERE: "Elders naartoe verwezen",
    MeldcodeStep.MAP_SIGNALS: "Stap 1: signalen in kaart brengen",
    MeldcodeStep.CONSULT: "Stap 2: collegiale consultatie en Veilig Thuis",
    MeldcodeStep.TALK_WITH_CLIENT: "Stap 3: gesprek met de cliënt",
    MeldcodeStep.WEIGH: "Stap 4: wegen aan de hand van het afwegingskader",
    MeldcodeStep.DECIDE: "Stap 5: beslissen over hulp en/of melden",
    ActorRole.PARTNER: "Ketenpartner",
    ActorRole.COORDINATOR: "Coördinator",
    ActorRole.AUDITOR: "Auditor",
    ActorRole.ADMIN: "Beheerder",
    ActorRole.SYSTEM: "Systeem",
    ActorRole.PRIVACY_OFFICER: "Functionaris gegevensbescherming",
}


class Value(BaseModel):
    """Base for immutable value objects."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(Value):
    """Who caused an event: organisation, role and a (pseudonymous) user reference."""

    organisation: FreeText = Field(min_length=1, max_length=300)  # a partner's CloudEvents source
    role: ActorRole
    user_ref: str = Field(default="", max_length=200)


class PhaseInfo(Value):
    """The phase with its date: expected due date in pregnancy, birth date after birth."""

    phase: Phase
    date: dt.date | None = None

    @model_validator(mode="after")
    def _date_fits_phase(self) -> PhaseInfo:
        if self.phase is not Phase.PRECONCEPTION and self.date is None:
            what = "expected due date" if self.phase is Phase.PREGNANCY else "child's birth date"
            raise ValueError(f"phase '{self.phase.value}' needs its date (the {what})")
        return self


Score = Annotated[int, Field(ge=0, le=10)]


class HealthScores(Value):
    """Positieve Gezondheid scores 0-10 on the six dimensions, scored with the family."""

    bodily_functions: Score
    mental_wellbeing: Score
    meaningfulness: Score
    quality_of_life: Score
    participation: Score
    daily_functioning: Score

    def low(self, threshold: int = 5) -> list[Dimension]:
        """Dimensions scored at or below ``threshold``, lowest first."""
        scored = [(getattr(self, d.value), d) for d in Dimension]
        return [d for score, d in sorted(scored, key=lambda x: x[0]) if score <= threshold]


class Reporter(Value):
    """The professional who signalled: organisation and role."""

    organisation: FreeText = Field(min_length=1, max_length=200)
    role: ReporterRole


class PersonalDetails(Value):
    """Direct identifiers kept for the Knooppunt's work; never logged, never sent on."""

    name: FreeText | None = Field(default=None, max_length=200)
    birth_date: dt.date | None = None
    note: FreeText | None = Field(default=None, max_length=1000)
    phone: str | None = Field(default=None, max_length=40)
    address: FreeText | None = Field(default=None, max_length=300)
    household: tuple[MemberDetails, ...] = ()


class Signal(Value):
    """A validated signal about a person, after the BSN was replaced by its pseudonym."""

    signal_key: str = Field(min_length=1, max_length=600)  # source (300) '#' id (200)
    municipality: MunicipalityCode
    person_pseudonym: str = Field(min_length=16, max_length=128)
    reporter: Reporter
    phase: PhaseInfo
    risk_factors: tuple[RiskFactor, ...] = Field(min_length=1)
    urgency: Urgency = Urgency.ROUTINE
    personal: PersonalDetails = PersonalDetails()
    household: tuple[HouseholdMember, ...] = ()  # the co-parent and children the signal names
    referral_consent: ReferralConsent | None = None
