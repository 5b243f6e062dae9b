"""A case entered through the pages reaches every filing (issue 13): two incidents, three perpetrators, an arrest
with its custody transfers, ill-treatment and two domestic remedies are typed into the case page's forms by an
intake clerk; the legal review sends the case to three bodies; each generated .docx, downloaded as a legal
officer would, states each of those facts. What a filing still lacks is listed beside it on the case page."""

from __future__ import annotations

import io
import re

import docx

from tests.helpers import do, open_sample_case, task
from tests.web.facts_pages import FILLED, enter_filing_facts
from workflow.models import Filing

REF = "PGF-001"
VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
REVIEW = {"decision": "approve", "bodies": ["un_sp", "un_wgad", "un_hrc"], "mandates": ["assembly"],
          "grounds": ["iccpr_9", "iccpr_21"], "wgad_categories": ["II"], "languages": {"un_hrc": "ru"}}


def document_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return " ".join("\n".join([p.text for p in document.paragraphs] + cells).split())


def test_facts_typed_into_the_pages_are_stated_by_every_filing(env, login):
    open_sample_case(env, REF)
    do(env, REF, "verify_consent", "ina", VERIFIED)
    ids = enter_filing_facts(login("ina"), REF)
    assert len(ids["perpetrators"]) == 3 and len(ids["incidents"]) == 2 and len(ids["remedy_steps"]) == 2
    do(env, REF, "legal_review", "lena", REVIEW)
    do(env, REF, "approve_review", "mara", {"decision": "approve"})
    with env.uow() as session:
        filings = {f.body: (f.id, f.language) for f in session.query(Filing).filter(Filing.case_id.isnot(None))}
    assert set(filings) == {"un_sp", "un_wgad", "un_hrc"} and filings["un_hrc"][1] == "ru"

    lena = login("lena")
    texts = {}
    for body, (filing_id, _language) in filings.items():
        response = lena.get(f"/filings/{filing_id}/versions/1")
        assert response.status_code == 200, (body, response.status_code)
        texts[body] = document_text(response.data)

    arrest = FILLED["arrest"]
    everywhere = [p["name"] for p in FILLED["perpetrators"] if "name" in p] + \
        [p["unit"] for p in FILLED["perpetrators"]] + \
        [FILLED["first_incident"]["place"], FILLED["second_incident"]["place"],
         arrest["legal_provision"], *(place for place, *_ in arrest["custody"]),
         *(step["authority"] for step in FILLED["remedy_steps"])]
    for body, text in texts.items():
        for value in everywhere:
            assert value in text, (body, value)
    # The Working Group's arrest and detention, as labelled paragraphs; the torture facts for the bodies that ask.
    for value in (arrest["forces"], arrest["lawyer_access"], arrest["family_access"], arrest["duration"]):
        assert value in texts["un_wgad"], value
    for body in ("un_sp", "un_hrc"):
        for value in (FILLED["ill_treatment"]["methods"], FILLED["ill_treatment"]["outcome"]):
            assert value in texts[body], (body, value)
    assert FILLED["person"]["nationality"] in texts["un_wgad"]
    assert texts["un_hrc"].startswith("Индивидуальное сообщение")  # the Russian template, chosen at the review

    # Beside each filing waiting for its check: what nobody entered or marked not known, and only that.
    assert task(env, REF, "check_filing") is not None
    page = lena.get(f"/cases/{REF}").get_data(as_text=True)
    warnings = page.split('class="flash warning lacking-facts"')[1:]
    assert len(warnings) == 3
    lacking = set(re.findall(r"<li>(.*?)</li>", warnings[0][:warnings[0].index("</div>")]))
    assert {"Perpetrators 3: Position or rank", "Arrest and detention 1: Warrant or decision issued by",
            "Organisation profile: Address"} <= lacking
    assert not any(entry.startswith(("Incidents", "Domestic remedies", "Nationality")) for entry in lacking)
