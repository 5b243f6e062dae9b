"""Entering the facts for the filings through the case page's forms, as a person would (reusable: the filing
tests read the generated documents back against ``FILLED``).

``enter_filing_facts(client, ref)`` posts, with the page's CSRF token: the person's facts, three perpetrators,
the intake incident completed and a second incident naming perpetrators, an arrest with two custody transfers,
an ill-treatment record and two domestic remedy steps. Ids are read from the page drawn after each step.
"""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

# What the helper enters: fictional people and places only. Each value is distinctive, to be found in a document.
FILLED: dict[str, Any] = {
    "person": {"nationality": "Kazakhstan", "age": "36", "activity": "Observer for the Fictional Rights Bureau",
               "situation": "Under travel ban, summoned weekly"},
    "perpetrators": [
        {"agency": "police", "unit": "Patrol battalion 4", "position": "Captain", "name": "Fictional Officer Serik",
         "actions": "Ordered the arrest at the square"},
        {"agency": "court", "unit": "Specialised administrative court", "position": "Judge",
         "name": "Fictional Judge Dana", "actions": "Sentenced without hearing the defence"},
        {"agency": "national_security", "unit": "Regional department", "unknown_name": "y",
         "actions": "Questioned the complainant in custody"},
    ],
    # The intake incident's whole record (an edit form posts every field): the sample appeal's date and type.
    "first_incident": {"occurred_on": "2022-01-05", "types": "detention_at_rally", "city": "Almaty",
                       "place": "Republic Square, near the monument",
                       "description": "Detained at Republic Square during a peaceful rally."},
    "second_incident": {"occurred_on": "2022-01-07", "city": "Almaty", "place": "District court No. 2",
                        "types": "detention_at_rally", "description": "Sentenced to 15 days of administrative arrest."},
    "arrest": {"arrested_on": "2022-01-05", "place": "Republic Square", "forces": "Riot police in plain clothes",
               "warrant_shown": "no", "reasons_given": "None at the time of arrest",
               "legal_provision": "Article 488 of the Code of Administrative Offences", "duration": "15 days",
               "lawyer_access": "Denied for two days", "family_access": "One call on day three",
               "released_on": "2022-01-20", "release": "Released at the end of the term",
               "custody": [("Temporary detention facility of the city police", "police", "2022-01-05", "2022-01-06"),
                           ("Special detention centre No. 1", "penitentiary", "2022-01-06", "2022-01-15"),
                           ("Special detention centre No. 2", "penitentiary", "2022-01-15", "2022-01-20")]},
    "ill_treatment": {"methods": "Kept standing for ten hours", "duration": "One night", "effects": "Back injury",
                      "complaints": "To the prosecutor, 2022-01-25", "outcome": "No investigation opened",
                      "unknown_medical_evidence": "y"},
    "remedy_steps": [
        {"taken_on": "2022-01-25", "authority": "Almaty city court (appeal)", "outcome": "Appeal dismissed",
         "decided_on": "2022-02-10"},
        {"taken_on": "2022-02-20", "authority": "Prosecutor General (protest request)", "outcome": "Refused",
         "decided_on": "2022-03-15", "final": "y"},
    ],
}
TOKEN = re.compile(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"')


def page(client: FlaskClient, ref: str) -> str:
    """The case page with the panel's forms drawn (they are drawn only when asked for)."""
    response = client.get(f"/cases/{ref}?open=facts")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def token_of(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def row_ids(html: str, segment: str) -> list[int]:
    """The ids of the rows of a kind, in the page's order (from their edit forms' addresses)."""
    return list(dict.fromkeys(int(i) for i in re.findall(rf'/filing-facts/{segment}/(\d+)"', html)))


def form_data(prefix: str, values: dict[str, Any], token: str, version: str | None = None) -> dict[str, Any]:
    """The posted fields of a form of the panel: ``unknown_<name>`` ticks that field's "not known" box."""
    data: dict[str, Any] = {f"{prefix}-csrf_token": token}
    if version is not None:
        data[f"{prefix}-version"] = version
    for name, value in values.items():
        if name == "custody":
            for index, (place, authority, start, end) in enumerate(value):
                data.update({f"{prefix}-custody-{index}-place": place, f"{prefix}-custody-{index}-authority": authority,
                             f"{prefix}-custody-{index}-from_on": start, f"{prefix}-custody-{index}-to_on": end})
        else:
            data[f"{prefix}-{name}"] = value
    return data


def version_of(html: str, prefix: str) -> str:
    match = re.search(rf'name="{re.escape(prefix)}-version"[^>]*value="(\d+)"', html)
    assert match, f"no version for {prefix}"
    return match.group(1)


def post(client: FlaskClient, path: str, data: dict[str, Any], status: int = 303) -> str:
    response = client.post(path, data=data)
    assert response.status_code == status, (path, response.status_code, response.get_data(as_text=True)[:3000])
    return response.get_data(as_text=True)


def enter_filing_facts(client: FlaskClient, ref: str, filled: dict[str, Any] = FILLED) -> dict[str, list[int]]:
    """Everything in ``filled`` entered through the case page; returns the ids of the rows made, by kind."""
    base = f"/cases/{ref}/filing-facts"
    html = page(client, ref)
    token = token_of(html)
    post(client, f"{base}/person", form_data("person-new", filled["person"], token, version_of(html, "person-new")))
    for perpetrator in filled["perpetrators"]:
        post(client, f"{base}/perpetrators", form_data("perpetrators-new", perpetrator, token))
    html = page(client, ref)
    perpetrators = row_ids(html, "perpetrators")
    [first] = row_ids(html, "incidents")
    # The intake incident, completed: city, exact place and who acted.
    post(client, f"{base}/incidents/{first}", {
        **form_data(f"incidents-{first}", filled["first_incident"], token, version_of(html, f"incidents-{first}")),
        f"incidents-{first}-perpetrators": [str(perpetrators[0]), str(perpetrators[2])]})
    post(client, f"{base}/incidents", {**form_data("incidents-new", filled["second_incident"], token),
                                       "incidents-new-perpetrators": [str(perpetrators[1])]})
    html = page(client, ref)
    incidents = row_ids(html, "incidents")
    post(client, f"{base}/arrests", {**form_data("arrests-new", filled["arrest"], token),
                                     "arrests-new-incident_id": str(first)})
    post(client, f"{base}/ill-treatments", {**form_data("ill_treatments-new", filled["ill_treatment"], token),
                                            "ill_treatments-new-incident_id": str(first)})
    for step in filled["remedy_steps"]:
        post(client, f"{base}/remedy-steps", form_data("remedy_steps-new", step, token))
    html = page(client, ref)
    return {"perpetrators": perpetrators, "incidents": incidents, "arrests": row_ids(html, "arrests"),
            "ill_treatments": row_ids(html, "ill-treatments"), "remedy_steps": row_ids(html, "remedy-steps")}

