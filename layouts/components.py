"""Small pieces shared by pages: marking labels, cards and notices."""

from __future__ import annotations

from dash import html

from dashboard.reference import MARKING_DESCRIPTIONS, Marking


def marking_label(marking: str) -> html.Span:
    """A marking, always as text (its colour only repeats what the text says)."""
    m = Marking(marking)
    css = m.name.lower().replace("_", "-")
    return html.Span(m.value, className=f"tlp tlp-{css}", title=MARKING_DESCRIPTIONS[m])


def card(title: str, *children, id_: str | None = None, heading_level: int = 2) -> html.Section:
    heading = getattr(html, f"H{heading_level}")(title, className="card-title h5")
    props = {"id": id_} if id_ else {}
    return html.Section([heading, *children], className="card card-body mb-4", **props)
