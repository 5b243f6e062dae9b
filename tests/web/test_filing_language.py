"""The language of each filing, chosen by the legal officer per body at the review (among the languages the body
accepts that have a template) and changeable on a draft before its check: a Russian HRC filing without any admin
change to the catalogue; unknown or unaccepted languages refused. Real app and database (SQLite and PostgreSQL),
the documents reopened with python-docx."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import docx
import pytest
from werkzeug.datastructures import MultiDict

from tests.helpers import do, open_sample_case, stage, task
from tests.web.conftest import csrf_token
from tests.web.test_api import error, ok
from workflow.bodies import get_body
from workflow.models import Case, Filing, Review
from workflow.services.review import update_legal_facts

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
HRC = {"decision": "approve", "bodies": ["un_hrc"], "grounds": ["iccpr_21"]}
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def ready_for_review(env, ref: str) -> None:  # type: ignore[no-untyped-def]
    """Consent verified and domestic remedies exhausted a month ago: an HRC communication is admissible."""
    open_sample_case(env, ref)
    do(env, ref, "verify_consent", "ina", VERIFIED)
    with env.uow() as session:
        case = session.query(Case).filter_by(ref=ref).one()
        update_legal_facts(session, env.user(session, "lena"), case,
                           {"remedies_exhausted_on": (date.today() - timedelta(days=30)).isoformat()})


def text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    return "\n".join([p.text for p in document.paragraphs] +
                     [c.text for t in document.tables for row in t.rows for c in row.cells])


def filing_of(env, ref: str) -> Filing:  # type: ignore[no-untyped-def]
    with env.uow() as session:
        filing = session.query(Filing).join(Case).filter(Case.ref == ref).one()
        session.expunge(filing)
        return filing


def test_an_hrc_filing_in_russian_is_chosen_at_the_review_without_any_admin_change(env, login, api, staff):
    ref = "APL-LG1"
    ready_for_review(env, ref)
    lena = login("lena")
    page = lena.get(f"/cases/{ref}").get_data(as_text=True)
    select = page[page.index('name="languages.un_hrc"'):]
    select = select[:select.index("</select>")]
    # The body's languages that have a template: English and Russian (French and Spanish have none yet).
    assert re.findall(r'<option value="(\w*)"', select) == ["", "en", "ru"] and "Russian" in select
    review = task(env, ref, "legal_review")
    posted = lena.post(f"/tasks/{review.id}", data=MultiDict([
        ("decision", "approve"), ("bodies", "un_hrc"), ("grounds", "iccpr_21"), ("languages.un_hrc", "ru"),
        ("languages.osce_odihr", "ru"), ("csrf_token", csrf_token(page))]))
    assert posted.status_code == 303, posted.get_data(as_text=True)[:3000]
    with env.uow() as session:
        recorded = session.query(Review).join(Case).filter(Case.ref == ref).one()
        assert recorded.languages == {"un_hrc": "ru"}  # a body not chosen keeps no language
    do(env, ref, "approve_review", "mara", {"decision": "approve"})

    filing = filing_of(env, ref)
    assert (filing.body, filing.language) == ("un_hrc", "ru")
    document = api("GET", f"/api/v1/filings/{filing.id}/document", "lena")
    assert document.headers["Content-Disposition"].endswith(f"{ref}-un_hrc-ru-v1.docx")
    assert len(CYRILLIC.findall(text(document.data))) > 200
    with env.uow() as session:
        assert get_body(session, "un_hrc").languages == ["en", "fr", "ru", "es"]  # the catalogue as it was


def test_without_a_choice_the_filing_takes_the_bodys_first_language(env, api, staff):
    ref = "APL-LG2"
    ready_for_review(env, ref)
    do(env, ref, "legal_review", "lena", HRC)
    do(env, ref, "approve_review", "mara", {"decision": "approve"})
    assert filing_of(env, ref).language == "en"


@pytest.mark.parametrize("languages, field", [
    ({"un_hrc": "de"}, "languages.un_hrc"),  # the HRC does not accept German
    ({"un_hrc": "fr"}, "languages.un_hrc"),  # accepted, but there is no French template
    ({"un_hrc": "xx"}, "languages.un_hrc"),
    ({"nowhere": "en"}, "languages.nowhere"),
    ({"un_hrc": 7}, "languages.un_hrc"),
    ("ru", "languages"),
])
def test_an_unknown_or_unaccepted_language_is_refused_and_nothing_is_recorded(env, api, staff, languages, field):
    ref = "APL-LG3"
    ready_for_review(env, ref)
    review = task(env, ref, "legal_review")
    refused = error(api("POST", f"/api/v1/tasks/{review.id}/complete", "lena",
                        json={"data": {**HRC, "languages": languages}}), 422, "invalid")
    assert set(refused["errors"]) == {field}
    assert stage(env, ref) == "legal_review" and task(env, ref, "legal_review").id == review.id


def test_a_draft_filing_changes_language_before_its_check_and_not_after(env, api, login, staff):
    ref = "APL-LG4"
    ready_for_review(env, ref)
    do(env, ref, "legal_review", "lena", HRC)
    do(env, ref, "approve_review", "mara", {"decision": "approve"})
    filing_id = filing_of(env, ref).id
    page = login("lena").get(f"/cases/{ref}").get_data(as_text=True)
    assert f'action="/filings/{filing_id}/language"' in page and f'name="language{filing_id}-language"' in page

    refused = error(api("POST", f"/api/v1/filings/{filing_id}/language", "lena", json={"language": "fr"}), 422)
    assert set(refused["errors"]) == {"language"} and "en, ru" in refused["errors"]["language"]
    error(api("POST", f"/api/v1/filings/{filing_id}/language", "lena", json={}), 422, "invalid")

    created = ok(api("POST", f"/api/v1/filings/{filing_id}/language", "lena", json={"language": "ru"}), 201)
    assert (created["version"], created["origin"]) == (2, "generated")
    assert filing_of(env, ref).language == "ru"
    latest = api("GET", f"/api/v1/filings/{filing_id}/document", "lena")
    assert latest.headers["Content-Disposition"].endswith("-ru-v2.docx") and CYRILLIC.search(text(latest.data))

    # Through the page: back to English, a third version.
    lena = login("lena")
    page = lena.get(f"/cases/{ref}").get_data(as_text=True)
    answer = lena.post(f"/filings/{filing_id}/language", data={f"language{filing_id}-language": "en",
                                                                f"language{filing_id}-csrf_token": csrf_token(page)})
    assert answer.status_code == 303
    assert filing_of(env, ref).language == "en"

    do(env, ref, "check_filing", "leo", {"decision": "approve"})
    error(api("POST", f"/api/v1/filings/{filing_id}/language", "lena", json={"language": "ru"}), 409, "filing_frozen")
    assert filing_of(env, ref).language == "en"
