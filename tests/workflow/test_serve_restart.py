"""`petitio serve` starts again at once after a crash (issue 14 item 7): address reuse; a killed gunicorn master's
workers exit by themselves (issue 16).

A browser keeps a connection open ahead of its next request; when the server is killed the kernel closes the server's
side first, which then waits in FIN_WAIT2 or TIME_WAIT for about a minute, holding the port. The server binds with
SO_REUSEADDR, and so must the check before it.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import children_of
from tests.workflow.test_cli import PETITIO, Cli, _free_port, _make_cli

# The states of a connection closed on our side, as /proc/net/tcp numbers them: FIN_WAIT1, FIN_WAIT2, TIME_WAIT.
CLOSED_HERE = {"04", "05", "06"}
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an http_proxy


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    return _make_cli(tmp_path, "sqlite")


def _start(cli: Cli, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("a") as sink:
        return subprocess.Popen([str(PETITIO), "serve", "--port", str(port)], stdin=subprocess.DEVNULL,
                                stdout=sink, stderr=subprocess.STDOUT, env=cli.environ, cwd=cli.work)


def _health(process: subprocess.Popen[bytes], port: int, log: Path, *, within: float) -> None:
    url = f"http://127.0.0.1:{port}/api/v1/health"
    deadline = time.monotonic() + within
    while True:
        assert process.poll() is None, f"serve exited {process.returncode}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no answer from {url} in {within} s:\n{log.read_text()}"
        try:
            with DIRECT.open(url, timeout=2) as response:
                assert json.loads(response.read()) == {"status": "ok"}
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):  # gunicorn listens before its workers boot
            time.sleep(0.2)


def _gone(pids: set[int], *, within: float) -> bool:
    deadline = time.monotonic() + within
    while any(Path(f"/proc/{pid}").exists() for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _closing_on(port: int) -> bool:
    """A connection of the server's port (its local side) that waits after the close."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] in CLOSED_HERE:
            return True
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def test_serve_restarts_at_once_after_a_kill(sqlite_cli: Cli) -> None:
    sqlite_cli.initialise()
    port, log = _free_port(), sqlite_cli.work / "serve.log"
    first = _start(sqlite_cli, port, log)
    try:
        _health(first, port, log, within=30)
        # A browser's connection opened ahead of its next request (the server's thread waits to read it).
        browser = socket.create_connection(("127.0.0.1", port), timeout=10)
        time.sleep(0.2)  # the server accepts it
        workers = children_of(first.pid)
        assert workers, "gunicorn's master has no workers"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        _stop(first)
    # The workers of a killed master notice it (their parent changes) and exit, closing what they held.
    assert _gone(workers, within=30), "the workers of a killed master live on"
    browser.close()
    assert _closing_on(port), "no connection of the killed server waits on its port: the test would show nothing"
    second = _start(sqlite_cli, port, log)
    try:
        # Start-up alone takes a few seconds here; a minute's TIME_WAIT would fail it long before.
        _health(second, port, log, within=30)
    finally:
        second.terminate()
        try:
            second.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _stop(second)
    assert "address is in use" not in log.read_text()
    assert "Traceback" not in log.read_text()


def test_serve_still_refuses_a_port_in_use(sqlite_cli: Cli) -> None:
    sqlite_cli.initialise()
    port, log = _free_port(), sqlite_cli.work / "serve.log"
    first = _start(sqlite_cli, port, log)
    try:
        _health(first, port, log, within=30)
        second = sqlite_cli.run("serve", "--port", str(port))
        assert second.returncode != 0
        assert "address is in use" in second.stderr, second.stderr
    finally:
        _stop(first)
