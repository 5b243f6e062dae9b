"""``petitio serve`` in production: gunicorn, started in this process (no shell, no config file of its own).

The master process binds the port and watches its workers; each worker serves the app with threads (the
gthread worker: its main loop keeps reporting to the master while a long request runs on a thread).

Every request waits in one queue, the listening socket's, and the first worker with a free thread takes the oldest:
a worker accepts no more connections than it has threads, and no connection is kept alive after its answer. A kept
connection stays with the worker that accepted it, and so do its next requests: with 16 clients on 5 workers some
had 4 clients and some 3, and a worker with more waited longer (at 16 clients the 99th percentile was 2 to 2.5 times
the median; with one queue, 1.1 to 1.3 times; docs/BENCHMARKS.md). A new connection costs a few hundred
microseconds on the loopback or a LAN; a browser reaches Petitio through the TLS proxy (docs/OPERATIONS.md),
which keeps the browser's connection alive itself.

The app is created once in the master before any fork, and again in each worker after it:
- in the master, so that a bad setting or key fails ``petitio serve`` at once with one line, the key files
  (the session key, the document key ring) are created by one process instead of racing workers, and every
  module is imported once (the workers share those pages of memory);
- in each worker, so that nothing with a lifetime crosses the fork: its own rate-limit store, its own
  database connections (``forget_inherited_connections`` drops the pooled ones the master opened checking
  the schema; two processes on one socket or SQLite handle corrupt each other's conversations).
"""

from __future__ import annotations

import gc
import logging
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from web import create_app
from web.logs import install_log_redaction
from workflow.config import Settings
from workflow.db import forget_inherited_connections, wait_for_held_back
from workflow.wal_checkpoints import stop_checkpoints, take_over_checkpoints

log = logging.getLogger("gunicorn.error")

# A worker whose main loop has not reported for this long is stuck and is replaced. Its threads' requests
# do not count (the main loop reports between them), so a long import or bulk run is not cut short.
TIMEOUT_S = 120
# SIGTERM (systemd's stop, a deploy): workers stop accepting and finish what they serve, for this long at most.
GRACEFUL_TIMEOUT_S = 30
# No connection is kept after its answer (the module's docstring says why); gunicorn's "keepalive" is also how
# long it parks a new connection that sent nothing in its first 5 s: with 0 it is closed then.
KEEPALIVE_S = 0
# The audit events a read held back (workflow.db write_held_back_later) are written before a worker exits.
HELD_BACK_WAIT_S = 10
# Request line and headers: our longest URLs are a few hundred bytes and the cookies a few kilobytes, so
# these limits leave room (a longer line is answered 414, too many or too large headers 400, before the app
# sees them). The limits bound what one request can make a worker hold.
LIMIT_REQUEST_LINE = 4094
LIMIT_REQUEST_FIELDS = 60
LIMIT_REQUEST_FIELD_SIZE = 8190
# gunicorn's usual line, and how long the request took (ms). The path and referrer pass through
# ``web.logs.RedactSecrets`` on the ``gunicorn.access`` logger (the calendar secret, a search's query).
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _post_fork(_server: Any, _worker: Any) -> None:
    forget_inherited_connections()
    take_over_checkpoints()  # before the worker's app opens its connections


def _post_worker_init(_worker: Any) -> None:
    # The app the worker just built lives as long as the worker: frozen, the collector's full passes (which a
    # page's many short-lived objects set off) no longer walk it, a pause every few requests that all its threads'
    # requests waited out.
    gc.freeze()


def _worker_exit(_server: Any, _worker: Any) -> None:
    wait_for_held_back(HELD_BACK_WAIT_S)
    stop_checkpoints()


class PetitioServer(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn with Petitio's settings; ``run()`` serves until SIGTERM or SIGINT (then exits 0)."""

    def __init__(self, settings: Settings, *, host: str, port: int, workers: int, threads: int) -> None:
        self.settings = settings
        self.options: dict[str, Any] = {
            "bind": [bind_address(host, port)],
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": TIMEOUT_S,
            "graceful_timeout": GRACEFUL_TIMEOUT_S,
            "keepalive": KEEPALIVE_S,
            # A connection more than the threads would wait in this worker while another one's thread is free.
            "worker_connections": threads,
            "limit_request_line": LIMIT_REQUEST_LINE,
            "limit_request_fields": LIMIT_REQUEST_FIELDS,
            "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
            "accesslog": "-",
            "errorlog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            # Forwarded headers are trusted by the app alone, as far as PETITIO_PROXY_HOPS says (ProxyFix in
            # create_app); gunicorn would otherwise take X-Forwarded-Proto from any local process.
            "forwarded_allow_ips": "",
            # gunicorn 25+ opens a control socket in the user's home: one path for every server of the user,
            # so a second `petitio serve` would take over the first one's. Nothing of ours uses it.
            "control_socket_disable": True,
            "proc_name": "petitio",
            "post_fork": _post_fork,
            "post_worker_init": _post_worker_init,
            "worker_exit": _worker_exit,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # a setting older gunicorn releases lack is left out
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_app(self.settings)  # in the worker, after the fork (preload_app is off)


def serve(settings: Settings, *, host: str, port: int, workers: int, threads: int) -> None:
    """Check the app in this process, then hand it to gunicorn (which forks the workers)."""
    create_app(settings)
    install_log_redaction()
    # What the master built and imported stays as it is in every worker: frozen, the workers' garbage collector
    # never walks (and so never copies) those pages of memory.
    gc.freeze()
    if workers > 1 and settings.ratelimit_storage_uri.startswith("memory://"):
        log.warning("failed sign-ins are counted in each of the %d worker processes apart "
                    "(PETITIO_RATELIMIT_STORAGE_URI is memory://): name a shared store such as redis://", workers)
    PetitioServer(settings, host=host, port=port, workers=workers, threads=threads).run()
