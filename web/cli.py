"""The ``petitio`` command as installed: the command line of ``workflow/cli.py`` and ``serve``, which needs the web
app. The console script points here, so that the core (workflow) never imports web."""

from __future__ import annotations

import socket

import click

from web import create_app
from workflow.cli import Runtime, main, one_line_errors, pass_runtime

__all__ = ["main"]


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@pass_runtime
@one_line_errors
def serve(rt: Runtime, host: str, port: int) -> None:
    """Serve the web app (the built-in threaded server; use gunicorn behind a proxy in production)."""
    rt.ready_engine()
    with socket.socket() as probe:
        # Address reuse, as the server itself binds (werkzeug's server is an http.server with allow_reuse_address):
        # after a crash the port's old connections wait in TIME_WAIT for about a minute, which must not keep the
        # server from starting again at once. A server still listening on the port is refused all the same.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise click.ClickException(f"cannot listen on {host}:{port}: the address is in use") from None
    app = create_app(rt.settings)
    app.run(host=host, port=port, threaded=True, use_reloader=False)
