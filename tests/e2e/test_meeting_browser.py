"""The Knooppunt meeting in a real Chromium, against `ks run --one-process` (the dashboard
tests' fixture) on a real nats-server and SQLite.

Two partners' signals arrive over NATS; the coordinator gets the family's consent for one,
plans a meeting, is refused (in Dutch) when putting the other on the agenda, discusses the
consented case from the agenda, reads the agenda as an attending organisation, prints it and
concludes the meeting; the case page shows the case as it stood at a chosen moment. axe-core
finds no violation on any page.
"""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import fits_width
from tests.e2e.test_dashboard_browser import (
    WAIT_MS,
    Stack,
    browser,
    new_context,
    queue_ids,
    sign_in,
    stack,
    zero_violations,
)

__all__ = ["browser", "stack"]  # the same fixtures: `ks run --one-process`, and Chromium


def new_case(page: Page, stack: Stack) -> str:
    """A partner's signal over NATS; the case's id once the work queue shows it."""
    page.goto(stack.base + "/dashboard/werkvoorraad")
    known = queue_ids(page)
    stack.publish_signal()
    # Shown by the page's live refresh (every few seconds): waits as long as any other step.
    expect(page.locator("#queue-rows tr[data-case]")).to_have_count(len(known) + 1, timeout=WAIT_MS)
    (case_id,) = queue_ids(page) - known
    return case_id


def give_consent(page: Page, stack: Stack, case_id: str) -> None:
    page.goto(f"{stack.base}/dashboard/casus/{case_id}")
    page.get_by_role("button", name="Toestemming gevraagd").click()
    expect(page.locator("#case-state")).to_have_text("Toestemming gevraagd")
    consent = page.locator("form", has=page.get_by_role("heading", name="Antwoord van de familie"))
    for box in consent.get_by_role("checkbox").all():
        box.check()
    consent.get_by_role("button", name="Antwoord vastleggen").click()
    expect(page.locator("#case-state")).to_have_text("Toestemming gegeven")


def test_a_coordinator_plans_a_meeting_discusses_a_case_and_prints_the_agenda(
    stack: Stack, browser: Browser
) -> None:
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, stack, "coordinator-kerkrade")
    expect(page.get_by_role("heading", name="Werkvoorraad")).to_be_visible()
    consented, waiting = new_case(page, stack), new_case(page, stack)
    give_consent(page, stack, consented)
    # Plan a meeting for today with every organisation on offer
    page.get_by_role("link", name="Casusoverleg").click()
    expect(page.get_by_role("heading", name="Casusoverleg", exact=True)).to_be_visible()
    zero_violations(page, "m01-overleggen")
    plan = page.locator("form", has=page.get_by_role("heading", name="Overleg plannen"))
    for box in plan.get_by_role("checkbox").all():
        box.check()
    plan.get_by_role("button", name="Overleg plannen").click()
    expect(page.get_by_role("status")).to_contain_text("het casusoverleg is gepland")
    expect(page.get_by_role("status")).to_be_focused()
    meeting_url = page.url.split("?")[0]
    # A case without consent is refused, in words a coordinator understands
    adding = page.locator("form", has=page.get_by_role("heading", name="Casus op de agenda"))
    adding.get_by_label("Casusnummer").fill(f"Casus {waiting[:8]}")
    adding.get_by_role("button", name="Op de agenda").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Casus {waiting[:8]} op de agenda zetten kan niet: de familie heeft (nog) geen "
        "toestemming gegeven voor bespreking in het Knooppunt"
    )
    zero_violations(page, "m02-overleg-geweigerd")
    # The consented case goes on the agenda
    adding = page.locator("form", has=page.get_by_role("heading", name="Casus op de agenda"))
    adding.get_by_label("Casusnummer").fill(consented[:8])
    adding.get_by_role("button", name="Op de agenda").click()
    expect(page.get_by_role("status")).to_contain_text("de casus staat op de agenda")
    expect(page.get_by_role("heading", name=f"1. Casus {consented[:8]}")).to_be_visible()
    zero_violations(page, "m03-overleg-agenda")
    # The discussion form is reached from the agenda
    page.get_by_role("link", name=f"Bespreken: casus {consented[:8]}").click()
    expect(page.get_by_role("heading", name=f"Besluit over casus {consented[:8]}")).to_be_visible()
    zero_violations(page, "m04-overleg-bespreking")
    scores = ("6", "3", "7", "4", "5", "2")
    for field, score in zip(page.locator('input[type="number"]').all(), scores, strict=True):
        field.fill(score)
    page.get_by_role("checkbox", name="Financiën en schulden").check()
    page.get_by_label("Hoe verder").select_option(label="Ondersteuning afspreken")
    page.get_by_role("button", name="Besluit vastleggen").click()
    expect(page.get_by_role("status")).to_contain_text("het besluit over de casus")
    expect(page.locator(".decision")).to_have_text("Besproken; ondersteuning afspreken")
    # The case itself now has its discussion step, also in its state at a chosen moment
    page.get_by_role("link", name="Casuspagina").click()
    expect(page.locator("#case-state")).to_have_text("Besproken")
    page.get_by_role("link", name="Stand op een gekozen moment").click()
    page.get_by_label("Moment (datum en tijd)").fill("2099-01-01T00:00")
    page.get_by_role("button", name="Toon de stand").click()
    expect(page.locator("#state-then")).to_contain_text("Besproken")
    zero_violations(page, "m05a-casus-op-een-moment")
    # The agenda as an attending organisation, printed without menu or forms
    page.goto(meeting_url)
    page.get_by_label("Agenda bekijken en afdrukken als").select_option(index=1)
    page.get_by_role("button", name="Tonen").click()
    expect(page.get_by_role("heading", name="Agenda voor")).to_be_visible()
    zero_violations(page, "m05-overleg-als-organisatie")
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.get_by_role("button", name="Tonen")).to_be_hidden()
    expect(page.get_by_role("heading", name="Agenda voor")).to_be_visible()
    page.emulate_media(media="screen")
    # Concluding fixes the minutes
    page.goto(meeting_url)
    page.get_by_role("button", name="Overleg afronden").click()
    expect(page.get_by_role("status")).to_contain_text("het verslag ligt vast")
    expect(page.get_by_role("heading", name="Casus op de agenda zetten")).to_have_count(0)
    expect(page.locator(".decision")).to_have_text("Besproken; ondersteuning afspreken")
    zero_violations(page, "m06-overleg-verslag")
    # On a phone the minutes and the list of meetings fit the screen
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (meeting_url, stack.base + "/dashboard/overleg"):
        page.goto(url)
        assert fits_width(page), url
    context.close()
