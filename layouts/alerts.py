"""Alerts: the viewer's early warnings, waiting ones first, each with its evidence and an
"Acknowledge" button; acknowledged ones below."""

from __future__ import annotations

from datetime import datetime

from dash import dcc, html

from dashboard.access import Viewer
from dashboard.alerts import AlertItem
from dashboard.reference import TENSION_LEVELS

from .components import marking_label

INTRO = (
    "Early warnings for the districts your organisation covers (the chair receives all of "
    "them): a sharp rise in incidents, or a district whose latest tension assessment is at "
    "level 4 (high) or 5 (critical). Surge figures count only records every partner may see "
    "(TLP:GREEN and TLP:CLEAR)."
)


def _when(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def _level_badge(level: int) -> html.Span:
    t = TENSION_LEVELS[level]
    return html.Span(
        f"Level {level} {t.label}", className="tension-badge",
        style={"backgroundColor": t.colour, "color": t.text_colour},
    )


def _alert(item: AlertItem, heading: str = "H3") -> html.Li:
    facts = [
        html.Span(item.kind_label, className="fw-semibold"),
        f" · District: {item.area_name}",
    ]
    if item.category_label:
        facts.append(f" · Category: {item.category_label}")
    facts += [f" · Raised {_when(item.created_at)} · Handling: ", marking_label(item.marking)]
    body = [
        getattr(html, heading)(item.title, className="h6 mb-1", id=f"alerts-title-{item.id}"),
        html.P(facts, className="small mb-1"),
    ]
    if item.level:
        body.append(html.P(["Latest tension level: ", _level_badge(item.level)], className="mb-1"))
    body.append(html.P(item.summary, className="mb-2"))
    actions = [
        dcc.Link(
            ["See the evidence", html.Span(f": {item.title}", className="visually-hidden")],
            href=item.link, className="me-3",
        )
    ]
    if item.acknowledged_at is None:
        actions.append(
            html.Button(
                ["Acknowledge", html.Span(f": {item.title}", className="visually-hidden")],
                id={"type": "alerts-ack", "index": item.id},
                className="btn btn-primary btn-sm alerts-ack",
                type="button",
            )
        )
    else:
        actions.append(html.Span(f"Acknowledged by you, {_when(item.acknowledged_at)}", className="text-body-secondary"))
    body.append(html.Div(actions, className="d-flex align-items-center flex-wrap gap-2"))
    return html.Li(
        html.Article(body, **{"aria-labelledby": f"alerts-title-{item.id}"}),
        className="list-group-item py-3",
        id=f"alerts-item-{item.id}",
    )


def alert_list(items: list[AlertItem]) -> list:
    """The waiting and the acknowledged alerts, as sections (re-rendered after acknowledging)."""
    waiting = [i for i in items if i.acknowledged_at is None]
    done = [i for i in items if i.acknowledged_at is not None]
    waiting_section = [
        html.H2(f"Waiting for acknowledgement ({len(waiting)})", className="h5", id="alerts-waiting-heading",
                tabIndex="-1"),
    ]
    if waiting:
        waiting_section += [
            html.Button(
                "Acknowledge all",
                id={"type": "alerts-ack-all", "index": 0},
                className="btn btn-outline-primary btn-sm mb-2",
                type="button",
            ),
            html.Ul([_alert(i) for i in waiting], className="list-group mb-4", id="alerts-waiting"),
        ]
    else:
        waiting_section.append(html.P("No alerts are waiting for you.", id="alerts-none-waiting"))
    done_section = [html.H2(f"Acknowledged ({len(done)})", className="h5 mt-4")]
    if done:
        done_section.append(html.Ul([_alert(i) for i in done], className="list-group", id="alerts-acknowledged"))
    else:
        done_section.append(html.P("You have not acknowledged any alerts yet."))
    return [html.Section(waiting_section, className="mb-3"), html.Section(done_section)]


def layout(viewer: Viewer, items: list[AlertItem]) -> html.Div:
    return html.Div(
        [
            html.H1("Alerts"),
            html.P(INTRO, className="lead"),
            html.Div(id="alerts-status", role="status", **{"aria-live": "polite"}, className="mb-2"),
            html.Div(alert_list(items), id="alerts-list"),
            html.Div(id="alerts-focus-sink", hidden=True),
        ]
    )


def acknowledged_message(count: int, waiting: int) -> str:
    done = (
        "Nothing to acknowledge: already acknowledged." if count == 0
        else f"Acknowledged {count} alert{'s' if count != 1 else ''}."
    )
    return f"{done} {waiting} still waiting." if waiting else f"{done} No alerts are waiting."


def count_text(count: int) -> list:
    """The header's "Alerts (N)" number: text, never colour alone."""
    return [f" ({count}", html.Span(" waiting", className="visually-hidden"), ")"]
