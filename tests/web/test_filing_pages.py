"""Filing versions on the case page (real app and database, no mocks): each version with its date and size, a
frozen marker once the filing is checked, .docx downloads and the case's zip for intake and legal (audited), and
no PDF link on a server without LibreOffice."""

from __future__ import annotations

import io
import re
import zipfile

import docx
import pytest
from sqlalchemy import select

from filings import wording_sha256
from filings.pdf import office
from tests.helpers import do, open_sample_case, task
from workflow.models import AuditEvent, Filing

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
UN_SP = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"]}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REF = "APL-401"


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


@pytest.fixture
def filing_id(env, staff) -> int:  # type: ignore[no-untyped-def]
    """A case approved for the Special Procedures: its filing's version 1 waits for the legal check."""
    open_sample_case(env, REF)
    do(env, REF, "verify_consent", "ina", VERIFIED)
    do(env, REF, "legal_review", "lena", UN_SP)
    do(env, REF, "approve_review", "mara", {"decision": "approve"})
    return task(env, REF, "check_filing").filing_id


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
    assert "filing, version 1 (DOCX)" in text_of(lena.get(f"/cases/{REF}"))  # in the case's history


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
    assert "Filings and annexes downloaded (zip)" in text_of(ina.get(f"/cases/{REF}"))


@pytest.mark.skipif(office() is not None, reason="LibreOffice is installed: PDF copies work")
def test_a_pdf_asked_for_without_libreoffice_is_refused_and_not_audited(env, login, filing_id):
    response = login("lena").get(f"/filings/{filing_id}/versions/1?format=pdf")
    assert response.status_code == 409 and "LibreOffice" in text_of(response)
    assert downloads(env) == []


def test_managers_see_the_versions_but_do_not_download(env, login, filing_id):
    mara = login("mara")
    filings = versions_cell(text_of(mara.get(f"/cases/{REF}")))
    assert "version 1" in filings and "/filings/" not in filings and "filings.zip" not in filings
    assert mara.get(f"/filings/{filing_id}/versions/1").status_code == 403
    assert mara.get(f"/cases/{REF}/filings.zip").status_code == 403
    assert downloads(env) == []


def test_a_case_without_filings_offers_no_zip(env, login, staff):
    open_sample_case(env, "APL-402")
    lena = login("lena")
    page = text_of(lena.get("/cases/APL-402"))
    assert "filings.zip" not in page and "No filing yet." in page
    assert lena.get("/cases/APL-402/filings.zip").status_code == 404
    assert lena.get("/cases/APL-999/filings.zip").status_code == 404
