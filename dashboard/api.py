"""The read-only API: `GET /api/v1/summary` and its description, `GET /api/v1/openapi.json`.

- Authentication is by API token only (`Authorization: Bearer pdk_...`, see api_tokens.py): a
  browser's session cookie does not open the summary. Every refusal of a token gets the same
  401 answer, whatever the reason (missing, malformed, unknown, revoked, expired, user or
  organisation no longer active); the reason goes to the audit log only.
- The summary is the one national summaries make (`summaries.build`, counted with the national
  viewer's access: TLP:GREEN and TLP:CLEAR records, after disclosure control), so the API can never
  show more than the summaries page does.
- Limits (flask-limiter's storage): `api_rate_limit` calls per token, and
  `api_auth_failure_limit` failed token checks per address; over either, 429 with Retry-After.
  An address over its failure limit is refused before any database work, and not audited, so
  that a flood of guesses costs nothing.
- Every other call is audited as "api-call": the user when known, the path, the parameters
  (bounded) and the status.

The app's route guard (`web._guard`) lets requests to this blueprint's endpoints through to the
checks here; everything else under /api/ still needs a signed-in session.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from datetime import date
from functools import lru_cache

from flask import Blueprint, Flask, Response, g, request
from limits import parse_many
from sqlalchemy.orm import Session

from . import api_tokens, audit, summaries
from .access import Viewer
from .config import Settings
from .openapi import FIRST_QUARTER, MARKING_HEADER, OPENAPI_PATH, SUMMARY_PATH, document
from .web import current_viewer, extension

BLUEPRINT = "api"
bp = Blueprint(BLUEPRINT, __name__)

PARAMETERS = ("to", "quarters", "geography", "breakdown", "area", "category")
REPEATABLE = frozenset({"area", "category"})
UNAUTHORISED = (
    "Sign in required: send a working API token in the Authorization header, "
    "as \u201cAuthorization: Bearer pdk_...\u201d. Ask an administrator if you need one."
)
FORBIDDEN = "The token\u2019s user may not see national summaries."
WWW_AUTHENTICATE = 'Bearer realm="partnership-dashboard"'
_QUARTER = re.compile(r"[0-9]{4}Q[1-4]")  # used with fullmatch
_WHOLE_NUMBER = re.compile(r"[0-9]{1,3}")
# What an audited call keeps of its parameters: enough to see what was asked, bounded in size.
AUDIT_MAX_PARAMS = 12
AUDIT_MAX_VALUES = 70
AUDIT_MAX_CHARS = 60


def _today() -> date:
    return date.today()


# --- answers ------------------------------------------------------------------------------------


def _json(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error(status: int, field: str | None, message: str, headers: dict | None = None) -> Response:
    """An error as JSON: {"error": {"field": ..., "message": ...}}."""
    return _json({"error": {"field": field, "message": message}}, status, headers)


def _unauthorised() -> Response:
    return error(401, "Authorization", UNAUTHORISED, {"WWW-Authenticate": WWW_AUTHENTICATE})


def _too_many(retry_after: int, per: str) -> Response:
    return error(
        429, None,
        f"Too many {per}. Wait {retry_after} second{'' if retry_after == 1 else 's'}, then try again.",
        {"Retry-After": str(retry_after)},
    )


# --- limits -------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _parsed(limit: str):
    return tuple(parse_many(limit))


def _over_limit(limit: str, key: str, *, count: bool = True) -> int | None:
    """Count a call against `limit` for `key` (or only look, with count=False); the seconds to
    wait when it is over, else None."""
    strategy = extension().limiter.limiter
    for item in _parsed(limit):
        allowed = strategy.hit(item, "api", key) if count else strategy.test(item, "api", key)
        if not allowed:
            stats = strategy.get_window_stats(item, "api", key)
            return max(1, math.ceil(stats.reset_time - time.time()))
    return None


# --- the token ----------------------------------------------------------------------------------


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None without the header, and "-"
    (never a token) for any other header, so that it is refused as malformed."""
    header = request.headers.get("Authorization")
    if header is None or not header.strip():
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        return "-"
    return token.strip()


def _audit_params() -> dict[str, list[str]]:
    kept: dict[str, list[str]] = {}
    for name in list(request.args.keys())[:AUDIT_MAX_PARAMS]:
        values = request.args.getlist(name)[:AUDIT_MAX_VALUES]
        kept[name[:AUDIT_MAX_CHARS]] = [v[:AUDIT_MAX_CHARS] for v in values]
    return kept


def _audit(session: Session, status: int, *, user_id: int | None = None, token_id: int | None = None,
           reason: str | None = None, via: str = "token") -> None:
    detail = {"path": request.path, "method": request.method, "params": _audit_params(), "status": status,
              "via": via}
    if token_id is not None:
        detail["token_id"] = token_id
    if reason:
        detail["refused_because"] = reason
    audit.record(session, "api-call", user_id=user_id, actor="api", ip_address=request.remote_addr,
                 detail=detail)


def _call(handler: Callable[[Session, Viewer], Response], *, allow_session: bool = False) -> Response:
    """Check the caller (token, or a signed-in session where allowed) and the limits, run
    `handler(session, viewer)`, and audit the call, all in one transaction."""
    ext = extension()
    settings: Settings = ext.settings
    address = request.remote_addr or "unknown"
    browser = current_viewer() if allow_session and request.headers.get("Authorization") is None else None
    if browser is None:
        wait = _over_limit(settings.api_auth_failure_limit, f"failed:{address}", count=False)
        if wait:
            return _too_many(wait, "failed token checks from your address")
    user_id = token_id = None
    try:
        with ext.db.session() as session:
            if browser is not None:
                user_id = browser.user_id
                response = handler(session, browser) if browser.active else _unauthorised()
                _audit(session, response.status_code, user_id=user_id, via="session")
                return response
            checked = api_tokens.check(session, bearer_token())
            user_id, token_id = checked.user_id, checked.token_id
            g.log_user_id = user_id  # the request log names the token's user (logging_setup)
            if not checked.ok:
                _over_limit(settings.api_auth_failure_limit, f"failed:{address}")
                response = _unauthorised()
                _audit(session, response.status_code, user_id=user_id, token_id=token_id,
                       reason=checked.reason)
                return response
            wait = _over_limit(settings.api_rate_limit, f"token:{checked.token_id}")
            response = _too_many(wait, "calls with this token") if wait else handler(session, checked.viewer)
            _audit(session, response.status_code, user_id=user_id, token_id=token_id)
            return response
    except Exception:
        # The failed transaction is gone; the call is still recorded, on its own.
        try:
            with ext.db.session() as session:
                _audit(session, 500, user_id=user_id, token_id=token_id)
        except Exception:  # noqa: BLE001, S110 - the original error is the one to report
            pass
        raise


# --- the summary -----------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _one(name: str) -> str | None:
    values = request.args.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise _Refused(name, f"Give {name} once, not {len(values)} times.")
    return values[0]


def summary_params(vocabulary: summaries.SummaryChoices, today: date) -> dict[str, str | list[str]]:
    """The query string as `summaries.query_from_params` takes it, after the checks the
    OpenAPI description promises: only the known parameters, each single one once, `to` a
    quarter written like 2026Q3 from 2000Q1 to the latest complete one, area and category
    codes from the vocabulary."""
    unknown = [name for name in request.args if name not in PARAMETERS]
    if unknown:
        names = ", ".join(sorted(set(unknown)))
        raise _Refused(
            sorted(unknown)[0],
            f"Unknown parameter{'s' if len(set(unknown)) > 1 else ''}: {names}. "
            f"The parameters are: {', '.join(PARAMETERS)}.",
        )
    params: dict[str, str | list[str]] = {}
    to = _one("to")
    if to is not None:
        latest = summaries.Quarter.latest_complete(today)
        if not _QUARTER.fullmatch(to) or not FIRST_QUARTER <= summaries.Quarter.parse(to) <= latest:
            raise _Refused("to", f"to must be a quarter that has ended, written like {latest.code}, from "
                                 f"{FIRST_QUARTER.code} to {latest.code}; not {to[:AUDIT_MAX_CHARS]!r}.")
        params["to"] = to
    quarters = _one("quarters")
    if quarters is not None:
        if not _WHOLE_NUMBER.fullmatch(quarters) or not 1 <= int(quarters) <= summaries.MAX_QUARTERS:
            raise _Refused(
                "quarters", f"quarters must be a whole number from 1 to {summaries.MAX_QUARTERS}, "
                f"not {quarters[:AUDIT_MAX_CHARS]!r}."
            )
        params["quarters"] = str(int(quarters))
    for name, allowed in (("geography", summaries.Geography), ("breakdown", summaries.Breakdown)):
        value = _one(name)
        if value is not None:
            if value not in {a.value for a in allowed}:
                choices = ", ".join(a.value for a in allowed)
                raise _Refused(name, f"{name} must be one of {choices}, not {value[:AUDIT_MAX_CHARS]!r}.")
            params[name] = value
    for name, known, what in (("area", vocabulary.districts, "district GSS code"),
                              ("category", vocabulary.categories, "incident category code")):
        codes = {code for code, _label in known}
        values = list(dict.fromkeys(request.args.getlist(name)))  # the same code twice counts once
        wrong = [v for v in values if v not in codes]
        if wrong:
            shown = ", ".join(repr(v[:AUDIT_MAX_CHARS]) for v in wrong[:5])
            raise _Refused(name, f"{name}: {shown} {'is not a' if len(wrong) == 1 else 'are not'} known "
                                 f"{what}{'' if len(wrong) == 1 else 's'}. See {OPENAPI_PATH} for the codes.")
        if values:
            params[name] = values
    return params


def _summary(session: Session, viewer: Viewer) -> Response:
    if not summaries.may_view(viewer):
        return error(403, "Authorization", FORBIDDEN)
    today = _today()
    try:
        vocabulary = summaries.choices(session, today)
        query = summaries.query_from_params(summary_params(vocabulary, today), today, vocabulary)
    except _Refused as refused:
        return error(400, refused.field, refused.message)
    except summaries.SummaryError as refused:
        return error(400, refused.field, str(refused))
    try:
        result = summaries.build(session, viewer, query)
    except PermissionError:
        return error(403, "Authorization", FORBIDDEN)
    return _json(summaries.to_dict(result), headers={MARKING_HEADER: result.marking})


def _openapi(session: Session, _viewer: Viewer) -> Response:
    today = _today()
    settings: Settings = extension().settings
    vocabulary = summaries.choices(session, today)
    latest = summaries.Quarter.latest_complete(today)
    return _json(document(vocabulary, latest, rate_limit=settings.api_rate_limit,
                          auth_failure_limit=settings.api_auth_failure_limit))


@bp.get(SUMMARY_PATH)
def summary() -> Response:
    """The national summary for the query string, as JSON (token only)."""
    return _call(_summary)


@bp.get(OPENAPI_PATH)
def openapi() -> Response:
    """The OpenAPI description (a token, or a signed-in browser session)."""
    return _call(_openapi, allow_session=True)


def init_api(server: Flask) -> None:
    """Add the API's routes to the app (the route guard already lets them reach their checks)."""
    server.register_blueprint(bp)
