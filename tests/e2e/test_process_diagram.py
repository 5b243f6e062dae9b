"""In a real browser: the vendored bpmn-js viewer draws each shipped process (a case with filings shows case.bpmn
and filing.bpmn, a collective complaint collective_complaint.bpmn) without an import warning, the case page of a
case at legal review marks `legal_review` as ready, and the strict CSP reports no violation."""

from __future__ import annotations

import re

from tests.e2e.test_review_flow import sign_in

AT_LEGAL_REVIEW = "APL-012"  # demo cases APL-012..017 wait at legal review (workflow/services/demo.py PLANS)
WITH_FILINGS = "APL-027"  # awaiting a response: its filings' processes run


def drawn(page) -> list[dict[str, str | None]]:  # type: ignore[no-untyped-def]
    """Each diagram of the page once the script has finished with it."""
    page.wait_for_selector(".process-diagram")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.process-diagram')].every(e => e.dataset.state)")
    return [{"diagram": e.get_attribute("data-diagram-url"), "state": e.get_attribute("data-state"),
             "warnings": e.get_attribute("data-import-warnings"), "position": e.get_attribute("data-position")}
            for e in page.query_selector_all(".process-diagram")]


def zoom_of(page) -> float:  # type: ignore[no-untyped-def]
    """The scale of the first diagram's viewport (bpmn-js draws it as an SVG matrix transform)."""
    transform = page.get_attribute(".process-diagram .djs-container svg g.viewport", "transform") or ""
    found = re.match(r"matrix\(([-\d.e]+)", transform)
    assert found is not None, transform
    return float(found.group(1))


def centre_of(page) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    box = page.locator(".process-diagram-canvas").first.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def marked(page, marker: str) -> list[str | None]:  # type: ignore[no-untyped-def]
    return [e.get_attribute("data-element-id") for e in page.query_selector_all(f".djs-element.{marker}")]


def test_each_process_is_drawn_and_the_case_at_legal_review_shows_where_it_stands(server, browser, shoot):
    page = sign_in(browser, server, "lara")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda err: problems.append(str(err)))

    page.goto(f"{server}/cases/{AT_LEGAL_REVIEW}")
    assert page.inner_text(".case-meta .stage").strip() == "Legal review"
    diagrams = drawn(page)
    assert [d["diagram"] for d in diagrams] == [f"/cases/{AT_LEGAL_REVIEW}/diagram/case"]
    assert diagrams[0]["state"] == "drawn" and diagrams[0]["warnings"] == "0" and diagrams[0]["position"] is None
    assert marked(page, "pos-ready") == ["legal_review"]
    assert "verify_consent" in marked(page, "pos-done") and "review_sla" in marked(page, "pos-waiting")
    assert page.locator(".djs-connection.pos-done").count() > 0  # the completed path, flows included
    assert page.locator(".bjs-powered-by").is_visible()  # bpmn-js's licence: the watermark stays visible
    shoot(page, "process-diagram-legal-review")

    # The buttons zoom; the mouse wheel over the diagram scrolls the page instead of zooming the diagram.
    fitted = zoom_of(page)
    page.mouse.move(*centre_of(page))
    page.mouse.wheel(0, 200)
    assert zoom_of(page) == fitted
    page.get_by_role("button", name="Zoom in").click()
    assert zoom_of(page) > fitted * 1.2
    page.get_by_role("button", name="Whole diagram").click()
    assert abs(zoom_of(page) - fitted) < 1e-6

    page.goto(f"{server}/cases/{WITH_FILINGS}")
    diagrams = drawn(page)
    assert [re.sub(r"/cases/[^/]+/", "", d["diagram"] or "") for d in diagrams] == [
        "diagram/case", *["diagram/filing"] * (len(diagrams) - 1)] and len(diagrams) >= 2
    assert all(d["state"] == "drawn" and d["warnings"] == "0" and d["position"] is None for d in diagrams)
    assert "await_response" in marked(page, "pos-waiting")
    shoot(page, "process-diagram-filings")

    page.goto(f"{server}/collective")
    page.click("main table a[href^='/collective/']")
    page.wait_for_url(re.compile(r"/collective/\d+$"))
    diagrams = drawn(page)
    assert [d["diagram"].rsplit("/", 1)[1] for d in diagrams] == ["collective_complaint", "filing"]  # type: ignore[union-attr]
    assert all(d["state"] == "drawn" and d["warnings"] == "0" and d["position"] is None for d in diagrams)
    assert "collective_filing" in marked(page, "pos-active")

    # A CSP violation is reported on the console as an error; an import warning is logged as a warning.
    assert problems == []


def test_a_diagram_that_cannot_be_drawn_says_so_and_an_unreadable_position_leaves_it_unmarked(server, browser):
    # Another legal officer: a user's TOTP codes are spent after two sign-ins within 30 seconds, and lara signs in
    # in the test before and in test_review_flow.
    page = sign_in(browser, server, "nurlan")
    page.route("**/diagram/case", lambda route: route.fulfill(status=200, content_type="application/xml",
                                                              body="<definitions>not BPMN</definitions>"))
    page.goto(f"{server}/cases/{AT_LEGAL_REVIEW}")
    assert drawn(page)[0]["state"] == "failed"
    assert page.locator(".process-diagram-failed").is_visible()
    assert page.locator(".steps-ready li").all_inner_texts() == ["Legal review · Legal"]  # the words remain

    page.unroute("**/diagram/case")
    page.route("**/position", lambda route: route.fulfill(status=500, body="no"))
    page.goto(f"{server}/cases/{AT_LEGAL_REVIEW}")
    diagram = drawn(page)[0]
    assert (diagram["state"], diagram["warnings"], diagram["position"]) == ("drawn", "0", "failed")
    assert marked(page, "pos-ready") == [] and not page.locator(".process-diagram-failed").is_visible()
