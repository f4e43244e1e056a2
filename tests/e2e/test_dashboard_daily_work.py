"""Daily work with many cases, in a real Chromium against `ks run --one-process` (its API in
that process: KS_API_WORKERS=1) on nats-server and SQLite.

Thirty cases of different ages and urgencies are in the event store when the engine starts
(written with a clock set back, so that some are overdue); the coordinator pages through all
of them, sorts by each column, lists closed cases, opens a case by the number the list shows,
and uses the queue on a 390 px phone. Every page visited is checked with axe-core: no
violation at all, not only no serious one.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, expect

from adapters.nats.embedded import EmbeddedNatsServer, free_port
from domain.values import Dimension, Urgency
from ks_engine.bootstrap import bootstrap
from ks_engine.clock import AMSTERDAM
from ks_engine.principals import PrincipalRegistry, Role
from ks_engine.settings import Settings
from tests.conftest import FixedClock
from tests.e2e import test_dashboard_browser as dashboard
from tests.e2e.browser import axe_violations, fits_width, screenshot
from tests.e2e.engine_process import output, start
from tests.e2e.test_dashboard_browser import (
    KERKRADE,
    KS,
    ONE_PROCESS,
    WAIT_MS,
    Stack,
    new_context,
    sign_in,
)
from tests.e2e.test_http_demo_process import stop, wait_until_serving
from tests.unit.test_projection_scenario import signal_for

browser = dashboard.browser

MANY = 30
URGENCY_RANK = {u.label: u.rank for u in Urgency}


def seed_cases(data_dir: Path, count: int) -> None:
    """``count`` Kerkrade cases signalled one a day from ``count + 10`` days ago, of mixed
    urgency, written into the event store before the engine starts (so some are overdue)."""
    clock = FixedClock(datetime.now(AMSTERDAM) - timedelta(days=count + 10))
    engine = bootstrap(Settings(data_dir=data_dir), clock=clock, configure_logs=False)
    try:
        for i in range(count):
            clock.advance(days=1)
            engine.referrals.receive_signal(
                *signal_for(KERKRADE, f"{uuid4().int:032x}", urgency=list(Urgency)[i % 3])
            )
    finally:
        engine.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`ks run` on a data directory that already holds MANY cases, some of them overdue."""
    root = tmp_path_factory.mktemp("daily-work")
    seed_cases(root, MANY)
    registry = PrincipalRegistry(root / "principals.json")
    issued = [
        registry.add(
            role=Role.COORDINATOR,
            organisation="gemeente-kerkrade",
            municipalities=[KERKRADE],
            principal_id="coordinator-kerkrade",
        ),
        registry.add(
            role=Role.AUDITOR,
            organisation="audit-zuid-limburg",
            municipalities=[KERKRADE],
            principal_id="auditor",
        ),
    ]
    port = free_port()
    with EmbeddedNatsServer(root / "nats") as server:
        proc = start(
            ONE_PROCESS, root, KS_NATS_URL=server.url, KS_API_PORT=str(port), KS_API_WORKERS="1"
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(base, proc)
            yield Stack(base, root, server.url, {i.principal.id: i.token for i in issued})
        finally:
            code = stop(proc)
        assert code == 0, output(root, "run")[-3000:]


def assert_no_violations(page: Page, name: str) -> None:
    """axe-core finds nothing on the page (any impact), and a screenshot is kept."""
    found = axe_violations(page)
    assert not found, f"axe-core on {page.url}: {found}"
    screenshot(page, name)


def total_shown(page: Page) -> int:
    caption = page.locator("table.queue caption").inner_text()
    found = re.search(r"(\d+) in totaal", caption)
    assert found, caption
    return int(found.group(1))


def wait_for_total(page: Page, url: str, at_least: int) -> int:
    """Reload ``url`` until the queue counts at least ``at_least`` cases."""
    deadline = datetime.now(UTC) + timedelta(milliseconds=WAIT_MS)
    while True:
        page.goto(url)
        total = total_shown(page)
        if total >= at_least or datetime.now(UTC) > deadline:
            return total
        page.wait_for_timeout(300)


def column(page: Page, label: str) -> list[str]:
    return page.locator(f'#queue-rows td[data-label="{label}"]').all_inner_texts()


def attribute(page: Page, name: str) -> list[str]:
    """A data attribute of every row on the page, in order (times as UTC ISO text)."""
    return page.locator("#queue-rows tr[data-case]").evaluate_all(
        f"rows => rows.map(r => new Date(r.dataset.{name}).toISOString())"
    )


def row_ids(page: Page) -> list[str]:
    return page.locator("#queue-rows tr[data-case]").evaluate_all(
        "rows => rows.map(r => r.dataset.case)"
    )


def test_a_coordinator_pages_and_sorts_every_case_and_finds_closed_ones(
    stack: Stack, browser: Browser
) -> None:
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, stack, "coordinator-kerkrade")
    expect(page.get_by_role("heading", name="Werkvoorraad")).to_be_visible()
    queue = stack.base + "/dashboard/werkvoorraad"
    total = wait_for_total(page, queue, MANY)
    assert total >= MANY
    # Paging: 25 on a page, every case exactly once over all pages
    assert len(row_ids(page)) == 25
    assert_no_violations(page, "20-werkvoorraad-pagina-1")
    seen = row_ids(page)
    page.get_by_role("link", name="Volgende pagina").click()
    expect(page).to_have_url(re.compile(r"pagina=2"))
    expect(page.get_by_role("link", name="Pagina 2")).to_have_attribute("aria-current", "page")
    seen += row_ids(page)
    assert len(seen) == total == len(set(seen))
    # Sorting by age: youngest first, then (second click) oldest first; kept in the URL
    page.goto(queue + "?urgency=")
    page.get_by_role("link", name="Leeftijd", exact=True).click()
    expect(page).to_have_url(re.compile(r"sort=age"))
    header = page.get_by_role("columnheader", name="Leeftijd", exact=True)
    expect(header).to_have_attribute("aria-sort", "ascending")
    signalled = attribute(page, "signalled")
    assert signalled == sorted(signalled, reverse=True)  # the youngest first
    page.get_by_role("link", name="Leeftijd", exact=True).click()
    expect(page).to_have_url(re.compile(r"sort=age&richting=af"))
    expect(header).to_have_attribute("aria-sort", "descending")
    signalled = attribute(page, "signalled")
    assert signalled == sorted(signalled)
    # Sorting by urgency, then filtering keeps the sort
    page.get_by_role("link", name="Urgentie", exact=True).click()
    ranks = [URGENCY_RANK[u.strip()] for u in column(page, "Urgentie")]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == 3
    page.get_by_label("Termijn").select_option("ja")
    page.get_by_role("button", name="Filteren").click()
    expect(page).to_have_url(re.compile(r"overdue=ja"))
    expect(page).to_have_url(re.compile(r"sort=urgency"))
    for text in column(page, "Volgende termijn"):
        assert "Te laat" in text
    # Sorting by deadline: the due dates in order, and by state in the lifecycle's order
    page.goto(queue + "?sort=deadline")
    dues = attribute(page, "due")
    assert all(dues)
    assert dues == sorted(dues)
    page.goto(queue + "?sort=state")
    expect(page.get_by_role("columnheader", name="Status", exact=True)).to_have_attribute(
        "aria-sort", "ascending"
    )
    assert_no_violations(page, "21-werkvoorraad-op-status")
    # A case number as the list shows it opens the case
    first = row_ids(page)[0]
    search = page.get_by_label("Zoeken op BSN, casusnummer of achternaam")
    search.fill(f"Casus {first[:8]}")
    page.get_by_role("button", name="Zoeken").click()
    expect(page).to_have_url(re.compile(f"/dashboard/casus/{first}$"))
    # An unknown number is answered in Dutch
    page.goto(queue)
    search.fill("Casus 0000ffff")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.get_by_role("status")).to_contain_text("Geen casus gevonden")
    assert_no_violations(page, "22-werkvoorraad-onbekend-nummer")
    # Closing a case: it leaves the open queue and is listed under "Afgesloten"
    page.goto(f"{stack.base}/dashboard/casus/{first}")
    close_case(page)
    page.goto(queue + "?state=closed")
    expect(page.locator(f'tr[data-case="{first}"]')).to_be_visible()
    expect(page.locator("table.queue caption")).to_contain_text("Afgesloten casussen")
    assert_no_violations(page, "23-werkvoorraad-afgesloten")
    page.goto(queue)
    assert first not in row_ids(page) + _all_other_pages(page)
    # A closed case still opens by its number
    search.fill(first[:8])
    page.get_by_role("button", name="Zoeken").click()
    expect(page).to_have_url(re.compile(f"/dashboard/casus/{first}$"))
    context.close()


def _all_other_pages(page: Page) -> list[str]:
    found: list[str] = []
    while page.get_by_role("link", name="Volgende pagina").count():
        page.get_by_role("link", name="Volgende pagina").click()
        found += row_ids(page)
    return found


def close_case(page: Page) -> None:
    """Close the open case page's case: behind its disclosure, with a result, confirmed."""
    closing = page.locator("form", has=page.get_by_role("heading", name="Casus afsluiten"))
    expect(closing).to_be_hidden()  # a risky step waits behind a disclosure
    page.locator("details.risky > summary", has_text="Casus afsluiten").click()
    closing.get_by_label("Resultaat").select_option(index=1)
    closing.get_by_label("Korte toelichting").fill("Gezin verhuisd naar buiten de regio")
    closing.get_by_role("button", name="Afsluiten").click()
    # Without the confirmation the browser keeps the form (the box is required)
    expect(page.locator("#case-state")).not_to_have_text("Afgesloten")
    closing.get_by_role("checkbox").check()
    closing.get_by_role("button", name="Afsluiten").click()
    expect(page.locator("#case-state")).to_have_text("Afgesloten")


def test_on_a_phone_each_case_is_a_card_with_its_deadline(stack: Stack, browser: Browser) -> None:
    context = new_context(browser, width=390, height=844)
    page = context.new_page()
    sign_in(page, stack, "coordinator-kerkrade")
    page.goto(stack.base + "/dashboard/werkvoorraad?overdue=ja")
    card = page.locator("#queue-rows tr[data-case]").first
    expect(card).to_be_visible(timeout=WAIT_MS)
    assert fits_width(page)
    deadline = card.locator('td[data-label="Volgende termijn"]')
    deadline.scroll_into_view_if_needed()
    expect(deadline).to_be_in_viewport()
    expect(deadline.get_by_text("Te laat")).to_be_in_viewport()
    box = card.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    assert_no_violations(page, "24-telefoon-werkvoorraad")
    context.close()


def test_the_live_refresh_keeps_the_focus_on_the_same_case(stack: Stack, browser: Browser) -> None:
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, stack, "coordinator-kerkrade")
    page.goto(stack.base + "/dashboard/werkvoorraad?sort=age&richting=af")
    rows = page.locator("#queue-rows tr[data-case]")
    expect(rows.first).to_be_visible(timeout=WAIT_MS)
    case_id = rows.nth(2).get_attribute("data-case")
    rows.nth(2).get_by_role("link").focus()
    # Mark the rows as they are: the refresh replaces them with new ones
    rows.evaluate_all("rows => rows.forEach(r => { r.dataset.before = '1'; })")
    page.wait_for_function(
        "() => !document.querySelector('#queue-rows tr[data-before]')", timeout=WAIT_MS
    )
    focused = page.evaluate(
        "() => { const row = document.activeElement.closest('tr');"
        " return row ? row.dataset.case : null; }"
    )
    assert focused == case_id
    context.close()


def test_saving_focuses_the_confirmation_and_the_case_prints_without_menu_or_forms(
    stack: Stack, browser: Browser
) -> None:
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, stack, "coordinator-kerkrade")
    page.goto(stack.base + "/dashboard/werkvoorraad?state=signalled")
    page.locator("#queue-rows tr[data-case] a").first.click()
    page.get_by_role("button", name="Toestemming gevraagd").click()
    confirmation = page.get_by_role("status").first
    expect(confirmation).to_contain_text("om toestemming gevraagd")
    expect(confirmation).to_be_focused()
    assert_no_violations(page, "25-casus-bevestiging")
    # Printed: the case's overview and timeline, no menu and no forms
    page.emulate_media(media="print")
    expect(page.get_by_role("heading", name="Overzicht")).to_be_visible()
    expect(page.get_by_role("navigation", name="Hoofdmenu")).to_be_hidden()
    forms = page.locator("main form")
    assert forms.count() > 0
    for i in range(forms.count()):
        expect(forms.nth(i)).to_be_hidden()
    screenshot(page, "26-casus-afdruk")
    context.close()


def test_the_auditor_reads_steps_in_dutch_newest_first_by_user_and_date(
    stack: Stack, browser: Browser
) -> None:
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, stack, "coordinator-kerkrade")
    page.goto(stack.base + "/dashboard/werkvoorraad?state=signalled")
    page.locator("#queue-rows tr[data-case] a").first.click()
    page.get_by_role("button", name="Toestemming gevraagd").click()
    expect(page.get_by_role("status").first).to_contain_text("om toestemming gevraagd")
    context.close()
    auditor = new_context(browser)
    audit = auditor.new_page()
    sign_in(audit, stack, "auditor", target="/dashboard/audit")
    expect(audit.get_by_role("heading", name="Toegangslog")).to_be_visible()
    expect(audit.locator("#verify-result")).to_contain_text("nog niet gecontroleerd")
    # `ks audit verify` runs; the page shows its result and date
    env = dict(os.environ, KS_DATA_DIR=str(stack.data_dir), KS_NATS_URL=stack.nats_url)
    verified = subprocess.run(
        [KS, "audit", "verify"], env=env, capture_output=True, text=True, check=False
    )
    assert verified.returncode in (0, 3), verified.stdout + verified.stderr
    audit.reload()
    expect(audit.locator("#verify-result")).to_contain_text("intact")
    expect(audit.locator("table.log caption")).to_contain_text("nieuwste eerst")
    times = audit.locator("table.log tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.position).filter(Boolean).map(Number)"
    )
    assert len(times) > 2
    assert times == sorted(times, reverse=True)
    # The user filter: only the coordinator's steps, named in Dutch, with role and purpose
    audit.get_by_label("Gebruiker (id)").fill("coordinator-kerkrade")
    today = datetime.now(AMSTERDAM).date().isoformat()
    audit.get_by_label("Van (datum)").fill(today)
    audit.get_by_label("Tot en met (datum)").fill(today)
    audit.get_by_role("button", name="Filteren").click()
    expect(audit).to_have_url(re.compile(r"wie=coordinator-kerkrade"))
    rows = audit.locator("table.log tbody tr")
    expect(rows.first).to_be_visible()
    assert all("coordinator-kerkrade" in t for t in rows.all_inner_texts())
    step = audit.locator("tr", has_text="Toestemming gevraagd").first
    expect(step).to_contain_text("Coördinator")
    expect(step).to_contain_text("doel: coördinatie")
    assert "/dashboard/casus/" not in audit.locator("table.log").inner_text()
    assert_no_violations(audit, "27-toegangslog-in-het-nederlands")
    # A day without entries shows none
    audit.goto(stack.base + "/dashboard/audit?van=2020-01-01&tot=2020-01-02")
    expect(audit.locator("table.log tbody")).to_contain_text("Geen regels met deze filters")
    auditor.close()


def test_a_refused_discussion_keeps_what_was_typed(stack: Stack, browser: Browser) -> None:
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, stack, "coordinator-kerkrade")
    page.goto(stack.base + "/dashboard/werkvoorraad?state=signalled")
    page.locator("#queue-rows tr[data-case] a").first.click()
    page.get_by_role("button", name="Toestemming gevraagd").click()
    consent = page.locator("form", has=page.get_by_role("heading", name="Antwoord van de familie"))
    for box in consent.get_by_role("checkbox").all():
        box.check()
    consent.get_by_role("button", name="Antwoord vastleggen").click()
    expect(page.locator("#case-state")).to_have_text("Toestemming gegeven")
    # A participant the consent does not name: the step is refused
    discussion = page.locator("form", has=page.get_by_role("heading", name="Casusbespreking"))
    scores = dict(zip(["6", "3", "7", "4", "5", "2"], list(Dimension), strict=True))
    for score, dimension in scores.items():
        discussion.get_by_label(dimension.label, exact=True).fill(score)
    discussion.get_by_role("checkbox", name="Financiën en schulden").check()
    discussion.get_by_label("Andere deelnemers").fill("organisatie-zonder-toestemming")
    discussion.get_by_role("button", name="Bespreking vastleggen").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text(
        "de toestemming van de familie geldt niet voor organisatie-zonder-toestemming"
    )
    expect(page.locator("#case-state")).to_have_text("Toestemming gegeven")
    # Everything typed is still there
    for score, dimension in scores.items():
        expect(discussion.get_by_label(dimension.label, exact=True)).to_have_value(score)
    expect(discussion.get_by_role("checkbox", name="Financiën en schulden")).to_be_checked()
    expect(discussion.get_by_label("Andere deelnemers")).to_have_value(
        "organisatie-zonder-toestemming"
    )
    assert_no_violations(page, "28-casus-geweigerde-bespreking")
    context.close()


def test_an_escalation_names_whom_and_what_for_and_the_case_page_says_so(
    stack: Stack, browser: Browser
) -> None:
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, stack, "coordinator-kerkrade")
    page.goto(stack.base + "/dashboard/werkvoorraad?state=signalled")
    page.locator("#queue-rows tr[data-case] a").first.click()
    # Escalating is behind a disclosure; it names the organisations and the purpose
    page.locator("#d-escalate summary").click()
    escalation = page.locator("form", has=page.get_by_role("heading", name="Opschalen onder"))
    escalation.get_by_label("Stap van de Meldcode").select_option("consult")
    escalation.get_by_label("Onderbouwing").fill("Acute zorgen over de veiligheid van moeder.")
    escalation.get_by_role("checkbox", name="Veilig Thuis Zuid-Limburg").check()
    escalation.get_by_role("radio", name="Bespreking van de veiligheid in het Knooppunt").check()
    assert_no_violations(page, "29-casus-opschalen")
    escalation.get_by_role("button", name="Opschalen").click()
    expect(page.locator("#case-state")).to_have_text("Opgeschaald (Meldcode)")
    expect(page.locator("dd.escalation")).to_contain_text(
        "alleen voor bespreking van de veiligheid in het Knooppunt met Veilig Thuis Zuid-Limburg"
    )
    # The discussion offers only whom the escalation names; anyone else is refused by name
    discussion = page.locator("form", has=page.get_by_role("heading", name="Casusbespreking"))
    expect(discussion.locator('input[name="participants"]')).to_have_count(1)
    discussion.get_by_role("checkbox", name="Veilig Thuis Zuid-Limburg").check()
    discussion.get_by_label("Andere deelnemers").fill("ggd-zuid-limburg")
    for score, dimension in zip(["6", "3", "7", "4", "5", "2"], list(Dimension), strict=True):
        discussion.get_by_label(dimension.label, exact=True).fill(score)
    discussion.get_by_role("button", name="Bespreking vastleggen").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "de opschaling noemt GGD Zuid Limburg (JGZ) niet"
    )
    expect(page.locator("#case-state")).to_have_text("Opgeschaald (Meldcode)")
    assert_no_violations(page, "30-casus-opschaling-geweigerde-deelnemer")
    context.close()
