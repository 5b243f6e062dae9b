"""The ``petitio`` command as installed: the command line of ``workflow/cli.py`` and ``serve``, which needs the web
app. The console script points here, so that the core (workflow) never imports web; the app is imported by
``serve`` alone, so the other commands start without it."""

from __future__ import annotations

import socket

import click

from workflow.cli import Runtime, main, one_line_errors, pass_runtime
from workflow.config import MAX_WEB_THREADS, MAX_WEB_WORKERS

__all__ = ["main"]


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", type=click.IntRange(1, MAX_WEB_WORKERS),
              help="Worker processes (default: PETITIO_WEB_WORKERS, else from the cores and the database).")
@click.option("--threads", type=click.IntRange(1, MAX_WEB_THREADS),
              help="Threads in each worker (default: PETITIO_WEB_THREADS, else 2 on SQLite, 1 on PostgreSQL).")
@click.option("--dev", is_flag=True, help="Werkzeug's development server (one process) instead of gunicorn.")
@pass_runtime
@one_line_errors
def serve(rt: Runtime, host: str, port: int, workers: int | None, threads: int | None, dev: bool) -> None:
    """Serve the web app and the API with gunicorn (or, with --dev, the development server)."""
    rt.ready_engine().dispose()  # the check's connection is not carried into the workers
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # Address reuse, as both servers bind (gunicorn's sockets and werkzeug's http.server): after a crash the
        # port's old connections wait in TIME_WAIT for about a minute, which must not keep the server from
        # starting again at once. A server still listening on the port is refused all the same.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise click.ClickException(f"cannot listen on {host}:{port}: the address is in use") from None
    from web import create_app  # the app only for this command: every other one starts without Flask
    from web.serve import serve as serve_with_gunicorn

    settings = rt.settings
    if dev:
        create_app(settings).run(host=host, port=port, threaded=True, use_reloader=False)
        return
    serve_with_gunicorn(settings, host=host, port=port, workers=workers or settings.web_workers,
                        threads=threads or settings.web_threads)
