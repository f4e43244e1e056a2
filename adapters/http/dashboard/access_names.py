"""Access-log entries in the auditor's words: the step a request took, its purpose and action.

The log stores what was requested (``POST /dashboard/casus/{case_id}/consent``); an auditor
reads "Toestemming vastgelegd". A request this table does not know keeps its technical name.
"""

from __future__ import annotations

from ks_engine.access_log import AccessAction, AccessEntry, Purpose

# The step of each action segment of a case command, on the dashboard and on the API alike.
_CASE_COMMANDS = {
    "consent-request": "Toestemming gevraagd",
    "consent": "Toestemming vastgelegd",
    "consent-withdrawal": "Intrekking van de toestemming vastgelegd",
    "discussion": "Casusbespreking vastgelegd",
    "support-match": "Ondersteuning gekoppeld",
    "support-start": "Start van de ondersteuning vastgelegd",
    "evaluation": "Evaluatie vastgelegd",
    "escalation": "Opgeschaald onder de Meldcode",
    "closure": "Casus afgesloten",
    "reopening": "Casus heropend",
    "suspension": "Termijn opgeschort",
    "resumption": "Termijn hervat",
    "extension": "Termijn verlengd",
    "assignment": "Casus toegewezen",
    "notitie": "Notitie toegevoegd",
    "notes": "Notitie toegevoegd",
    "merge": "Casussen samengevoegd",
    "birth": "Geboorte vastgelegd",
}

_REQUESTS = {
    "GET /dashboard/": "Dashboard geopend",
    "GET /dashboard/inloggen": "Inlogscherm geopend",
    "POST /dashboard/inloggen": "Ingelogd",
    "POST /dashboard/uitloggen": "Uitgelogd",
    "GET /dashboard/werkvoorraad": "Werkvoorraad bekeken",
    "GET /dashboard/werkvoorraad/rijen": "Werkvoorraad ververst",
    "POST /dashboard/zoeken": "Casus gezocht",
    "GET /dashboard/casus/{case_id}": "Casus bekeken",
    "GET /dashboard/casus/{case_id}/persoonsgegevens": "Persoonsgegevens ingezien",
    "GET /dashboard/casus/{case_id}/stand": "Stand van een casus op een moment bekeken",
    "GET /dashboard/monitoring": "Monitoring bekeken",
    "GET /dashboard/monitoring.csv": "Monitoringcijfers gedownload",
    "GET /dashboard/audit": "Toegangslog bekeken",
    "GET /dashboard/audit/casus": "Geschiedenis gezocht",
    "GET /dashboard/audit/casus/{case_id}": "Geschiedenis van een casus bekeken",
    "GET /dashboard/overleg": "Overleggen bekeken",
    "POST /dashboard/overleg": "Casusoverleg gepland",
    "GET /dashboard/overleg/{meeting_id}": "Agenda van een casusoverleg bekeken",
    "POST /dashboard/overleg/{meeting_id}/agenda": "Casus op de agenda gezet",
    "POST /dashboard/overleg/{meeting_id}/agenda/{case_id}/verwijderen": (
        "Casus van de agenda gehaald"
    ),
    "GET /dashboard/overleg/{meeting_id}/casus/{case_id}": "Bespreking in het overleg geopend",
    "POST /dashboard/overleg/{meeting_id}/casus/{case_id}": "Besluit in het overleg vastgelegd",
    "POST /dashboard/overleg/{meeting_id}/afronden": "Casusoverleg afgerond",
    "POST /meetings": "Casusoverleg gepland (API)",
    "GET /meetings": "Overleggen opgevraagd (API)",
    "GET /meetings/{meeting_id}": "Verslag van een casusoverleg opgevraagd (API)",
    "GET /meetings/{meeting_id}/agenda": "Agenda van een casusoverleg opgevraagd (API)",
    "POST /meetings/{meeting_id}/agenda": "Casus op de agenda gezet (API)",
    "DELETE /meetings/{meeting_id}/agenda/{case_id}": "Casus van de agenda gehaald (API)",
    "POST /meetings/{meeting_id}/decisions": "Besluit in het overleg vastgelegd (API)",
    "POST /meetings/{meeting_id}/conclusion": "Casusoverleg afgerond (API)",
    "GET /cases": "Werkvoorraad opgevraagd (API)",
    "GET /cases/{case_id}": "Casus opgevraagd (API)",
    "GET /cases/{case_id}/history": "Geschiedenis opgevraagd (API)",
    "GET /cases/{case_id}/personal": "Persoonsgegevens opgevraagd (API)",
    "GET /cases/{case_id}/notes": "Notities ingezien (API)",
    "GET /cases/{case_id}/fhir": "Casus als FHIR opgevraagd (API)",
    "POST /signals": "Signaal ingediend (API)",
    "POST /dashboard/rechten/inzage": "Inzageverzoek beantwoord",
    "POST /privacy/access-requests": "Inzageverzoek beantwoord (API)",
    "GET /audit/access": "Toegangslog opgevraagd (API)",
}

PURPOSES = {
    Purpose.CARE: "zorg",
    Purpose.COORDINATION: "coördinatie",
    Purpose.AUDIT: "controle",
    Purpose.RESEARCH: "onderzoek",
    Purpose.OPERATIONS: "beheer",
    Purpose.REPAIR: "herstel",
    Purpose.FAMILY_CONTACT: "contact met de familie",
    Purpose.SAFETY: "veiligheid (Meldcode)",
    Purpose.RIGHTS: "rechten van de betrokkene (AVG)",
}

ACTIONS = {
    AccessAction.CREATE: "aanmaken",
    AccessAction.READ: "inzien",
    AccessAction.UPDATE: "wijzigen",
    AccessAction.DELETE: "verwijderen",
    AccessAction.EXECUTE: "uitvoeren",
    AccessAction.READ_PERSONAL_DATA: "persoonsgegevens inzien",
}

OUTCOMES = {"allowed": "toegestaan", "denied": "geweigerd", "error": "fout"}


def step_of(entry: AccessEntry) -> str | None:
    """The Dutch name of the step an entry records, or None when it has none here."""
    method, _, rest = entry.object.partition(" ")
    path = rest.split("?", 1)[0].split(" ", 1)[0]
    known = _REQUESTS.get(f"{method} {path}")
    if known:
        return known
    for prefix in ("/dashboard/casus/{case_id}/", "/cases/{case_id}/"):
        if method == "POST" and path.startswith(prefix):
            return _CASE_COMMANDS.get(path.removeprefix(prefix))
    return None


def purpose_of(entry: AccessEntry) -> str:
    return PURPOSES.get(entry.purpose, entry.purpose.value)


def action_of(entry: AccessEntry) -> str:
    return ACTIONS.get(entry.action, entry.action.value)
