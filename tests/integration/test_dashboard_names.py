"""The case page names organisations: consent offers those working in the case's municipality
by name; the overview, timeline and participants show names, not ids; support suggestions say
whether the consent covers them. On a real SQLite store and read models (no browser)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from adapters.http.dashboard.labels import day
from adapters.persistence.sqlite_views import SqliteViewDatabase
from tests.integration.test_dashboard_pages import sign_in
from tests.integration.test_http_read_models import project, viewed  # noqa: F401
from tests.integration.test_http_stack import KERKRADE, MIDWIFE, Api

Viewed = tuple[Api, SqliteViewDatabase]


@pytest.fixture
def web(viewed: Viewed) -> Viewed:  # noqa: F811
    return viewed


def shown_text(html: str) -> str:
    """What a reader sees: the page without its tags and attribute values."""
    return re.sub(r"<[^>]*>", " ", html)


def offer_label(html: str, offer_id: str) -> str:
    """The text of the suggestion of one offer on the support form."""
    found = re.search(rf'value="{offer_id}"[^>]*>(.*?)</label>', html, re.S)
    assert found, f"{offer_id} is not suggested"
    return " ".join(shown_text(found.group(1)).split())


def test_consent_offers_the_municipality_s_organisations_by_name_and_the_page_names_them(
    web: Viewed,
) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)
    api.advance(case_id, "consent_requested")
    project(api, db)
    csrf = sign_in(api.client, api.tokens["demo-coordinator-kerkrade"])
    url = f"/dashboard/casus/{case_id}"

    page = api.client.get(url).text
    scope = dict(re.findall(r'name="scope" value="([^"]+)"[^>]*>\s*([^<]+?)\s*</label>', page))
    # The reporter, by name, once: the box stands for its source and its menukaart provider id
    assert scope[f"{MIDWIFE} verloskunde-parkstad"] == "Verloskundigen Parkstad"
    assert list(scope.values()).count("Verloskundigen Parkstad") == 1
    assert scope["veilig-thuis-zuid-limburg"] == "Veilig Thuis Zuid-Limburg"
    assert scope["schuldhulp-parkstad"] == "Schuldhulpverlening Parkstad"
    assert "ggd-regio-utrecht" not in scope
    assert "buurtteam-utrecht" not in scope
    assert all(name not in org.split() for org, name in scope.items())  # each has its name
    assert MIDWIFE not in shown_text(page)  # the URI only as a form value, never as text

    given = {
        "csrf": csrf,
        "version": "2",
        "decision": "given",
        "scope": [f"{MIDWIFE} verloskunde-parkstad", "schuldhulp-parkstad"],
    }
    done = api.client.post(f"{url}/consent", data=given, follow_redirects=False)
    assert done.status_code == 303, done.text
    project(api, db)
    page = api.client.get(url).text
    text = " ".join(shown_text(page).split())
    assert "voor Verloskundigen Parkstad, Schuldhulpverlening Parkstad" in text  # overview
    assert "Geldt voor: Verloskundigen Parkstad, Schuldhulpverlening Parkstad" in text  # timeline
    assert "Door: Knooppunt Kerkrade" in text
    assert "Verloskundige (Verloskundigen Parkstad)" in text  # the signal, overview and timeline
    participants = dict(
        re.findall(r'name="participants" value="([^"]+)"[^>]*>\s*([^<]+?)\s*</label>', page)
    )
    assert participants == {
        f"{MIDWIFE} verloskunde-parkstad": "Verloskundigen Parkstad",
        "schuldhulp-parkstad": "Schuldhulpverlening Parkstad",
    }
    assert MIDWIFE not in shown_text(page)

    discussion = {"csrf": csrf, "version": "3", "on": "2026-11-02", "needs": "financial"}
    discussion |= {"participants": [f"{MIDWIFE} verloskunde-parkstad", "schuldhulp-parkstad"]}
    discussion |= {f"score_{d}": "5" for d in _DIMENSIONS}
    assert api.client.post(f"{url}/discussion", data=discussion).status_code in (200, 303)
    project(api, db)
    text = " ".join(shown_text(api.client.get(url).text).split())
    assert "Deelnemers: Verloskundigen Parkstad, Schuldhulpverlening Parkstad" in text


_DIMENSIONS = (
    "bodily_functions",
    "mental_wellbeing",
    "meaningfulness",
    "quality_of_life",
    "participation",
    "daily_functioning",
)


def test_suggestions_say_what_the_consent_covers_and_leave_out_what_was_matched(
    web: Viewed,
) -> None:
    api, db = web
    case_id = api.signal(KERKRADE)
    api.advance(case_id, "discussed")  # consent for the midwife and debt counselling
    project(api, db)
    csrf = sign_in(api.client, api.tokens["demo-coordinator-kerkrade"])
    url = f"/dashboard/casus/{case_id}"
    due = api.engine.referrals.clock().date() + timedelta(days=100)

    page = api.client.get(url).text
    debts = offer_label(page, "schuldhulpverlening")
    assert debts.endswith("Valt onder de toestemming")
    voorzorg = offer_label(page, "voorzorg")
    assert voorzorg.endswith("Geen toestemming voor GGD Zuid Limburg (JGZ)")
    for offer in re.findall(r'name="offer_ids" value="([^"]+)"', page):
        reasons = re.search(rf'value="{offer}".*?<span class="hint">([^<]*)</span>', page, re.S)
        assert reasons
        labels = reasons.group(1).split(", ")
        assert len(labels) == len(set(labels)), f"{offer}: a reason repeated: {labels}"
    facts = " ".join(shown_text(page[page.index('<dl class="facts" id="support-facts"') :]).split())
    assert facts.startswith(f"Uitgerekende datum {day(due)} Regievoerende professional nog")

    # Matching an offer the consent does not cover is refused, naming the provider.
    match = {"csrf": csrf, "version": "4", "lead_professional": "Wijkverpleegkundige"}
    match |= {"planned_start": "2026-11-09"}
    refused = api.client.post(f"{url}/support-match", data=match | {"offer_ids": "voorzorg"})
    assert refused.status_code == 409
    assert (
        "Dit kan niet zonder toestemming: de toestemming van de familie geldt niet voor "
        "GGD Zuid Limburg (JGZ) (status: Besproken)."
    ) in refused.text
    assert 'value="Wijkverpleegkundige"' in refused.text  # what was typed is kept

    done = api.client.post(
        f"{url}/support-match",
        data=match | {"offer_ids": "schuldhulpverlening"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    project(api, db)
    page = api.client.get(url).text
    assert 'name="offer_ids" value="schuldhulpverlening"' not in page  # matched: not again
    assert 'name="offer_ids" value="voorzorg"' in page
    facts = " ".join(shown_text(page[page.index('<dl class="facts" id="support-facts"') :]).split())
    assert "Regievoerende professional Wijkverpleegkundige" in facts
    assert (
        'id="s-lead" name="lead_professional" type="text" required value="Wijkverpleegkundige"'
        in page
    )


def test_the_api_s_suggestions_say_whether_the_consent_covers_them(web: Viewed) -> None:
    api, _ = web
    case_id = api.signal(KERKRADE)
    api.advance(case_id, "discussed")  # consent for the midwife and debt counselling

    answer = api.client.get(f"/cases/{case_id}/support-suggestions", headers=api.auth("kerkrade"))

    assert answer.status_code == 200
    covers = {s["offer_id"]: s["consent_covers"] for s in answer.json()}
    assert covers["schuldhulpverlening"] is True
    assert covers["voorzorg"] is False  # GGD Zuid Limburg is not in the consent
