"""The dashboard, its deadline lists, the statistics page and its CSV, and the case timeline, over HTTP.

Three sample cases wait for consent verification (an intake deadline due in 7 days); the timers of two are
moved into the past, so the board shows 2 overdue and 1 due soon.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime

import pytest

from tests.helpers import expire_timers, open_sample_case

COUNT_LINK = re.compile(r'href="(/dashboard/deadlines\?[^"]+)">(\d+)</a>')


@pytest.fixture
def cases(env, staff) -> list[str]:
    refs = ["DB-1", "DB-2", "DB-3"]
    for ref in refs:
        open_sample_case(env, ref, city="Astana" if ref == "DB-3" else "Almaty")
    expire_timers(env, "DB-1")
    expire_timers(env, "DB-2")
    return refs


def count_links(page: str) -> dict[str, int]:
    return {html.unescape(href): int(n) for href, n in COUNT_LINK.findall(page)}


def rows_of(page: str) -> int:
    return page.count('class="deadline-row"')


def test_board_counts_match_the_data_and_each_link_lists_as_many_deadlines(login, cases):
    client = login("mara")
    page = client.get("/dashboard")
    assert page.status_code == 200
    links = count_links(page.get_data(as_text=True))
    assert links["/dashboard/deadlines?status=overdue"] == 2
    assert links["/dashboard/deadlines?status=due_soon"] == 1
    assert links["/dashboard/deadlines?status=overdue&by=role&key=intake"] == 2
    assert links["/dashboard/deadlines?status=due_soon&by=stage&key=consent"] == 1
    assert links["/dashboard/deadlines?status=overdue&by=officer&key=unassigned"] == 2
    for href, n in links.items():
        listed = client.get(href)
        assert listed.status_code == 200, href
        assert rows_of(listed.get_data(as_text=True)) == n, href


def test_a_deadline_list_links_each_case(login, cases):
    page = login("lena").get("/dashboard/deadlines?status=overdue&by=body&key=internal").get_data(as_text=True)
    assert rows_of(page) == 2
    assert 'href="/cases/DB-1"' in page and 'href="/cases/DB-2"' in page and "DB-3" not in page


@pytest.mark.parametrize("query", ["status=late", "status=overdue&by=colour&key=red", "status=overdue&by=role"])
def test_a_bad_list_link_is_a_clear_400(login, cases, query):
    response = login("mara").get(f"/dashboard/deadlines?{query}")
    assert response.status_code == 400
    assert "does not exist" in response.get_data(as_text=True)


def test_a_group_with_nothing_left_is_an_empty_list(login, cases):
    response = login("mara").get("/dashboard/deadlines?status=due_soon&by=body&key=nobody&page=-3")
    assert response.status_code == 200 and rows_of(response.get_data(as_text=True)) == 0


def test_the_board_and_the_statistics_are_refused_to_other_roles(login, cases):
    intake, legal = login("ina"), login("lena")
    assert intake.get("/dashboard").status_code == 403
    assert intake.get("/dashboard/deadlines?status=overdue").status_code == 403
    for path in ("/statistics", "/statistics.csv"):
        assert intake.get(path).status_code == 403 and legal.get(path).status_code == 403
    assert "/statistics" not in legal.get("/dashboard").get_data(as_text=True)  # no nav link either


def test_statistics_show_the_figures_with_server_drawn_bars(login, cases):
    page = login("mara").get("/statistics").get_data(as_text=True)
    totals = re.search(r'<dl class="facts figures stats-totals">(.*?)</dl>', page, re.S).group(1)
    assert re.search(r"<dt>Cases</dt><dd>3</dd>", totals)
    city = re.search(r'<table class="stats-table" id="cases-by-city">(.*?)</table>', page, re.S).group(1)
    assert re.search(r"<td>Almaty</td>\s*<td class=\"num\">2</td>", city)
    assert re.search(r"<td>Astana</td>\s*<td class=\"num\">1</td>", city)
    assert '<rect x="0" y="0" height="10" width="100.0">' in city and 'width="50.0"' in city
    assert "style=" not in page  # the CSP allows no inline style


def test_statistics_csv_downloads_and_parses(login, cases):
    response = login("mara").get("/statistics.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    today = datetime.now(UTC).date().isoformat()
    assert response.headers["Content-Disposition"] == f"attachment; filename=petitio-statistics-{today}.csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["table", "key", "label", "count"]
    assert ["totals", "cases", "", "3"] in rows
    assert ["cases_by_city", "Almaty", "", "2"] in rows and ["cases_by_stage", "consent", "", "3"] in rows


def test_the_case_page_links_to_the_timeline(login, cases):
    lena = login("lena")
    assert 'href="/cases/DB-1/history#h-timeline"' in lena.get("/cases/DB-1").get_data(as_text=True)
    page = lena.get("/cases/DB-1/history").get_data(as_text=True)
    timeline = re.search(r'<ol class="timeline case-timeline">(.*?)</ol>', page, re.S).group(1)
    kinds = re.findall(r'<li class="timeline-(\w+)">', timeline)
    assert kinds[0] == "received" and "task_created" in kinds and "deadline" in kinds
    assert "Appeal received" in timeline and "Consent verification due" in timeline
