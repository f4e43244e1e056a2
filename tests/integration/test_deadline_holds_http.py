"""Deadlines that can wait over the API and the dashboard, on SQLite with its read models."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from adapters.persistence.sqlite_views import SqliteViewDatabase
from tests.conftest import FixedClock
from tests.integration.test_after_match_http import version
from tests.integration.test_dashboard_pages import NAMES, sign_in
from tests.integration.test_http_read_models import project, viewed
from tests.integration.test_http_stack import KERKRADE, Api

__all__ = ["viewed"]
Viewed = tuple[Api, SqliteViewDatabase]


def _row(api: Api, case_id: UUID) -> dict[str, object]:
    items = api.client.get("/cases", headers=api.auth("kerkrade")).json()["items"]
    return next(i for i in items if i["case_id"] == str(case_id))


def test_suspend_resume_and_extend_over_the_api(viewed: Viewed) -> None:
    api, views = viewed
    clock: FixedClock = api.engine.referrals.clock  # type: ignore[assignment]
    case_id = api.signal(KERKRADE)  # Monday 2 November 2026: due Monday 9 November
    url = f"/cases/{case_id}"
    kerkrade = api.auth("kerkrade")

    missing = api.client.post(
        f"{url}/suspension", headers=kerkrade, json={"reason": "ziek", "until": "2026-11-20"}
    )
    assert missing.status_code == 428, missing.text  # If-Match is required
    past = api.client.post(
        f"{url}/suspension",
        headers=kerkrade | version(api, case_id),
        json={"reason": "ziek", "until": "2026-11-01"},
    )
    assert past.status_code == 422, past.text
    assert "resume date must lie after today" in past.json()["detail"]
    not_suspended = api.client.post(
        f"{url}/resumption", headers=kerkrade | version(api, case_id), json={}
    )
    assert not_suspended.status_code == 409, not_suspended.text
    assert "not suspended" in not_suspended.json()["detail"]
    partner = api.client.post(
        f"{url}/suspension",
        headers=api.auth("partner") | version(api, case_id),
        json={"reason": "ziek", "until": "2026-11-20"},
    )
    assert partner.status_code in (403, 404)

    clock.advance(days=2)  # Wednesday: three working days left
    suspended = api.client.post(
        f"{url}/suspension",
        headers=kerkrade | version(api, case_id),
        json={"reason": "moeder in het ziekenhuis", "until": "2026-11-20"},
    )
    assert suspended.status_code == 200, suspended.text
    assert api.engine.referrals.get_case(case_id).state.value == "signalled"
    clock.advance(days=14)  # past the original deadline
    project(api, views)
    row = _row(api, case_id)
    assert row["next_deadline"]["suspended_until"] == "2026-11-20"  # type: ignore[index]
    assert row["overdue"] is False
    history = api.client.get(f"{url}/history", headers=kerkrade).json()["events"]
    assert history[-1]["event"] == "DeadlineSuspended"
    # The reason is free text: kept with the case in the event store, never published.
    assert "reason" not in history[-1]["details"]
    stored = [e for e in api.engine.referrals.events.get(case_id) if hasattr(e, "until")]
    assert stored[-1].reason == "moeder in het ziekenhuis"  # type: ignore[attr-defined]

    resumed = api.client.post(
        f"{url}/resumption", headers=kerkrade | version(api, case_id), json={}
    )
    assert resumed.status_code == 200, resumed.text
    project(api, views)
    row = _row(api, case_id)
    assert row["next_deadline"] == {  # Wednesday 18 November + 3 working days
        "step": "request_consent",
        "due": "2026-11-23",
        "suspended_until": None,
    }
    too_early = api.client.post(
        f"{url}/extension",
        headers=kerkrade | version(api, case_id),
        json={"reason": "meer tijd", "due": "2026-11-23"},
    )
    assert too_early.status_code == 422, too_early.text
    extended = api.client.post(
        f"{url}/extension",
        headers=kerkrade | version(api, case_id),
        json={"reason": "meer tijd", "due": "2026-11-30"},
    )
    assert extended.status_code == 200, extended.text
    twice = api.client.post(
        f"{url}/extension",
        headers=kerkrade | version(api, case_id),
        json={"reason": "nog meer tijd", "due": "2026-12-04"},
    )
    assert twice.status_code == 409, twice.text
    assert "already extended once" in twice.json()["detail"]
    project(api, views)
    assert _row(api, case_id)["next_deadline"]["due"] == "2026-11-30"  # type: ignore[index]


def _form(api: Api, case_id: UUID, csrf: str) -> dict[str, str]:
    version = api.engine.referrals.get_case(case_id).version
    return {"csrf": csrf, "version": str(version)}


def test_the_case_page_suspends_and_resumes_behind_a_disclosure(viewed: Viewed) -> None:
    api, views = viewed
    case_id = api.signal(KERKRADE)
    project(api, views)
    csrf = sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    url = f"/dashboard/casus/{case_id}"
    page = api.client.get(url).text
    assert '<details id="d-deadline"><summary>Termijn opschorten of verlengen</summary>' in page
    until = api.engine.referrals.clock().date() + timedelta(days=10)
    done = api.client.post(
        f"{url}/suspension",
        data=_form(api, case_id, csrf) | {"reason": "gezin op reis", "until": until.isoformat()},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    project(api, views)
    page = api.client.get(url).text
    assert f"opgeschort tot {until:%d-%m-%Y}" in page
    assert "Termijn hervatten" in page
    assert "Termijn opgeschort" in page  # the history names the step
    assert "gezin op reis" not in page  # free text stays in the event store
    queue = api.client.get("/dashboard/werkvoorraad").text
    assert f"opgeschort tot {until:%d-%m-%Y}" in queue
    refused = api.client.post(
        f"{url}/extension",
        data=_form(api, case_id, csrf) | {"reason": "x", "due": date(2027, 1, 4).isoformat()},
    )
    assert refused.status_code == 409
    resumed = api.client.post(
        f"{url}/resumption", data=_form(api, case_id, csrf), follow_redirects=False
    )
    assert resumed.status_code == 303
    project(api, views)
    assert "opgeschort tot" not in api.client.get(url).text


def _listed(api: Api, case_id: UUID, query: str) -> bool:
    items = api.client.get(f"/cases?{query}", headers=api.auth("kerkrade")).json()["items"]
    return any(i["case_id"] == str(case_id) for i in items)


def test_a_suspended_case_is_never_in_the_overdue_filter(viewed: Viewed) -> None:
    api, views = viewed
    clock: FixedClock = api.engine.referrals.clock  # type: ignore[assignment]
    suspended, running = api.signal(KERKRADE), api.signal(KERKRADE)  # both due 9 November
    clock.advance(days=2)
    answer = api.client.post(
        f"/cases/{suspended}/suspension",
        headers=api.auth("kerkrade") | version(api, suspended),
        json={"reason": "ziek", "until": "2026-11-20"},
    )
    assert answer.status_code == 200, answer.text
    # Long past both the original deadline and the expected resume date, never resumed: the
    # date the queue keeps for it (25 November) lies in the past, but its clock stands still.
    clock.advance(days=27)
    project(api, views)
    row = _row(api, suspended)
    assert row["overdue"] is False
    assert row["next_deadline"]["due"] < clock().date().isoformat()  # type: ignore[index]
    assert not _listed(api, suspended, "overdue=true")
    assert _listed(api, suspended, "overdue=false")
    assert _listed(api, running, "overdue=true")
    assert not _listed(api, running, "overdue=false")
    sign_in(api.client, api.tokens[NAMES["kerkrade"]])
    late = api.client.get("/dashboard/werkvoorraad/rijen?overdue=ja").text
    on_time = api.client.get("/dashboard/werkvoorraad/rijen?overdue=nee").text
    assert f'data-case="{suspended}"' not in late
    assert f'data-case="{running}"' in late
    assert f'data-case="{suspended}"' in on_time
    assert f'data-case="{running}"' not in on_time
