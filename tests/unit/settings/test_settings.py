"""Settings from the environment: embedded defaults, and a clear error naming a bad variable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.settings import (
    MIN_SECRET_KEY_LENGTH,
    SettingsError,
    data_dir_from,
    load_settings,
    redact,
)

SECRET = "s" * MIN_SECRET_KEY_LENGTH


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with nothing set but a private data directory."""
    return {"PORTAL_DATA_DIR": str(tmp_path / "data")}


def settings_error(environ: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ)
    return str(raised.value)


def test_defaults_run_embedded(env: dict[str, str], tmp_path: Path) -> None:
    loaded = load_settings(env)
    data_dir = (tmp_path / "data").resolve()
    assert loaded.data_dir == data_dir
    assert loaded.database_url == f"sqlite://{data_dir / 'portal.sqlite3'}"
    assert loaded.uses_sqlite
    assert loaded.sqlite_path == data_dir / "portal.sqlite3"
    assert loaded.redis_url is None
    assert loaded.embedded
    assert loaded.smtp_url is None
    assert loaded.base_url == "http://127.0.0.1:8000"
    assert not loaded.secure_cookies
    assert loaded.demo_password is None


def test_the_data_dir_defaults_to_var_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert data_dir_from({}) == (tmp_path / "var").resolve()
    assert data_dir_from({"PORTAL_DATA_DIR": ""}) == (tmp_path / "var").resolve()


def test_a_relative_data_dir_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert data_dir_from({"PORTAL_DATA_DIR": "here"}) == (tmp_path / "here").resolve()


def test_without_secret_key_a_private_key_file_is_created_then_reused(
    env: dict[str, str], tmp_path: Path
) -> None:
    key_file = tmp_path / "data" / "secret_key"
    assert not key_file.exists()

    first = load_settings(env)

    assert key_file.read_text().strip() == first.secret_key
    assert len(first.secret_key) >= MIN_SECRET_KEY_LENGTH
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings(env).secret_key == first.secret_key


def test_separate_data_dirs_get_separate_keys(tmp_path: Path) -> None:
    one = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "one")})
    two = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "two")})
    assert one.secret_key != two.secret_key


def test_secret_key_from_the_environment_wins_and_writes_no_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert load_settings({**env, "SECRET_KEY": SECRET}).secret_key == SECRET
    assert not (tmp_path / "data" / "secret_key").exists()


def test_a_short_secret_key_is_refused(env: dict[str, str]) -> None:
    message = settings_error({**env, "SECRET_KEY": "s" * (MIN_SECRET_KEY_LENGTH - 1)})
    assert message.startswith("SECRET_KEY:")
    assert str(MIN_SECRET_KEY_LENGTH) in message


@pytest.mark.parametrize(
    "url", ["postgresql://db.example/portal", "postgres://portal@db.example:5432/portal"]
)
def test_secret_key_is_required_with_postgres(env: dict[str, str], url: str) -> None:
    message = settings_error({**env, "DATABASE_URL": url})
    assert message.startswith("SECRET_KEY:")


@pytest.mark.parametrize(
    "url", ["PostgreSQL://db.example/portal", "  postgresql://db.example/portal"]
)
def test_secret_key_is_required_with_any_spelling_of_a_postgres_url(
    env: dict[str, str], url: str
) -> None:
    message = settings_error({**env, "DATABASE_URL": url})
    assert message.startswith("SECRET_KEY:")


def test_postgres_with_a_secret_key_is_accepted(env: dict[str, str]) -> None:
    url = "postgresql://portal:pw@db.example:5432/portal"
    loaded = load_settings({**env, "DATABASE_URL": url, "SECRET_KEY": SECRET})
    assert loaded.database_url == url
    assert not loaded.uses_sqlite


def test_postgres_through_a_unix_socket_is_accepted(env: dict[str, str]) -> None:
    url = "postgresql:///portal?host=/var/run/postgresql"
    loaded = load_settings({**env, "DATABASE_URL": url, "SECRET_KEY": SECRET})
    assert loaded.database_url == url


def test_a_sqlite_url_is_accepted(env: dict[str, str], tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'other.sqlite3'}"
    loaded = load_settings({**env, "DATABASE_URL": url})
    assert loaded.uses_sqlite
    assert loaded.sqlite_path == tmp_path / "other.sqlite3"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://portal@db.example/portal",
        "http://db.example/portal",
        "db.example/portal",
        "postgresql://",
        "sqlite://",
    ],
)
def test_a_bad_database_url_is_refused(env: dict[str, str], url: str) -> None:
    message = settings_error({**env, "DATABASE_URL": url, "SECRET_KEY": SECRET})
    assert message.startswith("DATABASE_URL:")


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("REDIS_URL", "redis://redis.example:6379/0"),
        ("REDIS_URL", "rediss://redis.example:6380/0"),
        ("REDIS_URL", "unix:///run/redis.sock"),
        ("SMTP_URL", "smtp://mail.example:25"),
        ("SMTP_URL", "smtps://user:pw@mail.example:465"),
    ],
)
def test_good_optional_urls_are_kept(env: dict[str, str], name: str, url: str) -> None:
    loaded = load_settings({**env, name: url})
    assert (loaded.redis_url if name == "REDIS_URL" else loaded.smtp_url) == url


def test_redis_turns_embedded_mode_off(env: dict[str, str]) -> None:
    assert not load_settings({**env, "REDIS_URL": "redis://redis.example"}).embedded


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("REDIS_URL", "http://redis.example:6379"),
        ("REDIS_URL", "redis.example:6379"),
        ("SMTP_URL", "mail.example:25"),
        ("SMTP_URL", "imap://mail.example"),
        ("BASE_URL", "ftp://portal.example"),
        ("BASE_URL", "portal.example"),
        ("BASE_URL", "https://"),
    ],
)
def test_a_bad_url_is_refused_naming_the_variable(env: dict[str, str], name: str, url: str) -> None:
    assert settings_error({**env, name: url}).startswith(f"{name}:")


@pytest.mark.parametrize("name", ["REDIS_URL", "SMTP_URL", "PORTAL_DEMO_PASSWORD"])
def test_empty_optional_values_count_as_unset(env: dict[str, str], name: str) -> None:
    loaded = load_settings({**env, name: ""})
    assert loaded.redis_url is None
    assert loaded.smtp_url is None
    assert loaded.demo_password is None


def test_base_url_loses_its_trailing_slash_and_https_makes_cookies_secure(
    env: dict[str, str],
) -> None:
    loaded = load_settings({**env, "BASE_URL": "https://portal.example/"})
    assert loaded.base_url == "https://portal.example"
    assert loaded.secure_cookies


def test_demo_password_is_read(env: dict[str, str]) -> None:
    assert load_settings({**env, "PORTAL_DEMO_PASSWORD": "demo"}).demo_password == "demo"


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("DATABASE_URL", "mysql://portal:hunter2hunter2@db.example/portal"),
        ("DATABASE_URL", "postgresql://portal:hunter2hunter2@/portal"),
        ("REDIS_URL", "http://:hunter2hunter2@redis.example"),
        ("SMTP_URL", "imap://mail:hunter2hunter2@mail.example"),
    ],
)
def test_passwords_are_redacted_from_messages(env: dict[str, str], name: str, url: str) -> None:
    message = settings_error({**env, name: url, "SECRET_KEY": SECRET})
    assert message.startswith(f"{name}:")
    assert "hunter2hunter2" not in message
    assert ":***@" in message


def test_a_password_in_a_bad_base_url_is_redacted(env: dict[str, str]) -> None:
    message = settings_error({**env, "BASE_URL": "ftp://portal:hunter2hunter2@portal.example"})
    assert message.startswith("BASE_URL:")
    assert "hunter2hunter2" not in message


def test_redact_leaves_a_url_without_password_alone() -> None:
    assert redact("redis://redis.example:6379/0") == "redis://redis.example:6379/0"
    assert redact("postgresql://portal@db.example/x") == "postgresql://portal@db.example/x"


@settings(max_examples=200, deadline=None)
@given(
    user=st.text("abcdefghij", min_size=1, max_size=8),
    password=st.text("KLMNOPQRST0123456789!$&'()*+,;=%-._~:@", min_size=1, max_size=20),
)
def test_redact_hides_any_password(user: str, password: str) -> None:
    redacted = redact(f"postgresql://{user}:{password}@db.example:5432/portal")
    assert redacted == f"postgresql://{user}:***@db.example:5432/portal"


def test_retry_and_lease_times_default_to_production_values(env: dict[str, str]) -> None:
    loaded = load_settings(env)
    assert loaded.mail_retry_base_seconds == 30
    assert loaded.mail_retry_cap_seconds == 900
    assert loaded.mail_give_up_after_seconds == 86_400
    assert loaded.batch_lease_seconds == 30


def test_retry_and_lease_times_take_fractions_for_scaled_down_runs(env: dict[str, str]) -> None:
    loaded = load_settings(
        env
        | {
            "PORTAL_MAIL_RETRY_BASE_SECONDS": "0.2",
            "PORTAL_MAIL_RETRY_CAP_SECONDS": "1.5",
            "PORTAL_MAIL_GIVE_UP_AFTER_SECONDS": "600",
            "PORTAL_BATCH_LEASE_SECONDS": "2",
        }
    )
    assert loaded.mail_retry_base_seconds == 0.2
    assert loaded.mail_retry_cap_seconds == 1.5
    assert loaded.mail_give_up_after_seconds == 600
    assert loaded.batch_lease_seconds == 2


@pytest.mark.parametrize("value", ["soon", "-1", "0", "nan", "1e9"])
def test_a_bad_retry_time_names_its_variable(env: dict[str, str], value: str) -> None:
    message = settings_error(env | {"PORTAL_MAIL_RETRY_BASE_SECONDS": value})
    assert message.startswith("PORTAL_MAIL_RETRY_BASE_SECONDS: expected a number of seconds")
