"""An escalation lifts the consent check only for the organisations it names and its purpose:
over the HTTP API and on the dashboard's case page, on a real SQLite store and read models."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import pytest

from adapters.persistence.sqlite_views import SqliteViewDatabase
from tests.integration.test_dashboard_pages import sign_in
from tests.integration.test_http_read_models import project, viewed  # noqa: F401
from tests.integration.test_http_stack import KERKRADE, Api

Viewed = tuple[Api, SqliteViewDatabase]
VEILIG_THUIS, JGZ = "veilig-thuis-zuid-limburg", "ggd-zuid-limburg"
SCORES = {
    "bodily_functions": 6,
    "mental_wellbeing": 4,
    "meaningfulness": 6,
    "quality_of_life": 3,
    "participation": 5,
    "daily_functioning": 4,
}


@pytest.fixture
def web(viewed: Viewed) -> Viewed:  # noqa: F811
    return viewed


def _post(api: Api, case_id: UUID, step: str, body: dict[str, Any]) -> Any:
    return api.client.post(
        f"/cases/{case_id}/{step}",
        json=body,
        headers=api.auth("kerkrade") | api.if_match(case_id),
    )


def _escalation(organisations: list[str], purpose: str = "discussion") -> dict[str, Any]:
    return {
        "meldcode_step": "consult",
        "legal_basis": "Wmo 2015 art. 5.2.6",
        "justification": "Acute zorgen over de veiligheid, overleg met Veilig Thuis.",
        "organisations": organisations,
        "purpose": purpose,
    }


def _discussion(api: Api, participants: list[str]) -> dict[str, Any]:
    today = api.engine.referrals.clock().date().isoformat()
    return {"on": today, "participants": participants, "scores": SCORES, "needs": ["safety"]}


def test_an_escalation_over_http_lifts_consent_only_for_whom_and_what_it_names(
    web: Viewed,
) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)

    # An escalation that names nobody is refused: it would lift the check in general.
    nobody = _post(api, case_id, "escalation", _escalation([]))
    assert nobody.status_code == 422
    assert api.engine.referrals.get_case(case_id).version == 1

    done = _post(api, case_id, "escalation", _escalation([VEILIG_THUIS]))
    assert done.status_code == 200, done.text

    # JGZ is neither in a consent nor in the escalation: refused, named in the reason.
    refused = _post(api, case_id, "discussion", _discussion(api, [VEILIG_THUIS, JGZ]))
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"cannot record a discussion for case {case_id}: the family has not consented; "
        f"the escalation does not name {JGZ} (state: escalated)"
    )

    discussed = _post(api, case_id, "discussion", _discussion(api, [VEILIG_THUIS]))
    assert discussed.status_code == 200, discussed.text

    # The purpose was a discussion: matching support stays refused, even with Veilig Thuis.
    match = _post(
        api,
        case_id,
        "support-match",
        {
            "offer_ids": ["schuldhulpverlening"],
            "lead_professional": "Maatschappelijk werker",
            "planned_start": api.engine.referrals.clock().date().isoformat(),
        },
    )
    assert match.status_code == 409
    assert "the escalation does not name schuldhulp-parkstad" in match.json()["detail"]

    # The event and the case view record whom and what for.
    project(api, db)
    view = api.client.get(f"/cases/{case_id}", headers=api.auth("kerkrade")).json()
    assert [(e["organisations"], e["purpose"]) for e in view["escalations"]] == [
        ([VEILIG_THUIS], "discussion")
    ]
    escalated = next(e for e in view["timeline"] if e["event"] == "Escalated")
    assert escalated["details"]["organisations"] == [VEILIG_THUIS]
    assert escalated["details"]["purpose"] == "discussion"


def test_the_case_page_names_the_escalations_organisations_and_refuses_others_in_dutch(
    web: Viewed,
) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)
    project(api, db)
    csrf = sign_in(api.client, api.tokens["demo-coordinator-kerkrade"])
    url = f"/dashboard/casus/{case_id}"

    # The escalation form offers the organisations of Kerkrade by name.
    page = api.client.get(url).text
    assert f'name="organisations" value="{VEILIG_THUIS}"' in page
    assert "Veilig Thuis Zuid-Limburg</label>" in page
    assert "GGD regio Utrecht" not in page  # another region's organisation
    assert "Bespreking van de veiligheid in het Knooppunt</label>" in page
    assert "Bespreking en het organiseren van hulp</label>" in page

    escalation = {
        "csrf": csrf,
        "version": "1",
        "meldcode_step": "consult",
        "legal_basis": "Wmo 2015 art. 5.2.6",
        "justification": "Acute zorgen over de veiligheid van het ongeboren kind.",
        "purpose": "discussion",
    }
    none = api.client.post(f"{url}/escalation", data=escalation)
    assert none.status_code == 422
    assert "Organisaties van de opschaling is te kort of leeg" in none.text
    assert "Acute zorgen over de veiligheid" not in none.text  # free text is not shown back
    assert re.search(r'value="discussion" required\s+checked', none.text)  # kept

    done = api.client.post(
        f"{url}/escalation",
        data=escalation | {"organisations": VEILIG_THUIS},
        follow_redirects=False,
    )
    assert done.status_code == 303
    project(api, db)
    page = api.client.get(url).text
    assert (
        "alleen voor bespreking van de veiligheid in het Knooppunt met Veilig Thuis Zuid-Limburg"
        in page
    )
    assert "Zonder toestemming alleen voor bespreking van de veiligheid" in page  # timeline
    # The discussion offers only whom the escalation names, by name.
    assert f'name="participants" value="{VEILIG_THUIS}"' in page
    assert f'name="participants" value="{JGZ}"' not in page

    discussion = {"csrf": csrf, "version": "2", "on": "2026-11-02", "participants_other": JGZ}
    discussion |= {"participants": VEILIG_THUIS} | {f"score_{k}": str(v) for k, v in SCORES.items()}
    refused = api.client.post(f"{url}/discussion", data=discussion)
    assert refused.status_code == 409
    assert (
        "Dit kan niet zonder toestemming: de familie heeft (nog) geen toestemming gegeven, "
        "en de opschaling noemt GGD Zuid Limburg (JGZ) niet (status: Opgeschaald (Meldcode))."
    ) in refused.text
    assert api.engine.referrals.get_case(case_id).version == 2
