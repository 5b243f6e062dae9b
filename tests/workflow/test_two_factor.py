"""The second factor's service: the time window, one use per step, the lock after wrong codes, recovery codes,
who may switch it off or reset it, and the secret encrypted in the database."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import text

from tests.second_factor import TOTP_SECRET
from workflow.errors import Forbidden, ValidationFailed
from workflow.models import utcnow
from workflow.services import two_factor


def code_at(at, secret: str = TOTP_SECRET) -> str:  # type: ignore[no-untyped-def]
    return pyotp.TOTP(secret).at(at)


def test_one_step_either_side_is_accepted_and_each_step_once(env, staff):
    now = utcnow()
    with env.uow() as session:
        lena = env.user(session, "lena")
        two_factor.verify(session, lena, code_at(now - timedelta(seconds=30)), now=now)  # the phone a step behind
        with pytest.raises(ValidationFailed):
            two_factor.verify(session, lena, code_at(now - timedelta(seconds=30)), now=now)  # used
        two_factor.verify(session, lena, code_at(now), now=now)
        two_factor.verify(session, lena, code_at(now + timedelta(seconds=30)), now=now)
        with pytest.raises(ValidationFailed):  # two steps ahead: outside the window
            two_factor.verify(session, lena, code_at(now + timedelta(seconds=60)), now=now)
        with pytest.raises(ValidationFailed):  # an older step after a newer one: spent too
            two_factor.verify(session, lena, code_at(now), now=now)


def test_ten_wrong_codes_lock_the_codes_for_a_quarter_of_an_hour(env, staff):
    now = utcnow()
    with env.uow() as session:
        mara = env.user(session, "mara")
        for _ in range(two_factor.MAX_FAILURES):
            with pytest.raises(ValidationFailed) as refused:
                two_factor.verify(session, mara, "000000", now=now)
            assert refused.value.errors["code"].code == "wrong_code"
        with pytest.raises(ValidationFailed) as locked:  # even the right code
            two_factor.verify(session, mara, code_at(now), now=now)
        assert locked.value.errors["code"].code == "too_many_codes"
        later = now + timedelta(minutes=two_factor.LOCK_MINUTES, seconds=1)
        two_factor.verify(session, mara, code_at(later), now=later)


def test_recovery_codes_work_once_and_new_ones_replace_the_old(env, staff):
    with env.uow() as session:
        leo = env.user(session, "leo")
        old = two_factor.regenerate_recovery_codes(session, leo, leo)
        two_factor.verify(session, leo, old[0])
        with pytest.raises(ValidationFailed):
            two_factor.verify(session, leo, old[0])
        new = two_factor.regenerate_recovery_codes(session, leo, leo)
        with pytest.raises(ValidationFailed):
            two_factor.verify(session, leo, old[1])
        two_factor.verify(session, leo, new[1].replace("-", " "))  # spaces and dashes are only for reading
        assert two_factor.unused_recovery_codes(session, leo) == 9


def test_only_intake_switches_it_off_and_only_admins_reset_it(env, staff):
    with env.uow() as session:
        lena, ina, ada, mara = (env.user(session, n) for n in ("lena", "ina", "ada", "mara"))
        with pytest.raises(Forbidden):
            two_factor.disable(session, lena, lena)
        with pytest.raises(Forbidden):  # nobody touches another user's second factor but an admin's reset
            two_factor.begin_enrolment(session, ada, ina)
        with pytest.raises(Forbidden):
            two_factor.reset(session, mara, lena)
        two_factor.reset(session, ada, lena)
        assert two_factor.needs_enrolment(session, lena) and not two_factor.needs_enrolment(session, ina)
        secret = two_factor.begin_enrolment(session, ina, ina)
        two_factor.confirm_enrolment(session, ina, ina, code_at(utcnow(), secret))
        two_factor.disable(session, ina, ina)
        assert not two_factor.has_second_factor(session, ina)


def test_the_secret_is_stored_encrypted(env, staff):
    with env.uow() as session:
        ina = env.user(session, "ina")
        secret = two_factor.begin_enrolment(session, ina, ina)
    with env.engine.connect() as conn:
        raw = conn.execute(text("SELECT totp_secret FROM second_factors")).scalars().all()
    assert raw and all(TOTP_SECRET.encode() not in bytes(value) and secret.encode() not in bytes(value)
                       for value in raw)


def test_an_older_demo_gets_the_printed_keys_but_never_a_real_account(env):
    from workflow.services.demo import DEMO_PASSWORD, demo_totp_secret, give_demo_keys
    from workflow.services.users import add_user

    with env.uow() as session:
        lara = add_user(session, None, "lara", "legal", password=DEMO_PASSWORD)  # the demo's, as loaded before
        nurlan = add_user(session, None, "nurlan", "legal", password="a real person's own passphrase")
        give_demo_keys(session)
        assert two_factor.stored_secret(session, lara) == demo_totp_secret("lara")
        assert two_factor.stored_secret(session, nurlan) is None and two_factor.needs_enrolment(session, nurlan)
