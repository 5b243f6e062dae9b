"""A forked process (a gunicorn worker) never uses the pooled connections of its parent (issue 16).

Two processes on one PostgreSQL socket interleave their conversations; two on one SQLite handle corrupt its state.
``forget_inherited_connections`` drops the child's references without closing them (closing would end the
parent's session too), so the child opens its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("TEST_DATABASE_URL")

CHILD_OPENS_ITS_OWN = """
import os, sys
from workflow.db import forget_inherited_connections, make_engine

engine = make_engine(sys.argv[1])
with engine.connect() as conn:  # pooled when it is given back: the child inherits it
    inherited = conn.connection.dbapi_connection
pid = os.fork()
if pid == 0:
    forget_inherited_connections()
    with engine.connect() as conn:
        os._exit(0 if conn.connection.dbapi_connection is not inherited else 3)
_, status = os.waitpid(pid, 0)
inherited.cursor().execute("SELECT 1")  # the parent's connection is still open and usable
inherited.rollback()
with engine.connect() as conn:
    assert conn.connection.dbapi_connection is inherited  # and still the parent's pooled one
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.parametrize("backend", ["sqlite"] + (["postgresql"] if PG_URL else []))
def test_a_forked_child_opens_its_own_connections_and_leaves_the_parents_open(backend: str, tmp_path: Path) -> None:
    url = PG_URL if backend == "postgresql" else f"sqlite:///{tmp_path / 'fork.sqlite3'}"
    result = subprocess.run([sys.executable, "-c", CHILD_OPENS_ITS_OWN, str(url)], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, (result.returncode, result.stderr)
