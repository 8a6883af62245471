"""What every callback starts with: the signed-in viewer, checked on the server, and a request
whose values have the types the page's components send."""

from __future__ import annotations

import math

from dash.exceptions import PreventUpdate
from flask import abort, has_request_context, request

from dashboard.access import Viewer
from dashboard.web import current_viewer

# The largest integer a browser holds exactly: click counts and record ids stay below it.
LARGEST_INT = 2**53
# Properties the components set themselves, by the type they always have. A forged request with
# another type (a list of clicks, a dict for a dropdown's value) is refused before the callback
# reads it. Properties not listed here (stores, click data, grid requests) are checked by their
# callbacks.
COUNTERS = frozenset({"n_clicks", "n_submit", "n_blur", "n_intervals", "submit_n_clicks", "cancel_n_clicks"})
FLAGS = frozenset({"is_open", "hidden", "displayed", "disabled", "invalid"})
TEXTS = frozenset({"pathname", "search", "hash", "href", "date", "start_date", "end_date"})
TEXT_OR_LISTS = frozenset({"contents", "filename"})
# Stores that count redraws (data=0, one more after each change) are named so.
COUNTER_STORES = ("-changed", "-refresh")


def _number(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -LARGEST_INT <= value <= LARGEST_INT
    return isinstance(value, float) and math.isfinite(value)


def _scalar(value) -> bool:
    """What an input, drop-down or radio holds. Any whole number: a number typed into a number
    field reaches the callback as typed, and the field's own check says if it is too large."""
    return value is None or isinstance(value, str | int) or (isinstance(value, float) and math.isfinite(value))


def value_fits(prop: str, value, ident: object = None) -> bool:
    """Whether `value` is something the component `ident` holding `prop` can send."""
    if value is None:
        return True
    if prop in COUNTERS or (prop == "data" and isinstance(ident, str) and ident.endswith(COUNTER_STORES)):
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LARGEST_INT
    if prop in FLAGS:
        return isinstance(value, bool)
    if prop in TEXTS:
        return isinstance(value, str)
    if prop in TEXT_OR_LISTS:
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    if prop == "value":  # inputs, dropdowns, radios, checklists: a scalar or a flat list of scalars
        return _scalar(value) or (isinstance(value, list) and all(_scalar(v) for v in value))
    return True


def _id_fits(ident) -> bool:
    """A pattern-matching component's id holds strings and numbers only (e.g. a record's id)."""
    if isinstance(ident, dict):
        return all(isinstance(v, (str, bool)) or _number(v) for v in ident.values())
    return isinstance(ident, str)


def check_request_values() -> None:
    """Refuse (400) a callback request whose inputs or state have a type no component sends."""
    if not has_request_context() or not request.path.endswith("/_dash-update-component"):
        return
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return  # Dash itself has refused anything else before a callback runs
    items = []
    for dep in list(body.get("inputs") or []) + list(body.get("state") or []):
        items.extend(dep if isinstance(dep, list) else [dep])
    for item in items:
        if not isinstance(item, dict) or not _id_fits(item.get("id")) or not isinstance(item.get("property"), str):
            abort(400, "The request is not one this page sends.")
        if not value_fits(item["property"], item.get("value"), item.get("id")):
            abort(400, "The request is not one this page sends.")


def chosen(value) -> list:
    """A multi-select's values as a list (one value as one item; none as none)."""
    if isinstance(value, list | tuple):
        return list(value)
    return [] if value in (None, "") else [value]


def require_viewer(roles) -> Viewer:
    """The viewer making this request, if their role may use the callback; otherwise no update.
    A request carrying values of the wrong type is refused (400) before the callback reads them."""
    viewer = current_viewer()
    if viewer is None or viewer.role not in roles:
        raise PreventUpdate
    check_request_values()
    return viewer
