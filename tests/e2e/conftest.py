"""Browser tests: a real `petitio serve` with the demo data, driven by Debian's Chromium via Playwright.

Never downloads a browser. Outside CI a machine without /usr/bin/chromium skips these tests; in CI
(CI set) a missing Chromium is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# bench/ is a folder of scripts: its stage (a Petitio served on a free port) serves these tests too.
sys.path.insert(0, str(ROOT / "bench"))
from journey_stage import PETITIO, clean_environ, serving  # noqa: E402

DEMO_PASSWORD = "petitio-demo-2026"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise pytest.UsageError("CI is set but /usr/bin/chromium is missing: browser tests cannot run")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("e2e-home")
    environ = clean_environ(home)
    for command in (["init"], ["demo"]):
        subprocess.run([str(PETITIO), *command], env=environ, check=True, capture_output=True, timeout=180)
    with serving(home, environ) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def shoot() -> object:
    """shoot(page, "name") saves a full-page screenshot under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: object, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        return path

    return take
