"""The episodes page: listed with their cases, added or updated from a file by intake and managers."""

from __future__ import annotations

import io

from sqlalchemy import select

from tests.web.conftest import csrf_token
from workflow.models import AuditEvent, Episode

GOOD = (b"key,title,start_date,end_date\r\n"
        b"rally_2022_01_05,Mass detentions at the January rally,2022-01-05,2022-01-07\r\n"
        b"online_posts,Prosecutions for online comments,,\r\n")


def _upload(client, data: bytes, name: str = "episodes.csv"):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/episodes").get_data(as_text=True))
    return client.post("/episodes/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_intake_imports_episodes_from_a_file_and_sees_them_listed(env, login) -> None:
    ina = login("ina")
    answer = _upload(ina, GOOD)
    assert answer.status_code == 303
    page = ina.get("/episodes").get_data(as_text=True)
    assert "rally_2022_01_05" in page and "Prosecutions for online comments" in page
    again = _upload(ina, GOOD)
    assert again.status_code == 303
    assert "0 created, 0 updated, 2 unchanged" in ina.get("/episodes").get_data(as_text=True)
    with env.uow() as session:
        assert {e.key for e in session.scalars(select(Episode))} == {"rally_2022_01_05", "online_posts"}
        created = session.scalars(select(AuditEvent).where(AuditEvent.action == "episode_created")).all()
        assert len(created) == 2


def test_a_bad_file_imports_nothing_and_says_where(env, login) -> None:
    ina = login("ina")
    bad = GOOD + b"bad key!,Title,2022-01-01,2021-01-01\r\n"
    answer = _upload(ina, bad)
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "row 4: key" in text and "Nothing was imported." in text
    assert _upload(ina, b"\x00\x01garbage", "episodes.xlsx").status_code == 422
    assert _upload(ina, GOOD, "episodes.txt").status_code == 422
    with env.uow() as session:
        assert session.scalars(select(Episode)).all() == []


def test_legal_officers_read_the_list_but_cannot_import(env, login) -> None:
    lena = login("lena")
    assert lena.get("/episodes").status_code == 200
    assert "/episodes/import" not in lena.get("/episodes").get_data(as_text=True)
    answer = _upload(lena, GOOD)
    assert answer.status_code == 403
    with env.uow() as session:
        assert session.scalars(select(Episode)).all() == []
