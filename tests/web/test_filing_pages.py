"""Filing versions on the case page (real app and database, no mocks): each version with its date and size, a
frozen marker once the filing is checked, .docx downloads and the case's zip for intake and legal (audited), PDF
copies where LibreOffice is installed, and no PDF link (a 409 for the address) on a server without it."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from sqlalchemy import select

from filings import wording_sha256
from filings.pdf import office
from tests.helpers import do, filing_in_check, is_a4, letters, read_pdf, require_office
from workflow.models import AuditEvent, Filing

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
UN_SP = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"]}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REF = "APL-401"


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


@pytest.fixture
def filing_id(env, staff) -> int:  # type: ignore[no-untyped-def]
    return filing_in_check(env, REF)


def versions_cell(page: str) -> str:
    section = page[page.index('id="h-filings"'):]
    return section[:section.index("</section>")]


def downloads(env) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ("document_downloaded", "filing_bundle_downloaded"))).order_by(AuditEvent.id)))


def test_versions_are_listed_and_download_as_docx(env, login, filing_id):
    lena = login("lena")
    filings = versions_cell(text_of(lena.get(f"/cases/{REF}")))
    link = f"/filings/{filing_id}/versions/1"
    assert "version 1" in filings and "KB" in filings and f'href="{link}"' in filings
    assert "frozen" not in filings
    # The wording the version was generated from, by the hash of its template file.
    wording = wording_sha256("un_sp", "en")
    assert f"wording {wording[:12]}" in filings and wording in filings
    assert ("format=pdf" in filings) is (office() is not None)
    response = lena.get(link)
    assert response.status_code == 200 and response.mimetype == DOCX
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert any(p.text for p in docx.Document(io.BytesIO(response.data)).paragraphs)
    [event] = downloads(env)
    assert event.data["filing_id"] == filing_id and event.data["version"] == 1 and event.data["channel"] == "web"
    assert "filing, version 1 (DOCX)" in text_of(lena.get(f"/cases/{REF}/history"))


def test_a_revised_filing_keeps_its_versions_and_the_checked_one_is_frozen(env, login, filing_id):
    do(env, REF, "check_filing", "lena", {"decision": "revise"})
    ina = login("ina")
    filings = versions_cell(text_of(ina.get(f"/cases/{REF}")))
    assert "version 1" in filings and "version 2" in filings and "frozen" not in filings
    do(env, REF, "check_filing", "leo", {"decision": "approve"})
    filings = versions_cell(text_of(ina.get(f"/cases/{REF}")))
    assert re.search(r"version 2.*frozen", filings, re.S) and not re.search(r"version 1[^\n]*frozen", filings)
    with env.uow() as session:
        assert session.get(Filing, filing_id).state == "checked"
    for version in (1, 2):
        assert ina.get(f"/filings/{filing_id}/versions/{version}").status_code == 200
    assert ina.get(f"/filings/{filing_id}/versions/3").status_code == 404
    assert ina.get("/filings/999/versions/1").status_code == 404


def test_the_case_zip_holds_the_latest_version_and_is_audited(env, login, filing_id):
    do(env, REF, "check_filing", "lena", {"decision": "revise"})
    ina = login("ina")
    page = text_of(ina.get(f"/cases/{REF}"))
    assert f'href="/cases/{REF}/filings.zip"' in page and "Download all filings and annexes (zip)" in page
    response = ina.get(f"/cases/{REF}/filings.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        filings = [n for n in archive.namelist() if n.startswith("filings/")]
    assert filings == [f"filings/{REF}-un_sp-en-v2.docx"]
    [event] = downloads(env)
    assert (event.action, event.object_id) == ("filing_bundle_downloaded", REF)
    assert "Filings and annexes downloaded (zip)" in text_of(ina.get(f"/cases/{REF}/history"))


def test_a_pdf_copy_is_converted_read_back_and_audited(env, login, filing_id):
    require_office()
    lena = login("lena")
    assert f"/filings/{filing_id}/versions/1?format=pdf" in versions_cell(text_of(lena.get(f"/cases/{REF}")))
    response = lena.get(f"/filings/{filing_id}/versions/1?format=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Disposition"].endswith(f"{REF}-un_sp-en-v1.pdf")
    sizes, text = read_pdf(response.data)
    assert sizes and all(is_a4(size) for size in sizes) and letters(REF) in letters(text)
    [event] = downloads(env)
    assert event.data["format"] == "pdf" and event.data["version"] == 1


def test_without_libreoffice_there_is_no_pdf_link_and_a_pdf_is_refused_unaudited(env, login, filing_id,
                                                                                 monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: the server has no soffice to run
    assert office() is None
    lena = login("lena")
    assert "format=pdf" not in versions_cell(text_of(lena.get(f"/cases/{REF}")))
    response = lena.get(f"/filings/{filing_id}/versions/1?format=pdf")
    assert response.status_code == 409 and "LibreOffice" in text_of(response)
    assert downloads(env) == []
