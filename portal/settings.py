"""Settings read once from the environment into one typed object.

With nothing set, the portal runs embedded: SQLite and a session store under the data
directory, workers in-process, mail kept in a local outbox.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_KEY_LENGTH = 32


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    smtp_url: str | None
    base_url: str
    demo_password: str | None
    database_pool_max: int = 10
    mail_from: str = "Portal <no-reply@portal.invalid>"
    # How long a worker may hold an email before another may take it over (worker died).
    mail_lease_seconds: int = 300
    # How often the scheduler wakes the sweep that re-sends work a lost message left undone.
    sweep_interval_seconds: int = 60
    # Prefix of the broker's Redis keys: processes that share it share their queues.
    queue_namespace: str = "portal"
    # A failed email is tried again after base * 2**(attempts - 1) seconds, at most cap, until
    # it has been owed for the give-up budget (portal/mail/rules.py says why a time budget).
    mail_retry_base_seconds: float = 30.0
    mail_retry_cap_seconds: float = 900.0
    mail_give_up_after_seconds: float = 86_400.0
    # How long a worker holds an invitation batch without renewing (it renews while working);
    # a dead worker's batch is taken over within about this long.
    batch_lease_seconds: float = 30.0

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        return Path(urlsplit(self.database_url).path)

    @property
    def embedded(self) -> bool:
        """Workers in-process with an in-memory broker: no Redis configured."""
        return self.redis_url is None

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def data_dir_from(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("PORTAL_DATA_DIR") or Path.cwd() / "var").resolve()


def database_url_from(environ: Mapping[str, str]) -> str:
    """The database to use: DATABASE_URL, else a SQLite file in the data directory."""
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite://{data_dir_from(environ) / 'portal.sqlite3'}"
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("postgres", "postgresql"):
        if not urlsplit(url).hostname and "host=" not in url:
            raise SettingsError(f"DATABASE_URL: no host in {redact(url)!r}")
        return url
    if scheme == "sqlite":
        if not urlsplit(url).path:
            raise SettingsError("DATABASE_URL: a sqlite URL needs a file path, sqlite:///path")
        return url
    raise SettingsError(
        f"DATABASE_URL: expected postgresql://... or sqlite:///path, got {redact(url)!r}"
    )


def database_pool_max_from(environ: Mapping[str, str]) -> int:
    """Connections per process; 0 opens one per query instead (the tests need that, because
    their client serves the app on another event loop, and a pool cannot span two loops)."""
    raw = environ.get("DATABASE_POOL_MAX", "10").strip()
    if not raw.isdigit() or int(raw) > 1000:
        raise SettingsError(
            f"DATABASE_POOL_MAX: expected a whole number from 0 to 1000, got {raw!r}"
        )
    return int(raw)


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise SettingsError(f"{name}: expected a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def _seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip() or str(default)
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # NaN fails too
        raise SettingsError(
            f"{name}: expected a number of seconds from {low:g} to {high:g}, got {raw!r}"
        )
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = data_dir_from(env)
    database_url = database_url_from(env)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=_optional_url(env, "REDIS_URL", ("redis", "rediss", "unix")),
        secret_key=_secret_key(env, data_dir, shared=not database_url.startswith("sqlite:")),
        smtp_url=_optional_url(env, "SMTP_URL", ("smtp", "smtps")),
        base_url=_base_url(env),
        demo_password=env.get("PORTAL_DEMO_PASSWORD") or None,
        database_pool_max=database_pool_max_from(env),
        mail_from=env.get("MAIL_FROM", "").strip() or "Portal <no-reply@portal.invalid>",
        mail_lease_seconds=_whole_number(env, "PORTAL_MAIL_LEASE_SECONDS", 300, 1, 86_400),
        sweep_interval_seconds=_whole_number(env, "PORTAL_SWEEP_INTERVAL_SECONDS", 60, 1, 3_600),
        queue_namespace=env.get("PORTAL_QUEUE_NAMESPACE", "").strip() or "portal",
        mail_retry_base_seconds=_seconds(env, "PORTAL_MAIL_RETRY_BASE_SECONDS", 30, 0.01, 86_400),
        mail_retry_cap_seconds=_seconds(env, "PORTAL_MAIL_RETRY_CAP_SECONDS", 900, 0.01, 86_400),
        mail_give_up_after_seconds=_seconds(
            env, "PORTAL_MAIL_GIVE_UP_AFTER_SECONDS", 86_400, 1, 30 * 86_400
        ),
        batch_lease_seconds=_seconds(env, "PORTAL_BATCH_LEASE_SECONDS", 30, 0.5, 3_600),
    )


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def _optional_url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    if urlsplit(value).scheme not in schemes:
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise SettingsError(f"{name}: expected {wanted}..., got {redact(value)!r}")
    return value


def _base_url(env: Mapping[str, str]) -> str:
    value = env.get("BASE_URL", "").strip() or "http://127.0.0.1:8000"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"BASE_URL: expected http(s)://host[:port], got {redact(value)!r}")
    return value.rstrip("/")


def _secret_key(env: Mapping[str, str], data_dir: Path, *, shared: bool) -> str:
    value = env.get("SECRET_KEY", "")
    if value:
        if len(value) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(
                f"SECRET_KEY: must be at least {MIN_SECRET_KEY_LENGTH} characters long"
            )
        return value
    if shared:
        # Several web processes must share the key; a per-machine file would split them.
        raise SettingsError("SECRET_KEY: required when DATABASE_URL points at PostgreSQL")
    key_file = data_dir / "secret_key"
    if key_file.exists():
        kept = key_file.read_text().strip()
        if len(kept) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(
                f"SECRET_KEY: the key kept in {key_file} is shorter than "
                f"{MIN_SECRET_KEY_LENGTH} characters; delete the file to generate a new one"
            )
        return kept
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
