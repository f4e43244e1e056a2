"""The meeting pages over HTTP on a real SQLite store and real read models (no browser):
planning, the agenda per organisation, the Dutch refusal of a case without consent, the
discussion form reached from the agenda, the minutes, and the access log."""

from __future__ import annotations

import re
from uuid import UUID

import httpx

from adapters.persistence.sqlite_views import SqliteViewDatabase
from ks_engine.access_log import AccessLog, AccessQuery
from tests.integration.test_dashboard_pages import NAMES, sign_in
from tests.integration.test_http_meetings import DEBTS, consented_for
from tests.integration.test_http_read_models import project, viewed
from tests.integration.test_http_stack import KERKRADE, MIDWIFE, SCORES, Api

__all__ = ["viewed"]
Viewed = tuple[Api, SqliteViewDatabase]


def plan(api: Api, csrf: str, organisations: tuple[str, ...] = (MIDWIFE, DEBTS)) -> str:
    answer = api.client.post(
        "/dashboard/overleg",
        data={
            "csrf": csrf,
            "municipality": KERKRADE,
            "on": api.engine.referrals.clock().date().isoformat(),
            "organisations": list(organisations),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    found = re.search(
        r"/dashboard/overleg/([0-9a-f-]{36})\?gedaan=gepland", answer.headers["location"]
    )
    assert found
    return found.group(1)


def add(api: Api, csrf: str, meeting_id: str, number: str) -> httpx.Response:
    return api.client.post(
        f"/dashboard/overleg/{meeting_id}/agenda",
        data={"csrf": csrf, "casus": number},
        follow_redirects=False,
    )


def agenda_reads(api: Api, case_id: UUID) -> list[tuple[str | None, str]]:
    log: AccessLog = api.client.app.state.services.access_log
    entries = log.find(AccessQuery(case_id=case_id), limit=500).entries
    return [(e.principal_id, e.purpose.value) for e in entries if e.object.endswith("(agenda)")]


def test_the_coordinator_plans_a_meeting_and_a_case_without_consent_is_refused(
    viewed: Viewed,
) -> None:
    api, db = viewed
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    meeting_id = plan(api, csrf)
    page = api.client.get(f"/dashboard/overleg/{meeting_id}?gedaan=gepland")
    assert page.status_code == 200
    assert "Vastgelegd: het casusoverleg is gepland." in page.text
    assert "De agenda is nog leeg." in page.text
    # A case without consent, typed as the work queue shows it, is refused in Dutch
    waiting = api.signal(KERKRADE)
    refused = add(api, csrf, meeting_id, f"Casus {str(waiting)[:8]}")
    assert refused.status_code == 409
    assert (
        f"Casus {str(waiting)[:8]} op de agenda zetten kan niet: de familie heeft (nog) geen "
        "toestemming gegeven voor bespreking in het Knooppunt"
    ) in refused.text
    assert api.engine.referrals.get_meeting(UUID(meeting_id)).agenda == []
    # A consented case goes on; the list shows the meeting with its agenda
    case_id = consented_for(api, [MIDWIFE, DEBTS])
    project(api, db)
    page = api.client.get(f"/dashboard/overleg/{meeting_id}")
    assert f'name="casus" value="{case_id}"' in page.text  # offered: it waits for discussion
    added = add(api, csrf, meeting_id, str(case_id)[:8])
    assert added.status_code == 303
    listed = api.client.get("/dashboard/overleg")
    assert "1 casus, 0 besloten" in listed.text
    # The plan form offers, by name, the organisations with an offer in Kerkrade only
    assert 'value="schuldhulp-parkstad" > Schuldhulpverlening Parkstad' in listed.text
    assert "Buurtteamorganisatie Utrecht" not in listed.text
    # An unknown number is explained without repeating what was typed
    unknown = add(api, csrf, meeting_id, "999999990")
    assert unknown.status_code == 422
    assert "Geen casus met dit nummer" in unknown.text
    assert "999999990" not in unknown.text


def test_the_agenda_as_an_organisation_shows_only_its_consented_cases(viewed: Viewed) -> None:
    api, _ = viewed
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    both = consented_for(api, [MIDWIFE, DEBTS])
    debts_only = consented_for(api, [DEBTS])
    meeting_id = plan(api, csrf)
    for case_id in (both, debts_only):
        assert add(api, csrf, meeting_id, str(case_id)).status_code == 303
    whole = api.client.get(f"/dashboard/overleg/{meeting_id}")
    assert f"Casus {str(both)[:8]}" in whole.text
    assert f"Casus {str(debts_only)[:8]}" in whole.text
    # As the midwife (a medical partner): only the case naming it, risk factors but no needs
    as_midwife = api.client.get(f"/dashboard/overleg/{meeting_id}", params={"organisatie": MIDWIFE})
    assert as_midwife.status_code == 200
    assert f"Casus {str(both)[:8]}" in as_midwife.text
    assert f"Casus {str(debts_only)[:8]}" not in as_midwife.text
    assert "Risicofactoren" in as_midwife.text
    assert "Bespreken: casus" not in as_midwife.text  # a read-only, printable view
    # As debt counselling (no partner of a known domain): process information only
    as_debts = api.client.get(f"/dashboard/overleg/{meeting_id}", params={"organisatie": DEBTS})
    assert f"Casus {str(debts_only)[:8]}" in as_debts.text
    assert "Risicofactoren" not in as_debts.text
    # Every case shown was access-logged for the coordinator's purpose: three pages showed
    # the case consented for both organisations, two the one for debt counselling only
    assert agenda_reads(api, both) == [("demo-coordinator-kerkrade", "coordination")] * 3
    assert agenda_reads(api, debts_only) == [("demo-coordinator-kerkrade", "coordination")] * 2


def test_the_discussion_form_from_the_agenda_records_the_decision_and_the_discussion(
    viewed: Viewed,
) -> None:
    api, _ = viewed
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    case_id = consented_for(api, [MIDWIFE, DEBTS])
    meeting_id = plan(api, csrf)
    add(api, csrf, meeting_id, str(case_id))
    agenda = api.client.get(f"/dashboard/overleg/{meeting_id}")
    link = f"/dashboard/overleg/{meeting_id}/casus/{case_id}"
    assert link in agenda.text
    form = api.client.get(link)
    assert form.status_code == 200
    version = re.search(r'name="version" value="(\d+)"', form.text)
    assert version
    scores = {f"score_{k}": str(v) for k, v in SCORES.model_dump().items()}
    data = {
        "csrf": csrf,
        "version": version.group(1),
        "decision": "discussed",
        "participants": [MIDWIFE, DEBTS],
        "needs": ["financial"],
        "follow_up": "match_support",
        "lead_organisation": DEBTS,
    }
    # A score out of range is refused; what was typed stays and the field is marked
    wrong = api.client.post(link, data=data | scores | {"score_meaningfulness": "11"})
    assert wrong.status_code == 422
    assert "Zingeving is te hoog" in wrong.text
    assert (
        'name="score_meaningfulness" type="number" min="0" max="10" step="1" '
        'inputmode="numeric" value="11" aria-invalid="true"' in wrong.text
    )
    assert 'value="financial" checked' in wrong.text
    # The full form records the decision and the case's discussion
    done = api.client.post(link, data=data | scores, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert api.engine.referrals.get_case(case_id).state.value == "discussed"
    minutes = api.client.get(done.headers["location"])
    assert "Vastgelegd: het besluit over de casus." in minutes.text
    assert "Besproken; ondersteuning afspreken" in minutes.text
    # Concluding fixes the minutes: the forms are gone
    concluded = api.client.post(
        f"/dashboard/overleg/{meeting_id}/afronden", data={"csrf": csrf}, follow_redirects=False
    )
    assert concluded.status_code == 303
    final = api.client.get(f"/dashboard/overleg/{meeting_id}")
    assert "Afgerond (verslag vastgesteld)" in final.text
    assert "Casus op de agenda zetten" not in final.text
    assert "Besproken; ondersteuning afspreken" in final.text


def test_another_municipalitys_coordinator_and_an_auditor_see_no_meeting(viewed: Viewed) -> None:
    api, _ = viewed
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    meeting_id = plan(api, csrf)
    sign_in(api.client, api.tokens[NAMES["landgraaf"]])
    assert api.client.get(f"/dashboard/overleg/{meeting_id}").status_code == 404
    sign_in(api.client, api.tokens[NAMES["auditor"]])
    assert api.client.get(f"/dashboard/overleg/{meeting_id}").status_code == 403
