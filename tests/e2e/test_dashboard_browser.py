"""The dashboard in a real Chromium, against `ks run --one-process` on a real nats-server and
SQLite files, its API on two worker processes as `ks run` serves it.

A partner's signal is published over NATS (`ks signal send`) into the running engine; the
coordinator sees it appear in the work queue without reloading, takes the case from signalled
to support matched with the page's forms, and finds it counted on the monitoring page. Every
page visited is checked with axe-core and kept as a screenshot in test-artifacts/.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from typer.testing import CliRunner

from adapters.nats.embedded import EmbeddedNatsServer, free_port
from entrypoints.cli.main import app as cli
from ks_engine.demo import demo_bsn
from ks_engine.principals import PrincipalRegistry, Role
from ks_engine.signal_contract import example_signal
from tests.e2e.browser import (
    axe_violations,
    check_page,
    fits_width,
    require_chromium,
    screenshot,
)
from tests.e2e.engine_process import output, start
from tests.e2e.test_http_demo_process import stop, wait_until_serving

KS = str(Path(sys.executable).parent / "ks")
KERKRADE = "GM0928"
WAIT_MS = 30_000
ONE_PROCESS = ["run", "--one-process"]
"""How the browser journeys start the engine: the same components in one process. Each process
of `ks run` imports the engine, which costs seconds of CPU for every start; the separate
processes are the subject of test_ks_run_processes.py, test_engine_process.py,
test_audit_process.py, test_engine_on_postgres.py and the first test of
test_http_demo_process.py (a command over HTTP read back from the projectors' process)."""


@dataclass
class Stack:
    """`ks run` with its address, data directory, NATS url and the principals' tokens."""

    base: str
    data_dir: Path
    nats_url: str
    tokens: dict[str, str]
    bsns: list[str] = field(default_factory=list)

    def publish_signal(self, municipality: str = KERKRADE) -> str:
        """A partner's signal published over NATS with `ks signal send`; returns the BSN.

        The stack's first signal goes with `ks` as a process of its own; the others with the
        same command run in this process (each `ks` process imports the engine: seconds of
        CPU), in a thread: the browser's event loop runs in this one."""
        bsn = demo_bsn(random.Random())
        doc = example_signal(bsn, municipality=municipality, event_id=str(uuid4()))
        path = self.data_dir / f"signal-{uuid4().hex}.json"
        path.write_text(json.dumps(doc))
        env = {"KS_NATS_URL": self.nats_url, "KS_DATA_DIR": str(self.data_dir)}
        if not self.bsns:
            sent = subprocess.run(
                [KS, "signal", "send", str(path)],
                env=os.environ | env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert sent.returncode == 0, sent.stderr
        else:
            with ThreadPoolExecutor(1) as thread:
                result = thread.submit(
                    CliRunner().invoke, cli, ["signal", "send", str(path)], env=env
                ).result()
            assert result.exit_code == 0, result.output
        path.unlink()
        self.bsns.append(bsn)
        return bsn


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("dashboard")
    registry = PrincipalRegistry(root / "principals.json")
    issued = [
        registry.add(
            role=Role.COORDINATOR,
            organisation="gemeente-kerkrade",
            municipalities=[KERKRADE],
            principal_id="coordinator-kerkrade",
        ),
        registry.add(
            role=Role.COORDINATOR,
            organisation="gemeente-kerkrade",
            municipalities=[KERKRADE],
            principal_id="coordinator-kerkrade-2",
        ),
        registry.add(
            role=Role.COORDINATOR,
            organisation="gemeente-landgraaf",
            municipalities=["GM0882"],
            principal_id="coordinator-landgraaf",
        ),
        registry.add(
            role=Role.AUDITOR,
            organisation="audit-zuid-limburg",
            municipalities=[KERKRADE],
            principal_id="auditor",
        ),
        registry.add(
            role=Role.PROGRAMME_OFFICE,
            organisation="programmabureau-kansrijke-start",
            principal_id="programme-office",
        ),
        registry.add(role=Role.ADMIN, organisation="beheer-zuid-limburg", principal_id="admin"),
    ]
    port = free_port()
    with EmbeddedNatsServer(root / "nats") as server:
        proc = start(
            ONE_PROCESS,
            root,
            KS_NATS_URL=server.url,
            KS_API_PORT=str(port),
            KS_MONITORING_THRESHOLD="1",  # a single test case must show in the figures
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(base, proc)
            running = Stack(base, root, server.url, {i.principal.id: i.token for i in issued})
            yield running
        finally:
            code = stop(proc)
        log = output(root, "run")
        assert code == 0, log[-3000:]
        assert running.bsns, "no signal was published"
        for bsn in running.bsns:
            assert bsn not in log, "a BSN reached the engine's log"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


def new_context(browser: Browser, width: int = 1280, height: int = 900) -> BrowserContext:
    # The pages' CSP allows no inline script; axe-core is injected as one.
    context = browser.new_context(
        viewport={"width": width, "height": height}, bypass_csp=True, accept_downloads=True
    )
    context.set_default_timeout(WAIT_MS)
    return context


def sign_in(page: Page, stack: Stack, who: str, target: str = "/dashboard/werkvoorraad") -> None:
    page.goto(stack.base + target)
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()
    page.get_by_label("Toegangscode").fill(stack.tokens[who])
    page.get_by_role("button", name="Inloggen").click()


def queue_ids(page: Page) -> set[str]:
    return set(
        page.locator("#queue-rows tr[data-case]").evaluate_all(
            "rows => rows.map(r => r.dataset.case)"
        )
    )


def monitoring_figures(page: Page, stack: Stack) -> dict[tuple[str, str], float]:
    """Kerkrade's figures of all months from the monitoring page's CSV download."""
    page.goto(stack.base + "/dashboard/monitoring")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download als CSV").click()
    text = Path(download.value.path()).read_text("utf-8")
    figures: dict[tuple[str, str], float] = {}
    for row in csv.DictReader(io.StringIO(text)):
        assert row["municipality"] == KERKRADE
        if row["value"]:
            key = (row["measure"], row["category"])
            figures[key] = figures.get(key, 0) + float(row["value"])
    return figures


def test_a_coordinator_takes_a_new_signal_to_support_matched(
    stack: Stack, browser: Browser
) -> None:
    context = new_context(browser)
    page = context.new_page()
    # Signing in: the work queue asks for the token first
    page.goto(stack.base + "/dashboard/werkvoorraad")
    check_page(page, "01-inloggen")
    sign_in(page, stack, "coordinator-kerkrade")
    expect(page.get_by_role("heading", name="Werkvoorraad")).to_be_visible()
    before = monitoring_figures(page, stack)
    page.goto(stack.base + "/dashboard/werkvoorraad")
    known = queue_ids(page)
    # A partner signals a family over NATS; the open page shows it without a reload
    bsn = stack.publish_signal()
    new_row = page.locator("#queue-rows tr[data-case]")
    expect(new_row).to_have_count(len(known) + 1, timeout=WAIT_MS)
    expect(page.locator("#queue-status")).to_contain_text("nieuwe casus")
    (case_id,) = queue_ids(page) - known
    row = page.locator(f'tr[data-case="{case_id}"]')
    expect(row).to_contain_text("Gesignaleerd")
    expect(row).to_contain_text("Schulden en financiële problemen")
    expect(row).to_contain_text("Toestemming vragen")
    check_page(page, "02-werkvoorraad")
    # The case page: signalled, with the forms the lifecycle allows
    row.get_by_role("link").click()
    expect(page.locator("#case-state")).to_have_text("Gesignaleerd")
    check_page(page, "03-casus-gesignaleerd")
    assert bsn not in page.content()
    stale = context.new_page()  # a second tab, left on the case as it is now
    stale.goto(page.url)
    page.get_by_role("button", name="Toestemming gevraagd").click()
    expect(page.get_by_role("status").first).to_contain_text("om toestemming gevraagd")
    expect(page.locator("#case-state")).to_have_text("Toestemming gevraagd")
    # The stale tab's action is refused, in words a coordinator understands
    stale.get_by_role("button", name="Toestemming gevraagd").click()
    expect(stale.get_by_role("alert")).to_contain_text("intussen gewijzigd door iemand anders")
    check_page(stale, "04-casus-geweigerde-actie")
    stale.close()
    # Consent given for every organisation on offer
    consent = page.locator("form", has=page.get_by_role("heading", name="Antwoord van de familie"))
    for box in consent.get_by_role("checkbox").all():
        box.check()
    consent.get_by_role("button", name="Antwoord vastleggen").click()
    expect(page.locator("#case-state")).to_have_text("Toestemming gegeven")
    # The discussion with the six Positieve Gezondheid scores and the needs found
    discussion = page.locator("form", has=page.get_by_role("heading", name="Casusbespreking"))
    # Participants by name: the reporter's source URI is not what a coordinator reads
    discussion.get_by_role("checkbox", name="Verloskundigen Parkstad").check()
    scores = {
        "Lichaamsfuncties": "6",
        "Mentaal welbevinden": "3",
        "Zingeving": "7",
        "Kwaliteit van leven": "4",
        "Meedoen": "5",
        "Dagelijks functioneren": "2",
    }
    for name, score in scores.items():
        discussion.get_by_label(name, exact=True).fill(score)
    discussion.get_by_role("checkbox", name="Financiën en schulden").check()
    discussion.get_by_role("button", name="Bespreking vastleggen").click()
    expect(page.locator("#case-state")).to_have_text("Besproken")
    chart = page.get_by_role("img", name="Positieve Gezondheid")
    expect(chart).to_be_visible()
    expect(chart).to_have_accessible_name(
        "Positieve Gezondheid: Lichaamsfuncties 6, Mentaal welbevinden 3, Zingeving 7, "
        "Kwaliteit van leven 4, Meedoen 5, Dagelijks functioneren 2"
    )
    check_page(page, "05-casus-besproken")
    # Support picked from the ranked suggestions
    support = page.locator("form", has=page.get_by_role("heading", name="Ondersteuning koppelen"))
    # Consent was given for every organisation on offer: each suggestion says it is covered
    offers = support.locator("label.offer")
    expect(offers.first).to_contain_text("Valt onder de toestemming")
    expect(support.locator(".tag.uncovered")).to_have_count(0)
    expect(support.locator("#support-facts")).to_contain_text("Regievoerende professional")
    first_offer = support.get_by_role("checkbox").first
    offer_id = first_offer.get_attribute("value")
    first_offer.check()
    support.get_by_label("Regievoerende professional").fill("Wijkverpleegkundige team Oost")
    support.get_by_role("button", name="Ondersteuning koppelen").click()
    expect(page.locator("#case-state")).to_have_text("Ondersteuning gekoppeld")
    timeline = page.locator(".timeline")
    for event in ("Signaal ontvangen", "Toestemming gevraagd", "Casus besproken"):
        expect(timeline).to_contain_text(event)
    expect(timeline).to_contain_text("Knooppunt Kerkrade (Coördinator, coordinator-kerkrade)")
    expect(timeline).to_contain_text("Deelnemers: Verloskundigen Parkstad")
    # The offer matched is not suggested again; the lead professional is shown
    support = page.locator("form", has=page.get_by_role("heading", name="Ondersteuning koppelen"))
    expect(support.locator(f'input[name="offer_ids"][value="{offer_id}"]')).to_have_count(0)
    expect(support.locator("#support-facts")).to_contain_text("Wijkverpleegkundige team Oost")
    check_page(page, "06-casus-ondersteuning-gekoppeld")
    # The monitoring page counts the match, the consent and the signal
    after = monitoring_figures(page, stack)
    assert offer_id is not None
    for key in (
        ("offers_matched", offer_id),
        ("consent", "given"),
        ("signals_by_role", "midwife"),
        ("days_to_support", "cases"),
    ):
        assert after.get(key, 0) == before.get(key, 0) + 1, key
    page.goto(stack.base + "/dashboard/monitoring")
    expect(
        page.get_by_role("heading", name="Gekoppelde ondersteuning per aanbod").first
    ).to_be_visible()
    check_page(page, "07-monitoring")
    assert bsn not in page.content()
    # After the match: the support started, was evaluated, the case closed and reopened
    page.goto(f"{stack.base}/dashboard/casus/{case_id}")
    expect(page.locator("#case-deadline")).to_contain_text("Start van de ondersteuning")
    start = page.locator("form", has=page.get_by_role("heading", name="Start van de"))
    start.get_by_label("Regievoerende professional").fill("Wijkverpleegkundige team Oost")
    start.get_by_role("button", name="Start vastleggen").click()
    expect(page.locator("#case-state")).to_have_text("Ondersteuning gestart")
    expect(page.locator("#case-deadline")).to_contain_text("Evaluatie")
    check_page(page, "08-casus-ondersteuning-gestart")
    evaluation = page.locator("form", has=page.get_by_role("heading", name="Evaluatie vastleggen"))
    evaluation.get_by_role("group", name="Financiën en schulden").get_by_label(
        "Deels behaald"
    ).check()
    for name, score in scores.items():
        evaluation.get_by_label(name, exact=True).fill(score)
    evaluation.get_by_label("Hoe verder").select_option("close")
    evaluation.get_by_role("button", name="Evaluatie vastleggen").click()
    expect(page.locator("#case-state")).to_have_text("Geëvalueerd")
    check_page(page, "09-casus-geevalueerd")
    page.locator("details.risky > summary", has_text="Casus afsluiten").click()  # rare: folded
    closing = page.locator("form", has=page.get_by_role("heading", name="Casus afsluiten"))
    expect(closing.get_by_label("Resultaat")).to_have_value("")  # no result chosen for you
    closing.get_by_label("Resultaat").select_option("support_completed")
    closing.get_by_label("Korte toelichting").fill("doelen behaald")
    closing.get_by_role("checkbox", name="Ik bevestig").check()
    closing.get_by_role("button", name="Afsluiten").click()
    expect(page.locator("#case-state")).to_have_text("Afgesloten")
    check_page(page, "10-casus-afgesloten")
    page.get_by_role("button", name="Heropenen").click()
    expect(page.locator("#case-state")).to_have_text("Gesignaleerd")
    expect(page.get_by_role("link", name=f"Casus {case_id[:8]}")).to_be_visible()
    check_page(page, "11-vervolgcasus")
    assert bsn not in page.content()
    context.close()


def test_a_coordinator_of_another_municipality_cannot_see_the_case(
    stack: Stack, browser: Browser
) -> None:
    kerkrade = new_context(browser)
    page = kerkrade.new_page()
    sign_in(page, stack, "coordinator-kerkrade")
    known = queue_ids(page)
    stack.publish_signal()
    expect(page.locator("#queue-rows tr[data-case]")).to_have_count(len(known) + 1, timeout=WAIT_MS)
    (case_id,) = queue_ids(page) - known
    page.locator(f'tr[data-case="{case_id}"]').get_by_role("link").click()
    expect(page.locator("#case-state")).to_have_text("Gesignaleerd")
    kerkrade.close()
    landgraaf = new_context(browser)
    other = landgraaf.new_page()
    # Keyboard only: the skip link first, then the token field, Enter signs in
    other.goto(stack.base + "/dashboard/werkvoorraad")
    other.keyboard.press("Tab")
    expect(other.get_by_role("link", name="Naar de inhoud")).to_be_focused()
    other.get_by_label("Toegangscode").focus()
    other.keyboard.type(stack.tokens["coordinator-landgraaf"])
    other.keyboard.press("Enter")
    expect(other.get_by_role("heading", name="Werkvoorraad")).to_be_visible()
    assert case_id not in queue_ids(other)
    check_page(other, "08-werkvoorraad-andere-gemeente")
    answer = other.goto(f"{stack.base}/dashboard/casus/{case_id}")
    assert answer is not None
    assert answer.status == 404
    expect(other.get_by_role("heading", name="Casus niet gevonden")).to_be_visible()
    check_page(other, "09-casus-niet-gevonden")
    # Signing out ends the session
    other.get_by_role("button", name="Uitloggen").click()
    expect(other.get_by_role("alert")).to_contain_text("U bent uitgelogd")
    other.goto(stack.base + "/dashboard/werkvoorraad")
    expect(other.get_by_role("heading", name="Inloggen")).to_be_visible()
    landgraaf.close()
    # The auditor reads the case's history and finds the refused look in the access log
    auditor = new_context(browser)
    audit = auditor.new_page()
    sign_in(audit, stack, "auditor", target="/dashboard/audit")
    expect(audit.get_by_role("heading", name="Toegangslog")).to_be_visible()
    check_page(audit, "10-toegangslog")
    audit.get_by_label("Geschiedenis van casus (casusnummer)").fill(case_id)
    audit.get_by_role("button", name="Geschiedenis tonen").click()
    expect(audit.get_by_role("heading", name="Geschiedenis van casus")).to_be_visible()
    expect(audit.locator(".timeline")).to_contain_text("Signaal ontvangen")
    assert audit.locator("form[method=post]").count() == 1  # only signing out
    check_page(audit, "11-geschiedenis")
    audit.get_by_role("link", name="Toegangslog van deze casus").click()
    denied = audit.locator("tr", has_text="coordinator-landgraaf")
    expect(denied).to_contain_text("geweigerd (404)")
    expect(audit.locator("tr", has_text="coordinator-kerkrade").first).to_contain_text("toegestaan")
    check_page(audit, "12-toegangslog-casus")
    auditor.close()


def zero_violations(page: Page, name: str) -> None:
    """axe-core finds nothing at all on the page (of any impact); a screenshot is kept."""
    found = axe_violations(page)
    assert found == [], f"axe-core on {page.url}: {found}"
    screenshot(page, name)


def test_the_programme_office_reads_regional_charts_and_an_administrator_keeps_the_menukaart(
    stack: Stack, browser: Browser
) -> None:
    stack.publish_signal()
    office = new_context(browser)
    page = office.new_page()
    sign_in(page, stack, "programme-office", target="/dashboard/")
    expect(page.get_by_role("heading", name="Regionale monitoring: Zuid-Limburg")).to_be_visible()
    page.get_by_label("Periode").select_option("year")
    page.get_by_role("button", name="Tonen").click()
    families = page.get_by_role("heading", name=re.compile(r"^Gezinnen gesignaleerd, per melder, "))
    expect(families.first).to_be_visible(timeout=WAIT_MS)
    # Each chart's labels are whole: no text of an SVG is cut off at the chart's left edge.
    clipped = page.locator("svg.bars text").evaluate_all(
        "texts => texts.filter(t => t.getBBox().x < 0).map(t => t.textContent)"
    )
    assert clipped == []
    expect(page.locator("table.figures").first).to_contain_text("Kerkrade")
    zero_violations(page, "16-regionale-monitoring")
    assert fits_width(page)
    answer = page.goto(stack.base + "/dashboard/werkvoorraad")
    assert answer is not None
    assert answer.status == 403
    office.close()
    beheer = new_context(browser)
    admin = beheer.new_page()
    sign_in(admin, stack, "admin", target="/dashboard/")
    expect(admin.get_by_role("heading", name="Menukaart beheren")).to_be_visible()
    zero_violations(admin, "17-menukaart-beheren")
    admin.get_by_role("link", name="Nieuw aanbod toevoegen").click()
    admin.get_by_label("Code (kleine letters, cijfers en streepjes, bijvoorbeeld taalmaatje)").fill(
        "taalmaatje"
    )
    admin.get_by_label("Naam").fill("Taalmaatje")
    admin.get_by_label("Aanbieder").select_option(label="Home-Start")
    admin.get_by_label("Beschrijving").fill("Een vrijwilliger oefent wekelijks Nederlands.")
    admin.get_by_role("group", name="Fasen").get_by_label("Na de geboorte").check()
    admin.get_by_role("group", name="Gemeenten waar het aanbod beschikbaar is").get_by_label(
        "Vaals"
    ).check()
    zero_violations(admin, "18-menukaart-nieuw-aanbod")
    admin.get_by_role("button", name="Opslaan").click()
    expect(admin.get_by_role("status")).to_contain_text("Het aanbod is opgeslagen")
    admin.get_by_role("link", name="Taalmaatje wijzigen").click()
    admin.get_by_label("Naam").fill("Taalmaatje Parkstad")
    admin.get_by_role("button", name="Opslaan").click()
    expect(admin.locator("table.figures")).to_contain_text("Taalmaatje Parkstad")
    zero_violations(admin, "19-menukaart-gewijzigd")
    beheer.close()


def test_the_pages_fit_a_tablet(stack: Stack, browser: Browser) -> None:
    stack.publish_signal()
    context = new_context(browser, width=768, height=1024)
    page = context.new_page()
    sign_in(page, stack, "coordinator-kerkrade")
    expect(page.get_by_role("heading", name="Werkvoorraad")).to_be_visible()
    expect(page.locator("#queue-rows tr[data-case]").first).to_be_visible(timeout=WAIT_MS)
    assert fits_width(page)
    screenshot(page, "13-tablet-werkvoorraad")
    page.locator("#queue-rows tr[data-case]").first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Acties")).to_be_visible()
    assert fits_width(page)
    check_page(page, "14-tablet-casus")
    page.goto(stack.base + "/dashboard/monitoring")
    assert fits_width(page)
    screenshot(page, "15-tablet-monitoring")
    context.close()


def test_the_accessibility_check_finds_what_a_page_lacks(browser: Browser) -> None:
    context = new_context(browser)
    page = context.new_page()
    page.set_content(
        '<html><body><img src="x.png"><input type="text">'
        '<p style="color:#bbb;background:#fff">grijs op wit</p></body></html>'
    )
    found = {v["id"]: v["impact"] for v in axe_violations(page)}
    context.close()
    assert found["image-alt"] == "critical"
    assert found["label"] == "critical"
    assert found["color-contrast"] == "serious"
    assert "html-has-lang" in found


def test_a_coordinator_finds_a_family_and_shows_its_details_on_request(
    stack: Stack, browser: Browser
) -> None:
    # A midwife signals a family over NATS: the mother with her name, phone and birth date,
    # the co-parent with his own BSN and name, the expected child.
    rng = random.Random()
    bsn, co_parent = demo_bsn(rng), demo_bsn(rng)
    doc = example_signal(bsn, event_id=str(uuid4()), co_parent_bsn=co_parent)
    doc["data"]["person"].update(
        name="Yara Bloemendaal", birth_date="1998-03-14", phone="0612345670"
    )
    doc["data"]["household"]["co_parent"]["name"] = "Daan Bloemendaal"
    path = stack.data_dir / f"signal-{uuid4().hex}.json"
    path.write_text(json.dumps(doc))
    env = dict(os.environ, KS_NATS_URL=stack.nats_url, KS_DATA_DIR=str(stack.data_dir))
    sent = subprocess.run(
        [KS, "signal", "send", str(path)], env=env, capture_output=True, text=True
    )
    path.unlink()
    assert sent.returncode == 0, sent.stderr
    stack.bsns += [bsn, co_parent]
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, stack, "coordinator-kerkrade")
    expect(page.get_by_role("search", name="Casus zoeken")).to_be_visible()
    # Searching by the co-parent's BSN finds the family's case (once the intake stored it)
    search = page.get_by_role("search", name="Casus zoeken")
    for _ in range(60):
        search.get_by_label("Zoeken op BSN, casusnummer of achternaam").fill(co_parent)
        search.get_by_role("button", name="Zoeken").click()
        expect(page.get_by_role("heading", name="Zoekresultaten")).to_be_visible()
        if page.locator("#search-results").count():
            break
        page.wait_for_timeout(500)
        search = page.get_by_role("search", name="Casus zoeken")
    results = page.locator("#search-results tbody tr")
    expect(results).to_have_count(1)
    assert co_parent not in page.content()
    check_page(page, "13-zoekresultaten")
    assert axe_violations(page) == []  # none at all, of any impact
    # By family name and birth date, too
    search = page.get_by_role("search", name="Casus zoeken")
    search.get_by_label("Zoeken op BSN, casusnummer of achternaam").fill("bloemendaal")
    search.get_by_label("Geboortedatum (bij zoeken op naam)").fill("1998-03-14")
    search.get_by_role("button", name="Zoeken").click()
    expect(page.locator("#search-results tbody tr")).to_have_count(1)
    assert "Bloemendaal" not in page.content()
    # The case page shows the household, never a name; the details only on request
    page.locator("#search-results tbody tr").get_by_role("link").click()
    expect(page.locator("#household-members")).to_contain_text("Andere ouder")
    expect(page.locator("#household-members")).to_contain_text("Ongeboren kind")
    expect(page.locator("#lawful-basis")).to_contain_text("Aanmelding na toestemming")
    assert "Bloemendaal" not in page.content()
    check_page(page, "14-casus-gezin")
    assert axe_violations(page) == []  # none at all, of any impact
    page.get_by_label("Doel").select_option("family_contact")
    page.get_by_role("button", name="Toon persoonsgegevens").click()
    details = page.locator("#personal-details")
    expect(details).to_contain_text("Yara Bloemendaal")
    expect(details).to_contain_text("Daan Bloemendaal")
    expect(details).to_contain_text("0612345670")
    expect(page.get_by_role("status")).to_contain_text("Contact opnemen met het gezin")
    check_page(page, "15-persoonsgegevens")
    assert axe_violations(page) == []  # none at all, of any impact
    context.close()


def test_a_coordinator_takes_a_case_hands_one_on_and_keeps_sealed_notes(
    stack: Stack, browser: Browser
) -> None:
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, stack, "coordinator-kerkrade")
    expect(page.get_by_role("heading", name="Werkvoorraad")).to_be_visible()
    known = queue_ids(page)
    stack.publish_signal()
    stack.publish_signal()
    expect(page.locator("#queue-rows tr[data-case]")).to_have_count(len(known) + 2, timeout=WAIT_MS)
    mine, theirs = sorted(queue_ids(page) - known)
    # The case page names no owner yet; the coordinator takes the case
    page.goto(f"{stack.base}/dashboard/casus/{mine}")
    expect(page.locator("#case-owner")).to_have_text("Niet toegewezen")
    assign = page.locator("form", has=page.get_by_role("heading", name="Casus toewijzen"))
    assign.get_by_label("Coördinator").select_option("")
    assign.get_by_role("button", name="Toewijzen").click()
    expect(page.get_by_role("status").first).to_contain_text("toegewezen")
    expect(page.locator("#case-owner")).to_have_text("U (coordinator-kerkrade)")
    # A note, then the notes shown only for a chosen purpose
    page.get_by_label("Notitie", exact=True).fill("Moeder liever bellen na 18 uur.")
    page.get_by_role("button", name="Notitie opslaan").click()
    expect(page.get_by_role("status").first).to_contain_text("notitie")
    expect(page.locator("#notities")).not_to_contain_text("Moeder liever bellen")
    page.get_by_label("Reden om de notities in te zien").select_option("coordination")
    page.get_by_role("button", name="Notities tonen").click()
    expect(page.locator("#notes-list")).to_contain_text("Moeder liever bellen na 18 uur.")
    expect(page.locator("#notities")).to_contain_text("Coördinatie van de casus")
    check_page(page, "16-casus-notities")
    assert axe_violations(page) == []  # none at all, of any impact
    # The other case goes to a colleague of the same Knooppunt
    page.goto(f"{stack.base}/dashboard/casus/{theirs}")
    assign = page.locator("form", has=page.get_by_role("heading", name="Casus toewijzen"))
    assign.get_by_label("Coördinator").select_option("coordinator-kerkrade-2")
    assign.get_by_role("button", name="Toewijzen").click()
    expect(page.locator("#case-owner")).to_have_text("coordinator-kerkrade-2")
    # The work queue's owner filters, kept in the URL
    page.goto(f"{stack.base}/dashboard/werkvoorraad")
    page.get_by_label("Eigenaar").select_option("mijn")
    page.get_by_role("button", name="Filteren").click()
    expect(page).to_have_url(re.compile(r"toewijzing=mijn"))
    expect(page.locator(f'tr[data-case="{mine}"]')).to_be_visible()
    expect(page.locator(f'tr[data-case="{theirs}"]')).to_have_count(0)
    check_page(page, "17-werkvoorraad-mijn-casussen")
    assert axe_violations(page) == []
    page.get_by_label("Eigenaar").select_option("niemand")
    page.get_by_role("button", name="Filteren").click()
    expect(page).to_have_url(re.compile(r"toewijzing=niemand"))
    expect(page.locator(f'tr[data-case="{mine}"]')).to_have_count(0)
    expect(page.locator(f'tr[data-case="{theirs}"]')).to_have_count(0)
    context.close()
