"""Log lines for operators: one JSON object a line on standard output, and one line per request.

`configure_logging()` is for the process's entry points (`app:server`, `python app.py`, gunicorn's
own messages through `gunicorn.conf.py`); building an app (as the tests do) leaves logging alone.
`init_request_logging()` adds the per-request line to a Flask app.

A request line holds the method, the path (with the secret part of an activation link replaced),
the status, the duration, the signed-in user's id (never an e-mail address) and a request id.
Never logged: query strings, request bodies (passwords, CSRF tokens), headers or cookies.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request

REQUEST_LOGGER = "dashboard.requests"
REQUEST_ID_HEADER = "X-Request-ID"
# A request id passed on by the proxy (nginx's $request_id) is kept only if it is this plain.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Paths whose last part is a secret: only the prefix is logged.
SECRET_PATH_PREFIXES = ("/activate/",)
_SECRET_IN_TEXT = re.compile("(" + "|".join(re.escape(p) for p in SECRET_PATH_PREFIXES) + r")[^\s/?#\"'\\]+")
MAX_PATH_CHARS = 200
_HANDLER_MARK = "_dashboard_handler"

# The attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _utc_time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    if not has_request_context():
        return None
    return g.get("request_id")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, then any extra fields
    and, for an error, the exception with its traceback (for the operator, never for the user)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": _utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_") and key not in line:
                line[key] = value
        if "request_id" not in line and (request_id := current_request_id()):
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # Other loggers (Flask's "Exception on <path>") may name a path too.
        return redact(json.dumps(line, default=str, ensure_ascii=False))


class TextFormatter(logging.Formatter):
    """Plain lines for a terminal (`python app.py`): time, level, logger, message and extra fields."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc_time(record)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES and not k.startswith("_")}
        if extra:
            first, newline, rest = text.partition("\n")
            text = first + " " + " ".join(f"{k}={v}" for k, v in extra.items()) + newline + rest
        return redact(text)


def redact(text: str) -> str:
    """`text` with the secret part of any activation link replaced."""
    return _SECRET_IN_TEXT.sub(r"\1[redacted]", text)


def make_formatter(log_format: str) -> logging.Formatter:
    return TextFormatter() if log_format == "text" else JsonFormatter()


def configure_logging(log_format: str = "json", level: str = "INFO") -> None:
    """Send every log line to standard output in `log_format` ("json" or "text"), replacing the
    handlers already on the root logger (so that no line is written twice)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(make_formatter(log_format))
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level)
    # The development server's own request lines carry the whole query string: ours replace them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its start-up chatter on each schema check


def loggable_path(path: str) -> str:
    """The path as it may be logged: the secret part of an activation link replaced, and cut short."""
    for prefix in SECRET_PATH_PREFIXES:
        if path.startswith(prefix):
            return prefix + "[redacted]"
    return redact(path[:MAX_PATH_CHARS])


def _request_id() -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _user_id() -> int | None:
    """The id of whoever made the request, if it is already known (asking does not sign anyone in
    and does not count as activity): a view may set `g.log_user_id` (e.g. for an API token)."""
    if g.get("log_user_id") is not None:
        return g.log_user_id
    user = g.get("_login_user")  # flask-login's user for this request, once loaded
    viewer = getattr(user, "viewer", None)
    return getattr(viewer, "user_id", None)


def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id = _request_id()


def _log_request(response: Response) -> Response:
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or ""
    status = response.status_code
    level = logging.ERROR if status >= 500 else logging.INFO
    logging.getLogger(REQUEST_LOGGER).log(
        level,
        "%s %s %s",
        request.method,
        loggable_path(request.path),
        status,
        extra={
            "method": request.method,
            "path": loggable_path(request.path),
            "status": status,
            "duration_ms": duration_ms,
            "user_id": _user_id(),
            "request_id": g.get("request_id"),
        },
    )
    return response


def init_request_logging(server: Flask) -> None:
    """Give every request an id and a log line. Call before any other `before_request` function is
    added (so that a request another one answers early is timed and logged too)."""
    server.before_request_funcs.setdefault(None, []).insert(0, _start)
    # after_request functions run in reverse order: registered first, this one runs last, when
    # the signed-in user is known and the response is final.
    server.after_request_funcs.setdefault(None, []).insert(0, _log_request)
