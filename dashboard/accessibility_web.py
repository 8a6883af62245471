"""The accessibility statement: /accessibility, as the Public Sector Bodies (Websites and Mobile
Applications) (No. 2) Accessibility Regulations 2018 require.

Public, so that someone who cannot sign in can read it and find out how to get help; it holds
no records. It is linked from the sign-in page and from every page of the app.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template

from .web import demo_mode

bp = Blueprint("accessibility", __name__, template_folder="templates")

ENDPOINTS = ("accessibility.statement",)  # the route guard's allow-list
PREPARED_ON = date(2026, 11, 24)
REVIEWED_ON = date(2026, 11, 24)


@bp.route("/accessibility")
def statement():
    return render_template(
        "accessibility.html", demo=demo_mode(), prepared_on=_day(PREPARED_ON), reviewed_on=_day(REVIEWED_ON),
    )


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
