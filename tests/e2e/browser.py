"""Driving Debian's Chromium with Playwright: launch, accessibility checks, screenshots.

Playwright never downloads a browser here: it drives ``/usr/bin/chromium`` (``make test``
installs it with apt). Without it the browser tests fail and say how to install it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
BLOCKING = ("serious", "critical")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def require_chromium() -> str:
    """The Chromium executable; a failed test (never a skip) explaining how to get it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. Install it with "
            "`apt-get install -y chromium` (`make test` does this as root).",
            pytrace=False,
        )
    return str(CHROMIUM)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of WCAG 2.1 A/AA and best practice on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
            }));
        }""",
        AXE_TAGS,
    )
    return found


def assert_accessible(page: Page) -> None:
    """No serious or critical axe-core violation on the page."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core on {page.url}: {blocking}"


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_page(page: Page, name: str) -> None:
    """Every page the tests visit: axe-core finds nothing serious, and a screenshot is kept."""
    assert_accessible(page)
    screenshot(page, name)


def fits_width(page: Page) -> bool:
    """No horizontal scrolling of the page itself (tables may scroll in their own box)."""
    return bool(
        page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    )
