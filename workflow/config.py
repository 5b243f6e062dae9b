"""Settings shared by every entry point (CLI, worker, web), read from the environment.

An optional ``PETITIO_HOME/config.toml`` supplies defaults; environment variables win, so that
``petitio serve`` and ``petitio worker`` started with the same environment share one installation.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import available_timezones

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class SmtpSettings:
    """Where the worker sends the daily digests (``workflow/services/digest.py``)."""

    host: str
    sender: str
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # from the environment only
    starttls: bool = False


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    bpmn_dir: Path
    max_document_bytes: int
    organisation: str
    document_key: str | None = field(default=None, repr=False)  # base64 AES key instead of PETITIO_HOME/keys
    letterhead: Path | None = None  # an organisation .docx that filings use as their base (header, styles)
    smtp: SmtpSettings | None = None  # the daily digest of deadlines is sent only when this is configured
    # The organisation's time zone (IANA name): times are shown in it to users who chose none of their own.
    timezone: str = "UTC"
    # The wording staff edit (filing templates, consent forms, digest mail): templates/README.md.
    templates_dir: Path = PROJECT_ROOT / "templates"
    # Where the web app counts failed sign-ins (a ``limits`` storage URI). ``memory://`` counts per process:
    # several web processes need a store they share, e.g. ``redis://host:6379/0``. May hold a password.
    ratelimit_storage_uri: str = field(default="memory://", repr=False)
    # How many reverse proxies in front of the web app append to X-Forwarded-For (0: none; the header is ignored).
    proxy_hops: int = 0
    # ``petitio serve``: gunicorn worker processes, and threads in each (``web_defaults`` gives the defaults).
    web_workers: int = 2
    web_threads: int = 2
    # Where documents' encrypted blobs live: "filesystem" (PETITIO_HOME/documents, one machine) or "database"
    # (the document_blobs table: every machine that reaches the database reads them). docs/OPERATIONS.md.
    document_storage: str = "filesystem"

    def letterhead_bytes(self) -> bytes | None:
        return self.letterhead.read_bytes() if self.letterhead else None

    @property
    def documents_dir(self) -> Path:
        return self.home / "documents"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    home = Path(env.get("PETITIO_HOME", "instance")).resolve()
    file_values: dict[str, object] = {}
    config_file = home / "config.toml"
    if config_file.is_file():
        try:
            file_values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{config_file}: not valid TOML ({err})") from None

    def pick(env_name: str, key: str, default: object) -> object:
        return env.get(env_name) or file_values.get(key) or default

    database_url = str(pick("DATABASE_URL", "database_url", f"sqlite:///{home / 'petitio.sqlite3'}"))
    return Settings(
        home=home,
        database_url=database_url,
        bpmn_dir=Path(str(pick("PETITIO_BPMN_DIR", "bpmn_dir", PROJECT_ROOT / "bpmn"))).resolve(),
        max_document_bytes=_positive_int("PETITIO_MAX_DOCUMENT_BYTES",
                                         pick("PETITIO_MAX_DOCUMENT_BYTES", "max_document_bytes", 20 * 1024 * 1024)),
        organisation=str(pick("PETITIO_ORGANISATION", "organisation", "Petitio demo organisation")),
        document_key=env.get("PETITIO_DOCUMENT_KEY") or None,  # never from the config file
        letterhead=_letterhead(pick("PETITIO_LETTERHEAD", "letterhead", "")),
        smtp=_smtp(env, pick),
        timezone=_timezone(pick("PETITIO_TIMEZONE", "timezone", "UTC")),
        templates_dir=_folder("PETITIO_TEMPLATES_DIR", pick("PETITIO_TEMPLATES_DIR", "templates_dir",
                                                            PROJECT_ROOT / "templates")),
        ratelimit_storage_uri=_storage_uri(pick("PETITIO_RATELIMIT_STORAGE_URI", "ratelimit_storage_uri", "memory://")),
        proxy_hops=_hops(pick("PETITIO_PROXY_HOPS", "proxy_hops", 0)),
        web_workers=_bounded("PETITIO_WEB_WORKERS", pick("PETITIO_WEB_WORKERS", "web_workers",
                                                         web_defaults(database_url)[0]), MAX_WEB_WORKERS),
        web_threads=_bounded("PETITIO_WEB_THREADS", pick("PETITIO_WEB_THREADS", "web_threads",
                                                         web_defaults(database_url)[1]), MAX_WEB_THREADS),
        document_storage=_document_storage(pick("PETITIO_DOCUMENT_STORAGE", "document_storage", "filesystem")),
    )


MAX_WEB_WORKERS = 32
MAX_WEB_THREADS = 64


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (a container's share)
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def web_defaults(database_url: str) -> tuple[int, int]:
    """Worker processes and threads of ``petitio serve`` when the settings name none.

    Requests beyond workers × threads wait in one queue that every worker takes from (``web.serve``), so the
    product is kept to about what keeps the cores busy: more would share the cores among more requests at once,
    and a request's wait would depend on which worker it reached (measured in docs/BENCHMARKS.md).
    SQLite has one writer for the whole file: two processes at most (one per core of a small machine), each with
    two threads, one of which may wait for the writer while the other works. PostgreSQL's own processes take a
    share of the cores: the usual 2 × cores + 1 workers of one thread each, capped so that the connection pools
    stay well inside PostgreSQL's default of 100 connections.
    """
    cpus = _cpus()
    if database_url.startswith("sqlite"):
        return min(2, cpus), 2
    return min(2 * cpus + 1, 8), 1


def _bounded(name: str, value: object, most: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
    if not 1 <= number <= most:
        raise ValueError(f"{name} must be between 1 and {most}")
    return number


def _storage_uri(value: object) -> str:
    uri = str(value).strip()
    if not re.match(r"^[a-z][a-z0-9+.-]*://", uri):
        raise ValueError("PETITIO_RATELIMIT_STORAGE_URI must be a storage URI such as memory:// or "
                         "redis://host:6379/0")
    return uri


DOCUMENT_STORAGES = ("filesystem", "database")


def _document_storage(value: object) -> str:
    kind = str(value).strip().lower()
    if kind not in DOCUMENT_STORAGES:
        raise ValueError(f"PETITIO_DOCUMENT_STORAGE must be filesystem or database, not {value!r}")
    return kind


def _hops(value: object) -> int:
    try:
        hops = int(str(value))
    except ValueError:
        raise ValueError(f"PETITIO_PROXY_HOPS must be a whole number, not {value!r}") from None
    if not 0 <= hops <= 10:
        raise ValueError("PETITIO_PROXY_HOPS must be between 0 and 10")
    return hops


def _folder(name: str, value: object) -> Path:
    path = Path(str(value)).expanduser().resolve()
    if not path.is_dir():
        raise ValueError(f"{name}: no such folder {path}")
    return path


def _timezone(value: object) -> str:
    name = str(value).strip()
    if name not in available_timezones():
        raise ValueError(f"PETITIO_TIMEZONE must be an IANA time zone name such as Asia/Almaty, not {value!r}")
    return name


def _smtp(env: dict[str, str], pick: Callable[[str, str, object], object]) -> SmtpSettings | None:
    host = str(pick("PETITIO_SMTP_HOST", "smtp_host", "")).strip()
    if not host:
        return None
    sender = str(pick("PETITIO_SMTP_FROM", "smtp_from", "")).strip()
    if not sender:
        raise ValueError("PETITIO_SMTP_FROM is required when PETITIO_SMTP_HOST is set")
    user = str(pick("PETITIO_SMTP_USER", "smtp_user", "")).strip() or None
    password = env.get("PETITIO_SMTP_PASSWORD") or None  # never from the config file, like the document key
    if user and not password:
        raise ValueError("PETITIO_SMTP_USER is set but PETITIO_SMTP_PASSWORD is not")
    port = _positive_int("PETITIO_SMTP_PORT", pick("PETITIO_SMTP_PORT", "smtp_port", 25), unit="port number")
    if port > 65535:
        raise ValueError("PETITIO_SMTP_PORT must be at most 65535")
    starttls = _boolean("PETITIO_SMTP_STARTTLS", pick("PETITIO_SMTP_STARTTLS", "smtp_starttls", False))
    return SmtpSettings(host=host, sender=sender, port=port, user=user, password=password, starttls=starttls)


def _boolean(name: str, value: object) -> bool:
    if isinstance(value, bool):  # from the config file
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _letterhead(value: object) -> Path | None:
    if not value:
        return None
    path = Path(str(value)).expanduser().resolve()
    if not path.is_file():
        raise ValueError(f"PETITIO_LETTERHEAD: no such file {path}")
    return path


def _positive_int(name: str, value: object, *, unit: str = "whole number of bytes") -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ValueError(f"{name} must be a {unit}, not {value!r}") from None
    if number <= 0:
        raise ValueError(f"{name} must be positive")
    return number
