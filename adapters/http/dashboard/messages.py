"""Refusals in words a coordinator understands: domain errors and invalid form fields in Dutch.

The domain's own messages are written for API clients; the dashboard names the refusal in
Dutch, with the state the case is in and what can be done now. A submitted value is never
repeated (it could be a justification or another free text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from adapters.http.dashboard.labels import ACTIONS, STATES
from domain.errors import (
    CaseClosedError,
    ConsentRequiredError,
    DomainError,
    IllegalTransitionError,
    InvalidValueError,
    UnknownOfferError,
    VersionConflictError,
)
from domain.lifecycle import Action

# Known reasons of the domain's refusals, by a phrase of its message.
_REASONS: tuple[tuple[str, str], ...] = (
    ("consent has expired", "de toestemming van de familie is verlopen"),
    ("date lies before the family consented", "de datum ligt vóór de toestemming van de familie"),
    ("does not cover", "de toestemming van de familie geldt niet voor alle gekozen organisaties"),
    ("no given consent to withdraw", "er is geen gegeven toestemming om in te trekken"),
    ("has not consented", "de familie heeft (nog) geen toestemming gegeven"),
    ("scope must name", "kies ten minste één organisatie waarvoor de toestemming geldt"),
    ("expiry date lies in the past", "de einddatum van de toestemming ligt in het verleden"),
    ("name the participating", "noem de deelnemende organisaties"),
    ("start date lies in the future", "de startdatum ligt in de toekomst"),
    ("lies in the future", "de datum ligt in de toekomst"),
    ("before the support started", "de datum ligt vóór de start van de ondersteuning"),
    ("was not a need found", "die behoefte is niet vastgesteld bij de bespreking"),
    ("whether it was met", "geef voor ten minste één behoefte aan of die behaald is"),
    ("already reopened", "de casus is al heropend"),
    ("months ago", "de termijn om te heropenen is verstreken"),
    ("already has an open case", "er loopt al een andere casus voor deze persoon"),
    ("choose at least one offer", "kies ten minste één aanbod"),
    ("name the lead professional", "noem de regievoerende professional"),
    ("has no signal", "de casus heeft geen melding met dit nummer"),
    ("both given a new value and removed", "een gegeven kan niet tegelijk gewijzigd en gewist"),
    ("name at least one field", "vul een nieuw gegeven in of kies een gegeven om te wissen"),
    ("runs no Knooppunt", "die gemeente heeft (nog) geen Knooppunt in de regio"),
    (": the case is in ", "de casus hoort al bij die gemeente"),
    (
        "who in the family agreed",
        "leg vast wie in het gezin met de overdracht instemde, hoe en wanneer",
    ),
    ("not escalated under the Meldcode", "de casus is niet opgeschaald onder de Meldcode"),
    ("every signal on it was retracted", "alle meldingen van deze casus zijn ingetrokken"),
    (
        "needs its legal basis",
        "geef de wettelijke grondslag en een onderbouwing van minstens 10 tekens",
    ),
    ("name the organisations involved", "kies de organisaties waarvoor de opschaling geldt"),
)

FIELDS: dict[str, str] = {
    "decision": "Antwoord van de familie",
    "scope": "Organisaties (reikwijdte)",
    "expires_on": "Geldig tot",
    "on": "Datum van de bespreking",
    "participants": "Deelnemers",
    "scores": "Scores Positieve Gezondheid",
    "bodily_functions": "Lichaamsfuncties",
    "mental_wellbeing": "Mentaal welbevinden",
    "meaningfulness": "Zingeving",
    "quality_of_life": "Kwaliteit van leven",
    "participation": "Meedoen",
    "daily_functioning": "Dagelijks functioneren",
    "needs": "Behoeften",
    "offer_ids": "Aanbod",
    "lead_professional": "Regievoerende professional",
    "planned_start": "Geplande start",
    "meldcode_step": "Stap van de Meldcode",
    "legal_basis": "Wettelijke grondslag",
    "justification": "Onderbouwing",
    "organisations": "Organisaties van de opschaling",
    "purpose": "Doel",
    "outcome": "Resultaat",
    "reason": "Toelichting",
    "given": "Antwoord van de familie",
    "confirm": "Bevestiging",
    "next_step": "Hoe verder",
    "to_municipality": "Nieuwe gemeente",
    "basis": "Grondslag",
    "given_by": "Wie stemde in",
    "method": "Hoe",
    "given_on": "Op welke dag",
    "signal_number": "Melding",
    "name": "Naam",
    "birth_date": "Geboortedatum",
    "phone": "Telefoon",
    "address": "Adres",
    "remove": "Te wissen gegevens",
}

_PROBLEMS: dict[str, str] = {
    "missing": "is verplicht",
    "greater_than_equal": "is te laag (0 tot en met 10)",
    "less_than_equal": "is te hoog (0 tot en met 10)",
    "int_parsing": "moet een geheel getal zijn",
    "date_from_datetime_parsing": "moet een datum zijn",
    "date_parsing": "moet een datum zijn",
    "too_short": "is te kort of leeg",
    "string_too_short": "is te kort",
    "too_long": "bevat te veel keuzes",
    "string_too_long": "is te lang",
    "enum": "is geen keuze uit de lijst",
    "literal_error": "is geen keuze uit de lijst",
}


def _allowed(allowed: Sequence[str]) -> str:
    names = [ACTIONS[a] for a in allowed if a in ACTIONS and a != Action.ADD_SIGNAL]
    return ", ".join(names) if names else "niets"


def _reason(message: str) -> str | None:
    return next((dutch for phrase, dutch in _REASONS if phrase in message), None)


def _consent_reason(exc: ConsentRequiredError, names: Mapping[str, str]) -> str:
    """Why consent refuses the step, naming the organisations neither the consent nor an
    escalation covers by their names."""
    message = str(exc)
    why = _reason(message) or "de familie heeft geen toestemming gegeven"
    if not exc.missing:
        return why
    who = _listed([names.get(o, o) for o in exc.missing])
    escalated = "escalation" in message
    if "does not cover" in message:
        if escalated:
            return f"de toestemming van de familie en de opschaling noemen {who} niet"
        return f"de toestemming van de familie geldt niet voor {who}"
    return f"{why}, en de opschaling noemt {who} niet" if escalated else why


def _listed(words: Sequence[str]) -> str:
    """``a``, ``a en b``, ``a, b en c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} en {words[-1]}"


def _transfer_reason(message: str) -> str | None:
    if "waits for its answer" in message:
        return "er wacht al een overdracht van deze casus op antwoord"
    if "no transfer was asked for" in message:
        return "er is geen overdracht van deze casus gevraagd"
    return None


def refusal(exc: DomainError, names: Mapping[str, str] | None = None) -> str:
    """The Dutch message for a refused command; ``names``: organisations' names by id."""
    if isinstance(exc, VersionConflictError):
        return (
            "De casus is intussen gewijzigd door iemand anders. De pagina toont nu de nieuwe "
            "stand; kijk die na en probeer het opnieuw."
        )
    if isinstance(exc, CaseClosedError):
        return "Dit kan niet meer: de casus is afgesloten."
    if isinstance(exc, ConsentRequiredError):
        state = STATES.get(exc.state, exc.state)
        why = _consent_reason(exc, names or {})
        return f"Dit kan niet zonder toestemming: {why} (status: {state})."
    if isinstance(exc, IllegalTransitionError) and (moving := _transfer_reason(str(exc))):
        return f"Dit kan niet: {moving}."
    if isinstance(exc, IllegalTransitionError):
        state = STATES.get(exc.state, exc.state)
        return f"Dit kan niet in de huidige status ({state}). Nu mogelijk: {_allowed(exc.allowed)}."
    if isinstance(exc, UnknownOfferError):
        return "Het gekozen aanbod staat niet (meer) op de menukaart; kies een aanbod uit de lijst."
    if isinstance(exc, InvalidValueError):
        reason = _reason(str(exc))
        return f"Dit kan niet: {reason}." if reason else "Dit kan niet: controleer de invoer."
    return "Dit kan niet volgens de regels van het Knooppunt."


def invalid_fields(exc: ValidationError) -> str:
    """The Dutch message for a form with invalid fields (no submitted value repeated)."""
    parts: list[str] = []
    for err in exc.errors(include_input=False):
        parts.append(_field_problem(err))
    unique = list(dict.fromkeys(parts))
    return "Controleer de invoer: " + "; ".join(unique) + "."


def _field_problem(err: Any) -> str:
    names = [str(p) for p in err.get("loc", ()) if str(p) in FIELDS]
    field = FIELDS[names[-1]] if names else "het formulier"
    kind = str(err.get("type", ""))
    if kind == "value_error":
        reason = _reason(str(err.get("msg", "")))
        return f"{field}: {reason}" if reason else f"{field} is niet geldig"
    return f"{field} {_PROBLEMS.get(kind, 'is niet geldig')}"
