"""Moving house and the family's rights in a real Chromium, against `ks run --one-process` (its
API in that process: KS_API_WORKERS=1) on a real nats-server and SQLite files: a coordinator
asks a transfer, the receiving coordinator sees only the request and accepts (or refuses) it;
the privacy officer corrects, restricts and retracts. Every page is checked with axe-core and
kept as a screenshot in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from adapters.nats.embedded import EmbeddedNatsServer, free_port
from ks_engine.principals import PrincipalRegistry, Role
from tests.e2e.browser import axe_violations, screenshot
from tests.e2e.engine_process import output, start
from tests.e2e.test_dashboard_browser import (
    KERKRADE,
    ONE_PROCESS,
    WAIT_MS,
    Stack,
    browser,
    new_context,
    queue_ids,
    sign_in,
)
from tests.e2e.test_http_demo_process import stop, wait_until_serving

__all__ = ["browser"]
LANDGRAAF = "GM0882"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("rights")
    registry = PrincipalRegistry(root / "principals.json")
    people = (
        (Role.COORDINATOR, "gemeente-kerkrade", [KERKRADE], "coordinator-kerkrade"),
        (Role.COORDINATOR, "gemeente-landgraaf", [LANDGRAAF], "coordinator-landgraaf"),
        (Role.PRIVACY_OFFICER, "fg-kerkrade", [KERKRADE], "privacy-officer"),
    )
    issued = [
        registry.add(role=role, organisation=org, municipalities=where, principal_id=pid)
        for role, org, where, pid in people
    ]
    port = free_port()
    with EmbeddedNatsServer(root / "nats") as server:
        proc = start(
            ONE_PROCESS, root, KS_NATS_URL=server.url, KS_API_PORT=str(port), KS_API_WORKERS="1"
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
        for bsn in running.bsns:
            assert bsn not in log, "a BSN reached the engine's log"


def check_page(page: Page, name: str) -> None:
    """axe-core finds no violation at all on the page; a screenshot is kept."""
    assert axe_violations(page) == [], page.url
    screenshot(page, name)


def new_case(page: Page, stack: Stack) -> str:
    """A signal over NATS; its case, once the open work queue shows it."""
    page.goto(stack.base + "/dashboard/werkvoorraad")
    known = queue_ids(page)
    stack.publish_signal()
    # Shown by the page's live refresh (every few seconds): waits as long as any other step.
    expect(page.locator("#queue-rows tr[data-case]")).to_have_count(len(known) + 1, timeout=WAIT_MS)
    (case_id,) = queue_ids(page) - known
    return case_id


def ask_transfer(page: Page, stack: Stack, case_id: str) -> None:
    page.goto(f"{stack.base}/dashboard/casus/{case_id}")
    page.locator("#d-transfer summary").click()
    form = page.locator("form", has=page.get_by_role("heading", name="Overdracht aan een"))
    form.get_by_label("Nieuwe gemeente").select_option(LANDGRAAF)
    form.get_by_label("Het gezin stemt in met de overdracht").check()
    form.get_by_label("Wie stemde in").select_option("parent")
    form.get_by_label("Hoe").select_option("written")
    form.get_by_role("button", name="Overdracht vragen").click()
    expect(page.locator("#bevestiging")).to_contain_text("de overdracht is gevraagd")
    expect(page.locator("#transfer-pending")).to_contain_text("Landgraaf")


def incoming(page: Page, stack: Stack, case_id: str) -> None:
    """Reload the work queue until the transfer is listed (the views catch up)."""
    for _ in range(30):
        page.goto(stack.base + "/dashboard/werkvoorraad")
        if page.get_by_text(f"Casus {case_id[:8]} uit Kerkrade").count():
            return
        page.wait_for_timeout(500)
    raise AssertionError("the transfer never appeared in the receiving work queue")


def test_a_case_moves_to_landgraaf_and_a_refused_one_stays(stack: Stack, browser: Browser) -> None:
    kerkrade = new_context(browser).new_page()
    sign_in(kerkrade, stack, "coordinator-kerkrade")
    moved, stays = new_case(kerkrade, stack), new_case(kerkrade, stack)
    ask_transfer(kerkrade, stack, moved)
    check_page(kerkrade, "rights-01-overdracht-gevraagd")
    ask_transfer(kerkrade, stack, stays)
    landgraaf = new_context(browser).new_page()
    sign_in(landgraaf, stack, "coordinator-landgraaf")
    # Landgraaf sees the requests, not the cases
    incoming(landgraaf, stack, moved)
    incoming(landgraaf, stack, stays)
    expect(landgraaf.get_by_role("heading", name="Overdrachten voor uw gemeente")).to_be_visible()
    check_page(landgraaf, "rights-02-overdrachten-voor-landgraaf")
    landgraaf.goto(f"{stack.base}/dashboard/casus/{moved}")
    expect(landgraaf.get_by_role("heading", name="Casus niet gevonden")).to_be_visible()
    # It takes one over: the case page is Landgraaf's now
    incoming(landgraaf, stack, moved)
    landgraaf.get_by_role("button", name=f"Casus {moved[:8]} overnemen").click()
    expect(landgraaf.locator("#bevestiging")).to_contain_text("loopt nu in uw gemeente")
    expect(landgraaf.locator(".timeline")).to_contain_text(
        "Casus overgedragen aan andere gemeente", timeout=WAIT_MS
    )
    check_page(landgraaf, "rights-03-casus-overgenomen")
    # and refuses the other, which stays in Kerkrade
    incoming(landgraaf, stack, stays)
    refusal = landgraaf.get_by_label("Reden van weigering", exact=True).first
    refusal.fill("Gezin woont niet in Landgraaf")
    landgraaf.get_by_role("button", name=f"Overdracht van casus {stays[:8]} weigeren").click()
    expect(landgraaf.locator("#bevestiging")).to_contain_text("de overdracht is geweigerd")
    check_page(landgraaf, "rights-04-overdracht-geweigerd")
    kerkrade.goto(f"{stack.base}/dashboard/casus/{moved}")
    expect(kerkrade.get_by_role("heading", name="Casus niet gevonden")).to_be_visible()
    kerkrade.goto(f"{stack.base}/dashboard/casus/{stays}")
    expect(kerkrade.locator(".timeline")).to_contain_text(
        "Overdracht geweigerd door ontvangende gemeente", timeout=WAIT_MS
    )


def test_the_privacy_officer_corrects_restricts_and_retracts(
    stack: Stack, browser: Browser
) -> None:
    coordinator = new_context(browser).new_page()
    sign_in(coordinator, stack, "coordinator-kerkrade")
    case_id = new_case(coordinator, stack)
    page = new_context(browser).new_page()
    sign_in(page, stack, "privacy-officer", "/dashboard/rechten")
    expect(page.get_by_role("heading", name="Rechten van het gezin")).to_be_visible()
    check_page(page, "rights-05-rechten-zoeken")
    page.get_by_label("Casusnummer").fill(case_id[:8])
    page.get_by_role("button", name="Openen").click()
    expect(page.locator("#signals")).to_contain_text("Verloskundige")
    check_page(page, "rights-06-rechten-casus")
    # A correction: the new phone number, the reporter's note wiped
    page.locator("#d-correct summary").click()
    page.get_by_label("Telefoon", exact=True).fill("0612345678")
    page.get_by_role("checkbox", name="Toelichting van de melder wissen").check()
    page.get_by_role("button", name="Correctie vastleggen").click()
    expect(page.locator("#bevestiging")).to_contain_text("persoonsgegevens zijn gecorrigeerd")
    # Restricted and lifted again
    page.get_by_label("Grondslag").select_option("objection")
    page.get_by_role("button", name="Verwerking beperken").click()
    expect(page.locator("#restricted")).to_be_visible()
    check_page(page, "rights-07-verwerking-beperkt")
    page.get_by_role("button", name="Beperking opheffen").click()
    expect(page.locator("#bevestiging")).to_contain_text("beperking is opgeheven")
    # The only signal was about someone else: retracted, the case closes
    page.locator("#d-retract summary").click()
    page.get_by_label("Melding", exact=True).select_option("1")
    page.get_by_label("Ging over een andere persoon (verkeerd BSN)").check()
    page.get_by_role("button", name="Melding intrekken").click()
    expect(page.locator("#bevestiging")).to_contain_text("de melding is ingetrokken")
    expect(page.get_by_text("Alle meldingen van deze casus zijn ingetrokken.")).to_be_visible()
    expect(page.locator("#retractions")).to_contain_text("Melding 1")
    check_page(page, "rights-08-melding-ingetrokken")
    for bsn in stack.bsns:
        assert bsn not in page.content()


def test_the_privacy_officer_answers_an_access_request_from_a_typed_bsn(
    stack: Stack, browser: Browser
) -> None:
    coordinator = new_context(browser).new_page()
    sign_in(coordinator, stack, "coordinator-kerkrade")
    case_id = new_case(coordinator, stack)
    bsn = stack.bsns[-1]
    page = new_context(browser).new_page()
    sign_in(page, stack, "privacy-officer", "/dashboard/rechten")
    # A number that fails the elfproef is refused in Dutch and not echoed
    page.get_by_label("BSN van de persoon").fill("123456788")
    page.get_by_role("button", name="Inzage maken").click()
    expect(page.locator("#rights-message")).to_contain_text("geen geldig BSN")
    assert "123456788" not in page.content()
    check_page(page, "rights-09-inzage-geweigerd")
    # The person's BSN gives the printable report of their case
    page.get_by_label("BSN van de persoon").fill(bsn)
    page.get_by_role("button", name="Inzage maken").click()
    expect(
        page.get_by_role("heading", name="Inzage in uw gegevens (AVG artikel 15)")
    ).to_be_visible()
    expect(page.get_by_text(f"Casus {case_id[:8]}").first).to_be_visible()
    check_page(page, "rights-10-inzage")
    assert bsn not in page.content()
    assert page.url.endswith("/dashboard/rechten/inzage")
    assert bsn not in page.url
