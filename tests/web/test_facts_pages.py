"""The facts for the filings on the case page: a case entered through the forms (tests/web/facts_pages.py), what
each role sees and may post, errors next to their fields, stale forms, rows of another case, CSRF."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import open_sample_case
from tests.web.facts_pages import FILLED, enter_filing_facts, form_data, page, post, row_ids, token_of, version_of
from workflow.models import Case

REF = "PGF-001"


def case_of(session, ref: str = REF) -> Case:  # type: ignore[no-untyped-def]
    return session.scalar(select(Case).where(Case.ref == ref))


def test_a_case_entered_through_the_pages(env, login) -> None:
    open_sample_case(env, REF)
    ids = enter_filing_facts(login("ina"), REF)
    assert [len(ids[k]) for k in ("perpetrators", "incidents", "arrests", "ill_treatments", "remedy_steps")] == \
        [3, 2, 1, 1, 2]
    with env.uow() as session:
        case = case_of(session)
        assert case.person.nationality == "Kazakhstan" and case.person.age == "36"
        assert [p.name for p in case.perpetrators] == ["Fictional Officer Serik", "Fictional Judge Dana", None]
        assert case.perpetrators[2].unknown == ["name"]
        first, second = case.incidents
        assert (first.city, first.place) == ("Almaty", "Republic Square, near the monument")
        assert [p.id for p in first.perpetrators] == [ids["perpetrators"][0], ids["perpetrators"][2]]
        assert [p.position for p in second.perpetrators] == ["Judge"]
        [arrest] = case.arrests
        assert arrest.warrant_shown == "no" and arrest.incident_id == first.id
        assert [(c.place, c.authority) for c in arrest.custody] == [
            (place, authority) for place, authority, _start, _end in FILLED["arrest"]["custody"]]
        assert case.ill_treatments[0].unknown == ["medical_evidence"]
        assert [s.final for s in case.remedy_steps] == [False, True]
    legal = page(login("lena"), REF)
    for text in ("Facts for the filings", "Fictional Judge Dana", "Special detention centre No. 2", "Kazakhstan",
                 "Prosecutor General (protest request)", "not known"):
        assert text in legal, text
    # Managers read the rows by kind, code and date, not their texts nor the person's facts, and edit nothing.
    manager = page(login("mara"), REF)
    assert "Facts for the filings" in manager and "Article 488" not in manager
    assert "Fictional Officer Serik" not in manager and "Special detention centre No. 2" not in manager
    assert "Kazakhstan" not in manager and "/filing-facts/perpetrators\"" not in manager


def test_refused_input_is_shown_next_to_its_field_and_changes_nothing(env, login) -> None:
    open_sample_case(env, REF)
    client = login("lena")
    html = page(client, REF)
    token = token_of(html)
    base = f"/cases/{REF}/filing-facts"
    refused = post(client, f"{base}/perpetrators", form_data("perpetrators-new", {
        "agency": "aliens", "name": "N" * 201}, token), 422)
    assert refused.count('class="field-error"') == 2 and "Nothing was saved" in refused
    refused = post(client, f"{base}/perpetrators", form_data("perpetrators-new", {
        "agency": "police", "unknown_position": "y", "position": "Major"}, token), 422)
    assert refused.count('class="field-error"') == 1 and "marked not known" in refused
    refused = post(client, f"{base}/arrests", form_data("arrests-new", {
        "custody": [("", "police", "2022-01-05", ""), ("Centre", "", "2022-01-09", "2022-01-01")]}, token), 422)
    assert refused.count('class="field-error"') == 2
    refused = post(client, f"{base}/remedy-steps",
                   form_data("remedy_steps-new", {"authority": "Court", "taken_on": "31.02.2022"}, token), 422)
    assert "Must be a date" in refused
    post(client, f"{base}/perpetrators", {"perpetrators-new-agency": "police"}, 400)  # no CSRF token
    with env.uow() as session:
        case = case_of(session)
        assert not case.perpetrators and not case.arrests and not case.remedy_steps


def test_roles_stale_forms_other_cases_and_ended_cases(env, login) -> None:
    open_sample_case(env, REF)
    open_sample_case(env, "PGF-002")
    ina = login("ina")
    token = token_of(page(ina, REF))
    post(ina, "/cases/PGF-002/filing-facts/perpetrators", form_data("perpetrators-new", {"agency": "court"}, token))
    [theirs] = row_ids(page(ina, "PGF-002"), "perpetrators")
    post(ina, f"/cases/{REF}/filing-facts/perpetrators", form_data("perpetrators-new", {"agency": "police"}, token))
    html = page(ina, REF)
    [mine] = row_ids(html, "perpetrators")
    opened = version_of(html, f"perpetrators-{mine}")
    other = f"/cases/{REF}/filing-facts/perpetrators/{theirs}"
    for path in (other, f"{other}/remove"):
        post(ina, path, form_data(f"perpetrators-{theirs}", {"agency": "police"}, token), 404)
    mara = login("mara")
    assert mara.post(f"/cases/{REF}/filing-facts/perpetrators", data=form_data(
        "perpetrators-new", {"agency": "police"}, token_of(page(mara, REF)))).status_code == 403
    edit = f"/cases/{REF}/filing-facts/perpetrators/{mine}"
    post(ina, edit, form_data(f"perpetrators-{mine}", {"agency": "police", "unit": "A"}, token, opened))
    stale = post(ina, edit, form_data(f"perpetrators-{mine}", {"agency": "police", "unit": "B"}, token, opened), 409)
    assert "changed since" in stale
    current = version_of(page(ina, REF), f"perpetrators-{mine}")
    post(ina, f"{edit}/remove", {f"remove-perpetrators-{mine}-csrf_token": token,
                                 f"remove-perpetrators-{mine}-version": current})
    with env.uow() as session:
        assert not case_of(session).perpetrators and case_of(session, "PGF-002").perpetrators
        case_of(session, "PGF-002").stage = "closed"
    ended = post(ina, "/cases/PGF-002/filing-facts/perpetrators", form_data("perpetrators-new", {"agency": "police"},
                                                                            token), 409)
    assert "has ended" in ended
    assert "/filing-facts/perpetrators\"" not in page(ina, "PGF-002")  # no forms on an ended case


def test_the_forms_are_drawn_when_asked_for(env, login) -> None:
    """The plain case page shows the facts and a link to the forms; saving comes back to the forms."""
    open_sample_case(env, REF)
    ina = login("ina")
    plain = ina.get(f"/cases/{REF}").get_data(as_text=True)
    assert "Facts for the filings" in plain and plain.count('class="fact-row"') == 1  # the intake incident
    assert f'href="/cases/{REF}?open=facts#filing-facts"' in plain
    assert "/filing-facts/perpetrators\"" not in plain and "/filing-facts/person\"" not in plain
    html = page(ina, REF)
    assert "/filing-facts/perpetrators\"" in html and 'aria-describedby="h-filing-facts"' not in html
    saved = ina.post(f"/cases/{REF}/filing-facts/perpetrators",
                     data=form_data("perpetrators-new", {"agency": "police"}, token_of(html)))
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"/cases/{REF}?open=facts#filing-facts")
    # Roles that edit nothing get no link.
    assert 'aria-describedby="h-filing-facts"' not in page(login("mara"), REF)
