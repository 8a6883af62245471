"""Since the last meeting: biggest rises, new hotspots, surges, tension changes, upcoming triggers."""

from __future__ import annotations

from dash import dcc, html

from dashboard.reference import TENSION_LEVELS
from dashboard.since_meeting import AreaChange, SinceMeeting

from .warning import warning_panel


def layout() -> html.Div:
    return html.Div(
        [
            dcc.Store(id="since-load", data=True),
            html.H1("Since the last meeting"),
            html.P(
                "What has changed since the partnership last met, to review before the next meeting. "
                "Every figure counts only the records you may see.",
                className="lead",
            ),
            dcc.Loading(html.Div(id="since-content"), type="circle"),
        ]
    )


def _change(c: AreaChange) -> str:
    percent = "" if c.percent is None else f" ({c.percent:+.0f}%)"
    return f"{c.change:+,}{percent}"


def _changes_table(rows: list[AreaChange], caption: str, id_: str) -> html.Div:
    return _scrolls(html.Table(
        [
            html.Caption(caption),
            html.Thead(html.Tr([html.Th(h, scope="col") for h in
                                ("District", "Since the meeting", "The period before", "Change", "Per 100,000 now")])),
            html.Tbody([
                html.Tr([
                    html.Th(c.name, scope="row"),
                    html.Td(f"{c.now:,}", className="text-end"),
                    html.Td(f"{c.before:,}", className="text-end"),
                    html.Td(_change(c), className="text-end"),
                    html.Td(f"{c.rate_now:,.1f}", className="text-end"),
                ])
                for c in rows
            ]),
        ],
        className="table table-sm",
        id=id_,
    ))


def _scrolls(table: html.Table) -> html.Div:
    """A table that scrolls sideways in its own box when the screen is narrower than it."""
    return html.Div(table, className="table-responsive")


def _level(level: int | None) -> html.Span | str:
    if level is None:
        return "none assessed"
    t = TENSION_LEVELS[level]
    return html.Span(f"{level} {t.label}", className="tension-badge",
                     style={"backgroundColor": t.colour, "color": t.text_colour})


def _section(title: str, *children, id_: str) -> html.Section:
    return html.Section([html.H2(title, className="h5"), *children], className="card card-body mb-3", id=id_)


def content(s: SinceMeeting) -> html.Div:
    if s.meeting_on:
        intro = (f"Last meeting: {s.meeting_title}, {s.meeting_on:%-d %B %Y}. Comparing the {s.days} days since "
                 f"({s.start:%-d %b} to {s.end:%-d %b %Y}) with the {s.days} days before "
                 f"({s.before_start:%-d %b} to {s.before_end:%-d %b %Y}).")
    else:
        intro = (f"No meeting is on record yet, so this compares the last {s.days} days with the {s.days} days "
                 "before them.")
    change = s.total - s.before_total
    totals = (f"{s.total:,} incidents you can see since then, against {s.before_total:,} in the period before "
              f"({change:+,}).")
    rises = (
        _changes_table(s.rises, "Districts with the biggest rises in incidents", "since-rises")
        if s.rises else html.P("No district has more incidents than in the period before.")
    )
    hotspots = (
        html.Div([
            html.P("Districts now among the ten with the most incidents for their population (at least 5 incidents) "
                   "that were not among them in the period before."),
            _changes_table(s.new_hotspots, "New hotspots", "since-hotspots"),
        ])
        if s.new_hotspots else html.P("No new hotspots: the districts with the highest rates are the same as before.")
    )
    tension = (
        _scrolls(html.Table(
            [
                html.Caption("Districts whose latest tension level has changed since the meeting"),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in ("District", "At the meeting", "Now", "Assessed")])),
                html.Tbody([
                    html.Tr([html.Th(t.name, scope="row"), html.Td(_level(t.before)), html.Td(_level(t.now)),
                             html.Td(f"{t.assessed_on:%-d %b %Y}")])
                    for t in s.tension_changes
                ]),
            ],
            className="table table-sm",
            id="since-tension",
        ))
        if s.tension_changes else html.P("No tension level you can see has changed since the meeting.")
    )
    upcoming = (
        html.Ul([
            html.Li([html.Strong(e.title), f" ({e.kind}) {e.starts_on:%-d %b %Y}"
                     + (f" to {e.ends_on:%-d %b %Y}" if e.ends_on != e.starts_on else "")
                     + ("; region-wide" if e.region_wide else f"; {', '.join(e.area_names[:4])}")
                     + (f"; run-up from {e.run_up[0]:%-d %b %Y}" if e.run_up else "")])
            for e in s.upcoming
        ], id="since-upcoming")
        if s.upcoming else html.P("Nothing in the calendar for the next 12 weeks.")
    )
    return html.Div(
        [
            html.P(intro, id="since-intro"),
            html.P(totals, className="fw-semibold", id="since-totals"),
            _section("Biggest rises", rises, id_="since-rises-section"),
            _section("New hotspots", hotspots, id_="since-hotspots-section"),
            _section("Surges now", warning_panel(s.warning), id_="since-surges-section"),
            _section("Tension level changes", tension, id_="since-tension-section"),
            _section("Upcoming trigger events (next 12 weeks)", upcoming,
                     dcc.Link("Open the trigger calendar", href="/calendar"), id_="since-upcoming-section"),
        ]
    )
