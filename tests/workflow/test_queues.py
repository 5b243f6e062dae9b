"""Work queues (workflow/services/queues.py): each filter narrows, counts per task kind, claim/assign/release with
their rules and audit, and a task held by one person cannot be completed by another."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.helpers import do, expire_timers, open_sample_case, task
from workflow.errors import Conflict, Forbidden, NotFound, ValidationFailed
from workflow.models import AuditEvent, HumanTask
from workflow.services.episodes import upsert_episode
from workflow.services.queues import (
    TaskFilter,
    assign_task,
    claim_task,
    matching_task_ids,
    next_task,
    queue_page,
    release_task,
    search,
    task_counts,
)
from workflow.services.tasks import complete_task

VERIFIED = {"form_of_appeal_verified": True, "power_of_attorney_verified": True}
REVIEW = {"decision": "approve", "bodies": ["un_sp"], "mandates": ["assembly"], "grounds": ["iccpr_21"]}


@pytest.fixture
def queue(env, staff):
    """Q-1 detained in Almaty (rally_2022, overdue); Q-2 in Astana (strike_2023); Q-3 reviewed for un_sp, waiting
    for a manager; Q-4 at legal review."""
    with env.uow() as session:
        upsert_episode(session, None, "strike_2023", "Strike at the plant", date(2023, 2, 1), date(2023, 2, 2))
    open_sample_case(env, "Q-1", detained_now=True)
    open_sample_case(env, "Q-2", city="Astana", episodes=("strike_2023",))
    open_sample_case(env, "Q-3")
    open_sample_case(env, "Q-4")
    expire_timers(env, "Q-1")
    for ref in ("Q-3", "Q-4"):
        do(env, ref, "verify_consent", "ina", VERIFIED)
    do(env, "Q-3", "legal_review", "lena", REVIEW)
    return env


def refs(env, role: str, **given) -> list[str]:
    with env.uow() as session:
        rows, total = queue_page(session, role, TaskFilter(**given), page=1, per_page=50)
        assert total == len(rows)
        return sorted(r.ref for r in rows)


def test_each_filter_narrows_the_queue(queue):
    env = queue
    assert refs(env, "intake") == ["Q-1", "Q-2"]
    assert refs(env, "legal") == ["Q-4"]
    assert refs(env, "manager") == ["Q-3"]
    assert refs(env, "intake", task="verify_consent") == ["Q-1", "Q-2"]
    assert refs(env, "intake", task="legal_review") == []
    assert refs(env, "intake", episode="strike_2023") == ["Q-2"]
    assert refs(env, "intake", episode="rally_2022") == ["Q-1"]
    assert refs(env, "intake", city="Astana") == ["Q-2"]
    assert refs(env, "intake", urgent=True) == ["Q-1"]  # detained now: marked urgent for intake already
    assert refs(env, "intake", urgent=False) == ["Q-2"]
    assert refs(env, "intake", overdue=True) == ["Q-1"]
    assert refs(env, "intake", overdue=False) == ["Q-2"]
    assert refs(env, "intake", ref="Q-2") == ["Q-2"]
    assert refs(env, "manager", body="un_sp") == ["Q-3"]  # the body its review chose
    assert refs(env, "manager", body="un_hrc") == []
    q2 = task(env, "Q-2", "verify_consent").id
    with env.uow() as session:
        claim_task(session, env.user(session, "ivan"), q2)
        ivan = env.user(session, "ivan").id
    assert refs(env, "intake", assignee=ivan) == ["Q-2"]
    assert refs(env, "intake", assignee=0) == ["Q-1"]
    with env.uow() as session:
        rows, _ = queue_page(session, "intake", TaskFilter(), page=1, per_page=50)
        first = rows[0]
        assert first.ref == "Q-1" and first.overdue and first.urgent and first.detained  # overdue first
        held = next(r for r in rows if r.ref == "Q-2")
        assert held.held and held.holder == "Ivan"
        assert matching_task_ids(session, "intake", TaskFilter(city="Astana")) == [held.task.id]


def test_paging_and_counts_per_task_kind(queue):
    env = queue
    with env.uow() as session:
        rows, total = queue_page(session, "intake", TaskFilter(), page=2, per_page=1)
        assert total == 2 and [r.ref for r in rows] == ["Q-2"]
        rows, total = queue_page(session, "intake", TaskFilter(), page=3, per_page=1)
        assert total == 2 and rows == []
        counts = task_counts(session, "intake", TaskFilter(task="legal_review"))  # counts ignore the kind chosen
        assert [(c.task, c.count) for c in counts] == [("verify_consent", 2)]
        assert [(c.task, c.count) for c in task_counts(session, "intake", TaskFilter(city="Astana"))] == [
            ("verify_consent", 1)]


def test_filter_values_are_checked(queue):
    for bad in ({"overdue": "banana"}, {"assignee": "99999999999999"}, {"assignee": "-1"}, {"urgent": "maybe"},
                {"ref": "x" * 41}):
        with pytest.raises(ValidationFailed) as err:
            TaskFilter.from_params(bad)
        assert set(err.value.errors) == set(bad)
    flt = TaskFilter.from_params({"overdue": "true", "assignee": "0", "city": "", "page": "2"})
    assert flt == TaskFilter(overdue=True, assignee=0)
    assert TaskFilter.from_params(flt.as_params()) == flt  # the round trip the pages and links rely on


def test_claim_holds_the_task_and_is_audited(queue):
    env = queue
    row = task(env, "Q-2", "verify_consent")
    with env.uow() as session:
        claim_task(session, env.user(session, "ina"), row.id)
    with env.uow() as session:
        claim_task(session, env.user(session, "ina"), row.id)  # again: nothing changes, no second event
    with env.uow() as session:
        with pytest.raises(Conflict) as err:
            claim_task(session, env.user(session, "ivan"), row.id)
        assert err.value.errors["task"].code == "task_held"
    with env.uow() as session, pytest.raises(Forbidden):
        claim_task(session, env.user(session, "lena"), row.id)  # another lane
    # The holder's claim outlives a save of the instance (a timer rescheduled, another task completed).
    expire_timers(env, "Q-2")
    with env.uow() as session:
        stored = session.get(HumanTask, row.id)
        assert stored.assignee_id == env.user(session, "ina").id and stored.assigned_at is not None
        with pytest.raises(Conflict) as err:
            complete_task(session, env.settings, row.id, env.user(session, "ivan"), VERIFIED)
        assert err.value.errors["task"].code == "task_held"
    with env.uow() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.object_id == row.id)).all()
        assert [(e.action, e.data) for e in events] == [("task_claimed", {"task": "verify_consent"})]
    do(env, "Q-2", "verify_consent", "ina", VERIFIED)  # the holder completes it


def test_release_by_the_holder_or_a_manager_only(queue):
    env = queue
    row = task(env, "Q-2", "verify_consent")
    with env.uow() as session:
        claim_task(session, env.user(session, "ina"), row.id)
    with env.uow() as session, pytest.raises(Forbidden):
        release_task(session, env.user(session, "ivan"), row.id)
    with env.uow() as session:
        release_task(session, env.user(session, "mara"), row.id)
    with env.uow() as session:
        stored = session.get(HumanTask, row.id)
        assert stored.assignee_id is None and stored.assigned_at is None
        release_task(session, env.user(session, "ivan"), row.id)  # nobody holds it: left as it is
    do(env, "Q-2", "verify_consent", "ivan", VERIFIED)
    with env.uow() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == row.id)).all()
        assert actions == ["task_claimed", "task_released"]
        with pytest.raises(Conflict):
            claim_task(session, env.user(session, "ina"), row.id)  # completed: no longer ready
        with pytest.raises(NotFound):
            claim_task(session, env.user(session, "ina"), "no-such-task")


def test_managers_assign_to_a_member_of_the_lane(queue):
    env = queue
    row = task(env, "Q-4", "legal_review")
    with env.uow() as session:
        with pytest.raises(Forbidden):
            assign_task(session, env.user(session, "lena"), row.id, env.user(session, "leo").id)
        with pytest.raises(ValidationFailed) as err:
            assign_task(session, env.user(session, "mara"), row.id, env.user(session, "ina").id)  # intake
        assert err.value.errors["assignee"].code == "assignee_not_in_lane"
        with pytest.raises(ValidationFailed):
            assign_task(session, env.user(session, "mara"), row.id, 2_000_000_000)
    with env.uow() as session:
        assign_task(session, env.user(session, "mara"), row.id, env.user(session, "leo").id)
    with env.uow() as session:
        with pytest.raises(Conflict):
            complete_task(session, env.settings, row.id, env.user(session, "lena"), REVIEW)
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "task_assigned")).one()
        assert event.data == {"task": "legal_review", "assignee_id": env.user(session, "leo").id,
                              "previous_assignee_id": None}
    # A manager's task goes to a manager only: not to the legal officer who reviewed the case.
    approval = task(env, "Q-3", "approve_review")
    with env.uow() as session:
        with pytest.raises(ValidationFailed) as err:
            assign_task(session, env.user(session, "mara"), approval.id, env.user(session, "lena").id)
        assert err.value.errors["assignee"].code == "assignee_not_in_lane"  # lena is legal, not manager
    do(env, "Q-4", "legal_review", "leo", REVIEW)


def test_next_task_skips_what_others_hold(queue):
    env = queue
    q1, q2 = task(env, "Q-1", "verify_consent"), task(env, "Q-2", "verify_consent")
    with env.uow() as session:
        ina = env.user(session, "ina")
        assert next_task(session, ina, TaskFilter(task="verify_consent")) == q1.id
        claim_task(session, env.user(session, "ivan"), q1.id)
    with env.uow() as session:
        assert next_task(session, env.user(session, "ina"), TaskFilter(task="verify_consent")) == q2.id
        assert next_task(session, env.user(session, "ivan"), TaskFilter(task="verify_consent")) == q1.id
        assert next_task(session, env.user(session, "ina"), TaskFilter(task="legal_review")) is None


def test_search_by_reference_and_by_exact_name(queue):
    env = queue
    with env.uow() as session:
        ina = env.user(session, "ina")
        assert search(session, ina, "q-2").ref == "Q-2"  # a reference, ignoring case
        found = search(session, ina, "  aigerim   TESTOVA q-3 ")
        assert found.ref is None and [c.ref for c in found.cases] == ["Q-3"]
        assert search(session, ina, "Aigerim").cases == []  # exact names only: no partial match
        # Managers read no names: their search is by reference only, and reads nothing.
        assert search(session, env.user(session, "mara"), "Aigerim Testova Q-3").cases == []
    with env.uow() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "identity_search")
                                 .order_by(AuditEvent.id)).all()
        assert [(e.object_id, e.data["matches"]) for e in events] == [("Q-3", 1), (None, 0)]
        assert all("Aigerim" not in str(e.data) for e in events)
