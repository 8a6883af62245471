"""gunicorn's settings for the dashboard in production: `gunicorn 'app:server'` (from this folder,
where gunicorn reads this file by itself).

Environment: HOST and PORT (where to listen, default 127.0.0.1:8050), WEB_CONCURRENCY (worker
processes, default 2), WEB_THREADS (threads per worker, default 4), WEB_TIMEOUT (seconds a request
may take before its worker is restarted, default 120), TRUSTED_PROXIES (the TLS proxies whose
X-Forwarded-* headers are believed), LOG_FORMAT (json or text) and LOG_LEVEL. The app reads the
rest of its settings itself (README, "Configuration").
"""

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {raw!r}.")
    return int(raw)


_host = os.environ.get("HOST", "127.0.0.1").strip() or "127.0.0.1"
bind = [f"[{_host}]:{_int('PORT', 8050)}" if ":" in _host else f"{_host}:{_int('PORT', 8050)}"]

# Each worker builds its own app and its own database connections (no preloading: a connection
# pool must never be shared across a fork). Threads serve the Dash callbacks a page fires at once.
workers = _int("WEB_CONCURRENCY", 2)
# The workers' figure cache (dashboard/cache.py) must be shared to stay correct across them: with
# more than one worker and no REDIS_URL, each worker computes every figure instead.
os.environ["DASHBOARD_WORKERS"] = str(workers)
threads = _int("WEB_THREADS", 4)
worker_class = "gthread"
preload_app = False
# The briefing pack's PDF and large exports take longest; a worker stuck for longer is restarted.
timeout = _int("WEB_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 5

# Believe X-Forwarded-Proto only from the TLS proxies the app itself trusts (none unless set).
forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "").strip()

# The app logs each request itself (no query strings, user ids rather than e-mail addresses), so
# gunicorn's access log (which would hold whole query strings) stays off; gunicorn's own messages go
# to stdout in the app's format.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").strip().lower() or "info"
_format = "text" if os.environ.get("LOG_FORMAT", "").strip().lower() == "text" else "json"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "dashboard.logging_setup.JsonFormatter"},
        "text": {"()": "dashboard.logging_setup.TextFormatter"},
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": _format},
    },
    "root": {"level": loglevel.upper(), "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
}


def when_ready(server) -> None:
    """Warn when several workers would each count sign-in attempts on their own."""
    shared = os.environ.get("RATELIMIT_STORAGE_URI", "").strip() or os.environ.get("REDIS_URL", "").strip()
    if workers > 1 and (not shared or shared.startswith("memory://")):
        server.log.warning(
            "Each of the %d workers counts rate limits on its own: set REDIS_URL (or RATELIMIT_STORAGE_URI) "
            "so that they share one count.", workers,
        )
    if workers > 1 and not os.environ.get("REDIS_URL", "").strip():
        server.log.warning("Without REDIS_URL the %d workers cannot share a figure cache, so none is used: "
                           "set REDIS_URL to cache figures.", workers)
