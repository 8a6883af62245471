"""(being built) The activation page a new user reaches from their invitation link."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("activation", __name__, template_folder="templates")
