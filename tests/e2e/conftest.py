"""Browser tests: a real `petitio serve` with the demo data, driven by Debian's Chromium via Playwright.

Never downloads a browser. Outside CI a machine without /usr/bin/chromium skips these tests; in CI
(CI set) a missing Chromium is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PETITIO = Path(sys.executable).with_name("petitio")
DEMO_PASSWORD = "petitio-demo-2026"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise pytest.UsageError("CI is set but /usr/bin/chromium is missing: browser tests cannot run")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("e2e-home")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PETITIO_") and k != "DATABASE_URL"}
    environ.update(PETITIO_HOME=str(home), TZ="UTC")
    for command in (["init"], ["demo"]):
        subprocess.run([str(PETITIO), *command], env=environ, check=True, capture_output=True, timeout=180)
    port = _free_port()
    log = (home / "serve.log").open("w")
    process = subprocess.Popen([str(PETITIO), "serve", "--port", str(port)], env=environ, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"petitio serve did not start: {(home / 'serve.log').read_text()[-2000:]}") \
                    from None
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)
    log.close()


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
