"""What every ``petitio`` command shares: the settings and engine (``Runtime``), and errors as one line."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from workflow import schema
from workflow.config import Settings, load_settings
from workflow.db import engine_for
from workflow.errors import PetitioError

log = logging.getLogger("petitio")


class Runtime:
    """Settings and engine, created lazily so ``--help`` never touches the database."""

    @functools.cached_property
    def settings(self) -> Settings:
        return load_settings()

    @functools.cached_property
    def engine(self) -> Engine:
        return engine_for(self.settings.database_url)

    def ready_engine(self) -> Engine:
        if not schema.is_current(self.engine):
            raise click.ClickException("the database is not initialised or is out of date; run `petitio init`")
        return self.engine


pass_runtime = click.make_pass_decorator(Runtime, ensure=True)


def one_line_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PetitioError as err:
            details = "; ".join(f"{k}: {v}" for k, v in err.errors.items())
            if details and details not in err.message:
                raise click.ClickException(f"{err.message} ({details})") from None
            raise click.ClickException(err.message) from None
        except OperationalError as err:
            raise click.ClickException(f"cannot use the database: {type(err.orig).__name__}: "
                                       f"{str(err.orig).splitlines()[0] if err.orig else err}") from None
        except SQLAlchemyError as err:
            raise click.ClickException(f"database error: {type(err).__name__}") from None
        except (OSError, ValueError) as err:
            raise click.ClickException(str(err)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as err:
            # Last resort: still one line; the type says where to look without echoing any data.
            log.debug("unexpected error", exc_info=True)
            raise click.ClickException(f"internal error ({type(err).__name__}); rerun with PETITIO_DEBUG=1 "
                                       "to see the traceback") from None

    return wrapper
