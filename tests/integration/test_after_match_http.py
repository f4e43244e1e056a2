"""After the match over the API and the dashboard, on a real SQLite store and read models."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from adapters.persistence.sqlite_views import SqliteViewDatabase
from tests.integration.test_dashboard_pages import NAMES, sign_in
from tests.integration.test_http_read_models import project, viewed
from tests.integration.test_http_stack import KERKRADE, SCORES, Api

__all__ = ["viewed"]
Viewed = tuple[Api, SqliteViewDatabase]


def version(api: Api, case_id: UUID | str) -> dict[str, str]:
    """The If-Match header of the case's current version."""
    return {"If-Match": f'"{api.engine.referrals.get_case(UUID(str(case_id))).version}"'}


def test_the_provider_confirms_the_start_and_the_coordinator_evaluates(viewed: Viewed) -> None:
    api, views = viewed
    case_id = api.signal(KERKRADE)
    api.advance(case_id, "support_matched")
    today = api.engine.referrals.clock().date().isoformat()

    # The partner the family's consent names confirms that the support began.
    started = api.client.post(
        f"/cases/{case_id}/support-start",
        headers=api.auth("partner") | version(api, case_id),
        json={"on": today, "lead_professional": "Els"},
    )
    assert started.status_code == 200, started.text
    evaluated = api.client.post(
        f"/cases/{case_id}/evaluation",
        headers=api.auth("kerkrade") | {"If-Match": f'"{started.json()["version"]}"'},
        json={
            "on": today,
            "needs": {"financial": "met"},
            "scores": SCORES.model_dump(),
            "next_step": "close",
        },
    )
    assert evaluated.status_code == 200, evaluated.text
    project(api, views)
    view = api.client.get(f"/cases/{case_id}", headers=api.auth("kerkrade")).json()
    assert view["state"] == "evaluated"
    assert view["support_started_on"] == today
    assert view["evaluations"][0]["needs"] == {"financial": "met"}
    # The lead professional's name is not published to the case view.
    assert "Els" not in str(view)


def test_closing_needs_a_result_from_the_list_and_a_reason(viewed: Viewed) -> None:
    api, _ = viewed
    case_id = api.signal(KERKRADE)
    kerkrade = api.auth("kerkrade") | version(api, case_id)

    for body in (
        {"outcome": "no_longer_needed"},
        {"outcome": "support_started", "reason": "oude code"},
        {"reason": "geen resultaat"},
    ):
        refused = api.client.post(f"/cases/{case_id}/closure", headers=kerkrade, json=body)
        assert refused.status_code == 422, body
    assert api.engine.referrals.get_case(case_id).is_open


def test_reopening_answers_the_follow_up_case_that_links_back(viewed: Viewed) -> None:
    api, views = viewed
    case_id = api.signal(KERKRADE)
    api.advance(case_id, "closed")

    headers = api.auth("kerkrade") | version(api, case_id)
    reopened = api.client.post(f"/cases/{case_id}/reopening", headers=headers, json={})

    assert reopened.status_code == 201, reopened.text
    follow_up = reopened.json()["case_id"]
    assert reopened.headers["Location"] == f"/cases/{follow_up}"
    project(api, views)
    view = api.client.get(f"/cases/{follow_up}", headers=api.auth("kerkrade")).json()
    assert (view["state"], view["follows"]) == ("signalled", str(case_id))
    again = api.client.post(
        f"/cases/{case_id}/reopening", headers=api.auth("kerkrade") | version(api, case_id), json={}
    )
    assert again.status_code == 422


def _form(api: Api, case_id: UUID, csrf: str) -> dict[str, str]:
    version = api.engine.referrals.get_case(case_id).version
    return {"csrf": csrf, "version": str(version)}


def test_the_dashboard_records_start_evaluation_closing_and_reopening(viewed: Viewed) -> None:
    api, views = viewed
    case_id = api.signal(KERKRADE)
    api.advance(case_id, "support_matched")
    project(api, views)
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    url = f"/dashboard/casus/{case_id}"
    today = api.engine.referrals.clock().date().isoformat()
    page = api.client.get(url).text
    assert "Start van de ondersteuning vastleggen" in page
    # Every step has its deadline on the case page: here the support's start, 20 days on.
    due = api.engine.referrals.clock().date() + timedelta(days=20)
    assert f"Start van de ondersteuning, uiterlijk {due:%d-%m-%Y}" in page

    started = api.client.post(
        f"{url}/support-start",
        data=_form(api, case_id, csrf) | {"on": today, "lead_professional": "Els"},
        follow_redirects=False,
    )
    assert started.status_code == 303
    scores = {f"score_{k}": str(v) for k, v in SCORES.model_dump().items()}
    evaluation = _form(api, case_id, csrf) | scores | {"on": today, "next_step": "close"}
    none_evaluated = api.client.post(f"{url}/evaluation", data=evaluation)
    assert none_evaluated.status_code == 422
    done = api.client.post(
        f"{url}/evaluation", data=evaluation | {"need_financial": "partly"}, follow_redirects=False
    )
    assert done.status_code == 303
    closed = api.client.post(
        f"{url}/closure",
        data=_form(api, case_id, csrf)
        | {"outcome": "support_completed", "reason": "doelen behaald", "confirm": "ja"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    project(api, views)
    page = api.client.get(url).text
    assert "Ondersteuning afgerond" in page
    assert "Deels behaald" in page or "deels behaald" in page

    reopened = api.client.post(
        f"{url}/reopening", data=_form(api, case_id, csrf), follow_redirects=False
    )
    assert reopened.status_code == 303
    follow_up = reopened.headers["location"].split("/casus/")[1].split("?")[0]
    assert follow_up != str(case_id)
    project(api, views)
    page = api.client.get(f"/dashboard/casus/{follow_up}").text
    assert f'href="/dashboard/casus/{case_id}"' in page
    assert "Eerdere casus" in page
