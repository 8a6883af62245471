"""(being built) The second-factor pages: the code at sign-in, enrolment and recovery codes."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("two_factor", __name__, template_folder="templates")
