"""In a real browser: an intake clerk imports appeals from a spreadsheet and a zip of scans, checks the
preview, confirms, and sees the result; a large import shows a progress bar that polls (strict CSP, no inline
script). Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from tests.e2e.test_review_flow import sign_in
from tests.workflow.fixtures import COLUMNS, appeal_rows, fictional_pdf


def files(tmp_path: Path, prefix: str, n: int) -> tuple[Path, Path]:
    """A ;-separated Windows-1251 CSV of ``n`` appeals without an episode, and a zip of their scans."""
    rows = appeal_rows(n, missing=1)
    sheet = tmp_path / f"{prefix}.csv"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(COLUMNS)
    for row in rows:
        row["ref"] = f"{prefix}-{row['ref']}"
        for column in ("form_of_appeal", "power_of_attorney"):
            row[column] = f"{prefix}-{row[column]}" if row[column] else ""
        row["episodes"] = ""
        row["incident_date"] = row["incident_date"].strftime("%d.%m.%Y")
        writer.writerow([row[c] for c in COLUMNS])
    sheet.write_bytes(out.getvalue().encode("cp1251"))
    scans = tmp_path / f"{prefix}-scans.zip"
    with zipfile.ZipFile(scans, "w") as archive:
        for row in rows:
            for column in ("form_of_appeal", "power_of_attorney"):
                if row[column]:
                    archive.writestr(f"scans/{row[column]}", fictional_pdf(column, row["ref"]))
    return sheet, scans


def test_import_appeals_from_the_page(server, browser, shoot, tmp_path):
    page = sign_in(browser, server, "dana")
    page.click("nav a:text-is('Import appeals')")
    page.wait_for_url(re.compile(r"/imports/appeals$"))
    sheet, scans = files(tmp_path, "E2E", 5)
    page.set_input_files("#spreadsheet", str(sheet))
    page.set_input_files("#documents", str(scans))
    shoot(page, "20-import-upload")
    page.click("main button:text-is('Check the file')")
    page.wait_for_url(re.compile(r"/imports/appeals/preview$"))
    main = page.inner_text("main")
    assert "Would create: 5" in main and "read as Windows-1251" in main and "9 documents uploaded" in main
    shoot(page, "21-import-preview")
    page.click("main button:text-is('Import 5 rows')")
    page.wait_for_url(re.compile(r"/imports/jobs/\d+$"))
    assert "Finished" in page.inner_text("main") and "Created: 5" in page.inner_text("main")
    shoot(page, "22-import-result")
    page.click("main a:text-is('E2E-APL-001')")
    page.wait_for_url(re.compile(r"/cases/E2E-APL-001$"))

    # Over the inline limit: left to the worker; the page's script polls the progress (and no CSP error).
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{server}/imports/appeals")
    sheet, scans = files(tmp_path, "BIG", 55)
    page.set_input_files("#spreadsheet", str(sheet))
    page.set_input_files("#documents", str(scans))
    page.click("main button:text-is('Check the file')")
    page.wait_for_url(re.compile(r"/imports/appeals/preview$"))
    assert "Would create: 55" in page.inner_text("main")
    page.click("main button:text-is('Import 55 rows')")
    page.wait_for_url(re.compile(r"/imports/jobs/\d+$"))
    with page.expect_response(lambda response: response.url.endswith("/progress") and response.ok):
        pass
    assert page.locator("progress").count() == 1 and "Importing" in page.inner_text("main")
    shoot(page, "23-import-progress")
    assert errors == []
    page.context.close()
