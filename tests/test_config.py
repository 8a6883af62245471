"""Settings from the environment: where the data lives, the secret key, and malformed values."""

from __future__ import annotations

import stat

import pytest
from sqlalchemy.engine import make_url

from dashboard.config import ConfigError, Settings

GOOD_KEY = "k" * 16 + "0123456789abcdefghij"  # 36 characters


@pytest.fixture
def instance(tmp_path):
    return tmp_path / "instance"


def env_with(instance, **values: str) -> dict[str, str]:
    return {"DASHBOARD_INSTANCE": str(instance), **values}


def test_default_database_is_a_sqlite_file_inside_the_instance_folder(instance):
    settings = Settings.from_env(env_with(instance))

    url = make_url(settings.database_url)
    assert url.get_backend_name() == "sqlite"
    assert url.database == str(instance / "dashboard.db")
    assert settings.instance_dir == instance
    assert instance.is_dir(), "the instance folder is created on first use"


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://dash:s3cret@db.example.org:5433/partnership",
        "postgres://dash:s3cret@db.example.org:5433/partnership",
    ],
)
def test_postgres_urls_use_the_psycopg3_driver_and_keep_the_rest(instance, given):
    settings = Settings.from_env(env_with(instance, DATABASE_URL=given))

    assert settings.database_url == "postgresql+psycopg://dash:s3cret@db.example.org:5433/partnership"
    url = make_url(settings.database_url)
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql+psycopg", "db.example.org", 5433, "partnership",
    )


def test_an_explicit_driver_or_other_database_is_left_alone(instance):
    url = "sqlite:////srv/partnership/data.db"
    assert Settings.from_env(env_with(instance, DATABASE_URL=url)).database_url == url
    url = "postgresql+psycopg://dash@db.example.org/partnership"
    assert Settings.from_env(env_with(instance, DATABASE_URL=url)).database_url == url


def test_secret_key_is_generated_once_kept_private_and_reused(instance):
    first = Settings.from_env(env_with(instance))

    key_file = instance / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == first.secret_key
    assert len(first.secret_key) >= 32

    second = Settings.from_env(env_with(instance))
    assert second.secret_key == first.secret_key, "sessions survive a restart"


def test_secret_keys_differ_between_installations(tmp_path):
    one = Settings.from_env(env_with(tmp_path / "one")).secret_key
    two = Settings.from_env(env_with(tmp_path / "two")).secret_key
    assert one != two


@pytest.mark.parametrize("content", ["", "short\n"])
def test_an_empty_or_short_secret_key_file_is_never_used(instance, content):
    instance.mkdir(parents=True)
    (instance / "secret_key").write_text(content)
    try:
        key = Settings.from_env(env_with(instance)).secret_key
    except ConfigError as error:
        assert "secret_key" in str(error)
    else:
        assert len(key) >= 32


def test_secret_key_from_the_environment_is_used_and_nothing_is_written(instance):
    settings = Settings.from_env(env_with(instance, SECRET_KEY=GOOD_KEY))

    assert settings.secret_key == GOOD_KEY
    assert not (instance / "secret_key").exists()


def test_a_short_secret_key_is_refused_naming_the_variable(instance):
    with pytest.raises(ConfigError, match="SECRET_KEY") as refused:
        Settings.from_env(env_with(instance, SECRET_KEY="too-short-secret"))
    assert "32" in str(refused.value)
    assert not (instance / "secret_key").exists(), "no key is generated behind the refusal"


@pytest.mark.parametrize("port", ["abc", "0", "70000", "-1", "80.5"])
def test_a_bad_port_is_refused_naming_the_variable(instance, port):
    with pytest.raises(ConfigError, match="PORT") as refused:
        Settings.from_env(env_with(instance, PORT=port))
    assert port in str(refused.value), "the message shows the value that was given"


def test_host_and_port_default_to_local_only_8050(instance):
    settings = Settings.from_env(env_with(instance))
    assert (settings.host, settings.port) == ("127.0.0.1", 8050)


def test_host_and_port_from_the_environment(instance):
    settings = Settings.from_env(env_with(instance, HOST="0.0.0.0", PORT="65535"))  # noqa: S104
    assert (settings.host, settings.port) == ("0.0.0.0", 65535)  # noqa: S104


def test_only_the_given_environment_is_read(instance, monkeypatch):
    monkeypatch.setenv("PORT", "abc")
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")

    settings = Settings.from_env(env_with(instance))

    assert settings.port == 8050
    assert settings.database_url.startswith("sqlite:///")
