"""The meeting pages' Dutch: decisions, follow-ups, states, and refusals of meeting commands."""

from __future__ import annotations

from domain.errors import CaseRestrictedError, DomainError
from domain.meeting import Decision, FollowUp, MeetingState

DECISIONS: dict[str, str] = {
    Decision.DISCUSSED: "Besproken",
    Decision.POSTPONED: "Uitgesteld naar een volgend overleg",
}
FOLLOW_UPS: dict[str, str] = {
    FollowUp.MATCH_SUPPORT: "Ondersteuning afspreken",
    FollowUp.MORE_INFORMATION: "Meer informatie ophalen",
    FollowUp.DISCUSS_AGAIN: "Opnieuw bespreken",
    FollowUp.NO_FURTHER_ACTION: "Geen verdere actie",
}
MEETING_STATES: dict[str, str] = {
    MeetingState.PLANNED: "Gepland",
    MeetingState.CONCLUDED: "Afgerond (verslag vastgesteld)",
}
DONE: dict[str, str] = {
    "gepland": "Vastgelegd: het casusoverleg is gepland.",
    "agenda": "Vastgelegd: de casus staat op de agenda.",
    "van-agenda": "Vastgelegd: de casus is van de agenda gehaald.",
    "besluit": "Vastgelegd: het besluit over de casus.",
    "afgerond": "Vastgelegd: het overleg is afgerond; het verslag ligt vast.",
}

# Known reasons of the meeting's refusals, by a phrase of the domain's message.
_REASONS: tuple[tuple[str, str], ...] = (
    (
        "has not consented to discussion",
        "de familie heeft (nog) geen toestemming gegeven voor bespreking in het Knooppunt, of "
        "de toestemming is verlopen of ingetrokken",
    ),
    (
        "does not cover any of the attending",
        "de toestemming van de familie noemt geen van de deelnemende organisaties",
    ),
    ("another municipality", "de casus hoort bij een andere gemeente dan het overleg"),
    ("the case is closed", "de casus is afgesloten"),
    ("already on the agenda", "de casus staat al op de agenda"),
    ("is concluded", "het overleg is afgerond; agenda en besluiten liggen vast"),
    ("decided on in this meeting already", "over deze casus is in dit overleg al besloten"),
    ("is not on the agenda", "de casus staat niet op de agenda van dit overleg"),
    (
        "lies in the future; decide",
        "het overleg is nog niet geweest; leg besluiten vast op of na de dag van het overleg",
    ),
    (
        "conclude it afterwards",
        "het overleg is nog niet geweest; rond het af op of na de dag van het overleg",
    ),
    ("lies in the past", "de datum van het overleg ligt in het verleden"),
    ("at least one attending", "kies ten minste één deelnemende organisatie"),
    ("needs its follow-up", "kies hoe het verder gaat met de casus"),
    ("name the participants", "vul de bespreking in: deelnemers, scores en behoeften"),
    (
        "lead organisation",
        "de regievoerende organisatie moet deelnemen en onder de toestemming van de familie vallen",
    ),
    ("does not cover", "de toestemming van de familie geldt niet voor alle gekozen deelnemers"),
    ("at most", "dat zijn te veel organisaties of casussen voor één overleg"),
)


def meeting_refusal(exc: DomainError, what: str) -> str | None:
    """The Dutch refusal of a meeting command about ``what`` ('Casus 740ce0b5', 'Het
    overleg'); None when the case page's general words fit better."""
    if isinstance(exc, CaseRestrictedError):
        return f"{what} kan niet: de verwerking is beperkt op verzoek van de familie (AVG art. 18)."
    message = str(exc)
    reason = next((dutch for phrase, dutch in _REASONS if phrase in message), None)
    return f"{what} kan niet: {reason}." if reason else None
