"""In Chromium: intake works through the consent queue with its keys, each case's two documents shown in the page
(Chromium's PDF viewer in a frame, images as images); and the consent panel of the case page fits its card at 1024
and 1366 px.

The server here has its own small organisation (so the demo's cases, which other browser tests use, stay as they
are): four imported appeals, three with both documents (PDF and PNG), one without its power of attorney.

Page actions for three cases (a click, a key press that submits, a field filled, each counts one): sign in 3 (name,
password, button), open the queue from the navigation 1, then one key press per case: 3. In all 7, 4 after sign-in.
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.conftest import clean_environ, serving

PASSWORD = "consent-queue-e2e"
SETUP = """
import base64, os, sys
from datetime import date
from workflow.config import load_settings
from workflow.db import make_engine, unit_of_work
from workflow.schemas.appeal import Appeal
from workflow.services.cases import open_case
from workflow.services.episodes import upsert_episode
from workflow.services.install import initialise
from workflow.services.users import add_user

pdf, png = base64.b64decode(sys.argv[1]), base64.b64decode(sys.argv[2])
settings = load_settings({"PETITIO_HOME": os.environ["PETITIO_HOME"]})
engine = make_engine(settings.database_url)
initialise(engine, settings)
with unit_of_work(engine) as session:
    add_user(session, None, "iris", "intake", full_name="Iris Intakova", password=sys.argv[3])
    add_user(session, None, "ilya", "intake", full_name="Ilya Priyomov", locale="ru", password=sys.argv[3])
    upsert_episode(session, None, "rally-2018-05-10", "Rally of 10 May 2018", date(2018, 5, 10), date(2018, 5, 10))
    plans = {"APL-901": {"form_of_appeal": (pdf, "foa.pdf"), "power_of_attorney": (pdf, "poa.pdf")},
             "APL-902": {"form_of_appeal": (png, "foa.png"), "power_of_attorney": (pdf, "poa.pdf")},
             "APL-903": {"form_of_appeal": (pdf, "foa.pdf"), "power_of_attorney": (png, "poa.png")},
             "APL-904": {"form_of_appeal": (pdf, "foa.pdf")}}
    for n, (ref, documents) in enumerate(plans.items()):
        appeal = Appeal(ref=ref, full_name=f"Asel Fictionova {n}", city="Almaty", episodes=("rally-2018-05-10",),
                        incident_types=("detention_at_rally",), incident_date=date(2018, 5, 10),
                        description="Detained at a peaceful rally (fictional).", form_of_appeal=None,
                        power_of_attorney=None, consent_publish_name=False, received_on=date(2018, 6, n + 1))
        open_case(session, settings, None, appeal, documents, imported=True)
"""


def pdf_bytes(title: str) -> bytes:
    """A small well-formed PDF (one page, one line of text) that Chromium's viewer draws."""
    stream = f"BT /F1 24 Tf 72 720 Td ({title}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png_bytes(width: int = 240, height: int = 320) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + bytes((x * 255 // width) for x in range(width)) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def queue_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    import base64

    home = tmp_path_factory.mktemp("consent-queue-home")
    environ = clean_environ(home)
    subprocess.run([sys.executable, "-c", SETUP, base64.b64encode(pdf_bytes("Signed form")).decode(),
                    base64.b64encode(png_bytes()).decode(), PASSWORD],
                   env=environ, check=True, capture_output=True, timeout=180)
    with serving(home, environ) as base:
        yield base, home / "petitio.sqlite3"


class Counter:
    """Page actions as a person does them: each click, key press, field filled."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> None:
        self.n += 1


def sign_in(browser, base: str, count: Counter, width: int = 1366,  # type: ignore[no-untyped-def]
            username: str = "iris"):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    count()
    page.fill("#password", PASSWORD)
    count()
    page.click("main button[type=submit]")
    count()
    page.wait_for_url(re.compile(r"/tasks$"))
    return page


def documents_shown(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each document of the case on the page -> how it is shown, once it has loaded."""
    shown = {}
    for frame_src in page.locator("iframe.cq-view").evaluate_all("els => els.map(e => e.src)"):
        frame = next(f for f in page.frames if f.url == frame_src)
        # Chromium hands a PDF to its viewer, an extension frame inside ours: the document was drawn, not downloaded.
        assert any(child.url.startswith("chrome-extension://") for child in frame.child_frames), frame_src
        shown[frame_src] = "pdf"
    for img_src, width in page.locator("img.cq-view").evaluate_all(
            "els => els.map(e => [e.src, e.complete ? e.naturalWidth : 0])"):
        assert width > 0, img_src
        shown[img_src] = "image"
    return shown


def wait_for_documents(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 10
    while True:
        try:
            return documents_shown(page)
        except (AssertionError, StopIteration):
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(100)


def database(path: Path):  # type: ignore[no-untyped-def]
    return create_engine(f"sqlite:///{path}")


def test_the_consent_queue_in_chromium(queue_server, browser, shoot):
    base, db_path = queue_server
    count = Counter()
    inline_answers: list[tuple[str, int, str, str]] = []
    page = sign_in(browser, base, count)
    # The frames' and images' own requests (Chromium's PDF viewer then reads the same bytes from its stream).
    page.on("response", lambda r: inline_answers.append(
        (r.url, r.status, r.headers.get("content-type", ""), r.headers.get("content-disposition", "")))
        if "/consent/documents/" in r.url and r.request.resource_type in ("document", "image") else None)
    assert page.locator("a.consent-queue-link, p.consent-queue-link a").count() == 1  # linked from My tasks
    page.click("nav a:text-is('Consent queue')")
    count()
    page.wait_for_url(re.compile(r"/consent/queue"))

    seen: dict[str, dict[str, str]] = {}
    for ref in ("APL-901", "APL-902", "APL-903"):
        assert page.locator("#cq-ref").inner_text().startswith(ref)
        seen[ref] = wait_for_documents(page)
        assert len(seen[ref]) == 2, seen[ref]
        shoot(page, f"consent-queue-{ref}")
        if ref == "APL-901":  # "?" shows the keys; it submits nothing
            page.keyboard.press("?")
            assert page.locator("#cq-keys").get_attribute("open") is not None
        with page.expect_navigation():
            page.keyboard.press("v")  # both verified, next case: one key press
        count()
        assert f"{ref}: consent verified." in page.inner_text(".flash")
    assert sorted(seen["APL-902"].values()) == ["image", "pdf"] == sorted(seen["APL-903"].values())
    assert count.n == 7  # 3 to sign in, 1 to open the queue, 1 per case

    # The last case lacks its power of attorney: the page says so, "v" does nothing, "m" asks for the documents.
    assert page.locator("#cq-ref").inner_text().startswith("APL-904")
    assert "Not on file" in page.inner_text(".cq-grid") and page.locator("button[data-key=v]").is_disabled()
    page.keyboard.press("v")
    page.wait_for_timeout(300)
    assert page.locator("#cq-ref").inner_text().startswith("APL-904")
    page.check("input[name=form_of_appeal_verified]")
    with page.expect_navigation():
        page.keyboard.press("m")
    assert "APL-904: documents to be requested" in page.inner_text(".flash")
    assert "No consent is waiting" in page.inner_text("main")

    # Each document's own answer (the viewer's inner frame loads the same URL again, its headers not shown).
    answered = {url: (media_type, disposition) for url, status, media_type, disposition in inline_answers
                if status == 200 and disposition}
    assert all(status == 200 for _, status, _, _ in inline_answers)
    assert len(answered) == 7 and {shown for case in seen.values() for shown in case} <= set(answered)
    assert all(d.startswith("inline") and t in ("application/pdf", "image/png") for t, d in answered.values())
    with database(db_path).connect() as conn:
        consent = dict(conn.execute(text(
            "SELECT c.ref, r.status || ':' || r.form_of_appeal_verified || r.power_of_attorney_verified "
            "FROM consent_records r JOIN cases c ON c.id = r.case_id")).all())
        waiting = dict(conn.execute(text(
            "SELECT c.ref, t.bpmn_id FROM human_tasks t JOIN cases c ON c.id = t.case_id "
            "WHERE t.state = 'ready'")).all())
        reads = conn.execute(text("SELECT count(*) FROM audit_events WHERE action = 'document_downloaded' "
                                  "AND data LIKE '%web_inline%'")).scalar()
    assert consent == {"APL-901": "verified:11", "APL-902": "verified:11", "APL-903": "verified:11",
                       "APL-904": "pending:10"}
    assert waiting["APL-904"] == "request_documents" and "verify_consent" not in waiting.values()
    assert reads >= 7  # every document shown, each read audited (the PDF viewer may fetch twice)
    page.context.close()


@pytest.mark.parametrize("username", ["iris", "ilya"])  # English, Russian (longer words)
@pytest.mark.parametrize("width", [1024, 1366])
def test_the_consent_panel_fits_its_card(queue_server, browser, shoot, width, username):
    base, _ = queue_server
    page = sign_in(browser, base, Counter(), width=width, username=username)
    page.goto(f"{base}/cases/APL-902?open=consent")  # the choices' form is drawn when asked for
    box = page.locator("#consent .overrides")
    assert box.count() == 1
    sizes = page.evaluate("""() => {
        const box = document.querySelector('#consent .overrides').getBoundingClientRect();
        const card = document.querySelector('#consent').getBoundingClientRect();
        return {scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth,
                box: box.right, card: card.right, selects: Math.max(...[...document.querySelectorAll(
                    '#consent .overrides select')].map(s => s.getBoundingClientRect().right))};
    }""")
    shoot(page, f"consent-panel-{width}-{username}")
    assert sizes["scroll"] <= sizes["inner"], sizes
    assert sizes["box"] <= sizes["card"] and sizes["selects"] <= sizes["card"], sizes
    page.context.close()
