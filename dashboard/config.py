"""Settings, read from the environment when an app or command is built (never at import)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_INSTANCE_DIR = PROJECT_ROOT / "instance"


class ConfigError(ValueError):
    """A setting in the environment is malformed; the message names the variable."""


def _instance_dir(env: dict[str, str]) -> Path:
    path = Path(env.get("DASHBOARD_INSTANCE", str(DEFAULT_INSTANCE_DIR))).expanduser()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _secret_key(env: dict[str, str], instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    if env.get("SECRET_KEY"):
        if len(env["SECRET_KEY"]) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters long.")
        return env["SECRET_KEY"]
    key_file = instance / "secret_key"
    if not key_file.exists():
        # Write to a private temporary file, then link it into place: the link either creates
        # the whole key file or fails because another process did so first.
        tmp = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = key_file.read_text().strip()
    if len(key) < 32:
        raise ConfigError(
            f"The key file {key_file} (secret_key) holds fewer than 32 characters: "
            "delete it to have a new one generated, or set SECRET_KEY."
        )
    return key


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {value}.")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}.")


def _tiles_url(env: dict[str, str]) -> str | None:
    default = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    raw = env.get("MAP_TILES_URL", default).strip()
    if not raw or raw.lower() == "none":
        return None
    if not raw.startswith("https://") or "{z}" not in raw:
        raise ConfigError("MAP_TILES_URL must be an https:// address with {z}, {x} and {y} in it, or 'none'.")
    return raw


def _rate_limit(env: dict[str, str], name: str, default: str) -> str:
    """A flask-limiter limit such as "60 per minute;1000 per day", checked when read."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    from limits import parse_many  # flask-limiter's own parser

    try:
        if not parse_many(raw):
            raise ValueError(raw)
    except ValueError:
        raise ConfigError(
            f"{name} must be limits such as \"60 per minute;1000 per day\", not {raw!r}."
        ) from None
    return raw


def _trusted_proxies(env: dict[str, str]) -> tuple[str, ...]:
    """The addresses or networks of the TLS proxies in front of the app ("*": any sender)."""
    raw = (env.get("TRUSTED_PROXIES") or "").strip()
    if not raw:
        return ()
    entries = tuple(part.strip() for part in raw.split(",") if part.strip())
    if "*" in entries:
        return ("*",)
    for entry in entries:
        try:
            ipaddress.ip_network(entry)
        except ValueError:
            raise ConfigError(
                f"TRUSTED_PROXIES must be IP addresses or networks separated by commas "
                f"(e.g. 127.0.0.1,10.0.0.0/8) or *, not {entry!r}."
            ) from None
    return entries


LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    for choice in choices:
        if raw.lower() == choice.lower():
            return choice
    raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}.")


def _redis_url(env: dict[str, str]) -> str | None:
    raw = (env.get("REDIS_URL") or "").strip()
    if not raw:
        return None
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://, e.g. redis://127.0.0.1:6379/0.")
    return raw


def _rate_limit_storage(env: dict[str, str], redis_url: str | None) -> str:
    """Where rate limits are counted: RATELIMIT_STORAGE_URI, else Redis when REDIS_URL is set (shared
    by every worker), else this process's memory."""
    raw = (env.get("RATELIMIT_STORAGE_URI") or "").strip()
    return raw or redis_url or "memory://"


API_TOKEN_DAY_CHOICES = (30, 90, 365)


def _api_token_days(env: dict[str, str]) -> int | None:
    """How long a new API token lasts unless the admin chooses otherwise (0 or none: no expiry)."""
    raw = (env.get("API_TOKEN_DAYS") or "").strip().lower()
    if not raw:
        return 90
    if raw in {"0", "none"}:
        return None
    if raw.isdigit() and int(raw) in API_TOKEN_DAY_CHOICES:
        return int(raw)
    raise ConfigError(f"API_TOKEN_DAYS must be 30, 90, 365 or none, not {raw!r}.")


def _smtp(env: dict[str, str]) -> dict[str, object]:
    """The SMTP settings for alert e-mails, checked together (SMTP_HOST unset: no e-mail)."""
    public_url = (env.get("PUBLIC_URL") or "").strip().rstrip("/") or None
    if public_url and not public_url.startswith(("https://", "http://")):
        raise ConfigError("PUBLIC_URL must start with https:// (or http://), e.g. https://dashboard.example.org.")
    host = (env.get("SMTP_HOST") or "").strip() or None
    if host is None:
        return {"public_url": public_url}
    sender = (env.get("SMTP_FROM") or "").strip()
    if "@" not in sender:
        raise ConfigError("SMTP_FROM must be the e-mail address alerts are sent from when SMTP_HOST is set.")
    username = (env.get("SMTP_USERNAME") or "").strip() or None
    password = env.get("SMTP_PASSWORD") or None
    if bool(username) != bool(password):
        raise ConfigError("Set SMTP_USERNAME and SMTP_PASSWORD together, or neither.")
    return {
        "smtp_host": host,
        "smtp_port": _int(env, "SMTP_PORT", 587, 1, 65535),
        "smtp_username": username,
        "smtp_password": password,
        "smtp_from": sender,
        "smtp_starttls": _bool(env, "SMTP_STARTTLS", True),
        "public_url": public_url,
    }


@dataclass(frozen=True)
class Settings:
    """Everything the app and the command line need to know about their surroundings."""

    database_url: str
    secret_key: str
    instance_dir: Path
    host: str = "127.0.0.1"
    port: int = 8050
    # Sessions (DOMAIN.md security baseline)
    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_timeout: timedelta = timedelta(hours=12)
    secure_cookies: bool = False
    # Brute-force protection
    lockout_threshold: int = 10
    lockout_window: timedelta = timedelta(minutes=5)
    lockout_base: timedelta = timedelta(minutes=5)
    lockout_max: timedelta = timedelta(hours=1)
    login_rate_limit: str = "20 per minute;200 per hour"
    rate_limit_storage: str = "memory://"
    # Redis shared by every worker (REDIS_URL); the rate limits use it unless RATELIMIT_STORAGE_URI is set.
    redis_url: str | None = field(default=None, repr=False)
    # Deployment: the TLS proxies whose X-Forwarded-* headers are believed (none: headers ignored),
    # how many proxies stand in front (PROXY_HOPS), and the log lines' format and level.
    trusted_proxies: tuple[str, ...] = ()
    proxy_hops: int = 1
    log_format: str = "json"
    log_level: str = "INFO"
    # The read-only API: calls per token, failed token checks per address, new tokens' lifetime
    # in days (None: until revoked).
    api_rate_limit: str = "60 per minute;1000 per day"
    api_auth_failure_limit: str = "30 per minute"
    api_token_days: int | None = 90
    # Optional street-map tiles under the map (off by default; the map needs no tile server).
    map_tiles_url: str | None = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    # E-mail for alerts (SMTP_HOST unset: no e-mail is sent) and the address links point at.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str | None = None
    smtp_starttls: bool = True
    public_url: str | None = None
    # How often the app itself checks for alerts (0: never; use `check-alerts` from a timer).
    alert_check_minutes: int = 15
    # How long a new user's activation link works, in days.
    invitation_days: int = 7
    # After how many months a record's personal fields come up for review (dashboard/retention.py).
    retention_months: int = 24
    # How long figures stay in the shared cache, in seconds (dashboard/cache.py; 0: no cache).
    cache_seconds: int = 300
    # Roles that must use the TOTP second factor (dashboard/two_factor.py); others may choose to.
    # Deliberately not read from the environment: the requirement is not an operator's option.
    second_factor_roles: frozenset[str] = frozenset({"admin", "chair"})
    testing: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = dict(os.environ if env is None else env)
        instance = _instance_dir(env)
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'dashboard.db'}"
        if database_url.startswith("postgres://") or database_url.startswith("postgresql://"):
            # psycopg 3 is the driver this project ships with.
            database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
        settings = cls(
            database_url=database_url,
            secret_key=_secret_key(env, instance),
            instance_dir=instance,
            host=env.get("HOST", "127.0.0.1"),
            port=_int(env, "PORT", 8050, 1, 65535),
            idle_timeout=timedelta(minutes=_int(env, "SESSION_IDLE_MINUTES", 30, 1, 24 * 60)),
            absolute_timeout=timedelta(hours=_int(env, "SESSION_MAX_HOURS", 12, 1, 24 * 7)),
            secure_cookies=_bool(env, "SECURE_COOKIES", False),
            rate_limit_storage=_rate_limit_storage(env, _redis_url(env)),
            redis_url=_redis_url(env),
            trusted_proxies=_trusted_proxies(env),
            proxy_hops=_int(env, "PROXY_HOPS", 1, 1, 5),
            log_format=_choice(env, "LOG_FORMAT", LOG_FORMATS, "json"),
            log_level=_choice(env, "LOG_LEVEL", LOG_LEVELS, "INFO"),
            api_rate_limit=_rate_limit(env, "API_RATE_LIMIT", "60 per minute;1000 per day"),
            api_auth_failure_limit=_rate_limit(env, "API_AUTH_FAILURE_LIMIT", "30 per minute"),
            api_token_days=_api_token_days(env),
            map_tiles_url=_tiles_url(env),
            **_smtp(env),
            alert_check_minutes=_int(env, "ALERT_CHECK_MINUTES", 15, 0, 24 * 60),
            invitation_days=_int(env, "INVITATION_DAYS", 7, 1, 30),
            retention_months=_int(env, "RETENTION_MONTHS", 24, 1, 240),
            cache_seconds=_int(env, "CACHE_SECONDS", 300, 0, 24 * 60 * 60),
        )
        return replace(settings, **overrides) if overrides else settings

    def with_overrides(self, **overrides: object) -> Settings:
        return replace(self, **overrides)
