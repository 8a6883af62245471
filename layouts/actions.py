"""The action tracker and an action's page: the tracker's filters, summary and table; the action
with its links, the progress form, its updates and history, and the outcome chart (weekly
incidents and the tension level in a linked district around the action's period)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.actions import (
    NOTE_MAX,
    OUTCOME_WEEKS,
    RAG_ORDER,
    STATUS_LABELS,
    ActionChoices,
    ActionFilters,
    ActionView,
    Outcome,
    Rag,
    UpdateEntry,
)
from dashboard.reference import TENSION_LEVELS

from . import record_parts as parts
from .trends import LEGEND, PALETTE, empty_figure

# --- the tracker's view in the address bar -------------------------------------------------------

ANY = "all"  # a filter's "all" choice (not blank: a blank value would show the placeholder)
VIEW_ALL, VIEW_MINE = "all", "mine"
VIEW_CHOICES = [(VIEW_ALL, "All actions"), (VIEW_MINE, "My organisation's actions")]
# The RAG filter's choices (amber covers both due soon and blocked, as the rating does).
RAG_CHOICES = [
    (Rag.RED.value, "Overdue"),
    (Rag.AMBER.value, "Due soon or blocked"),
    (Rag.GREEN.value, "On track"),
    (Rag.CLOSED.value, "Done or dropped"),
]
FILTER_KEYS = ("owner", "meeting", "area", "status", "rag")
FILTER_IDS = {key: f"actions-filter-{key}" for key in FILTER_KEYS}
VIEW_ID = "actions-view"

# A symbol beside each rating's words, so that neither colour nor the symbol carries it alone.
RAG_SYMBOLS = {
    "Overdue": "\u25b2",  # ▲
    "Blocked": "\u25a0",  # ■
    "Due soon": "\u25c6",  # ◆
    "On track": "\u25cf",  # ●
    "Done": "\u2713",  # ✓
    "Dropped": "\u2715",  # ✕
}

# --- the progress form --------------------------------------------------------------------------

UPDATE_FIELDS = {
    "status": "action-update-status",
    "progress": "action-update-progress",
    "note": "action-update-note",
}
UPDATE_GROUPS = {"status"}
UPDATE_SINGLE = [name for name in UPDATE_FIELDS if name not in UPDATE_GROUPS]
UPDATE_TARGETS = {name: parts.link_target(i, name in UPDATE_GROUPS, [1]) for name, i in UPDATE_FIELDS.items()}
UPDATE_LABELS = {"status": "Status", "progress": "Progress (%)", "note": "Progress note"}

LEVEL_LINE = PALETTE[2]  # #801650
BARS = PALETTE[0]  # #12436D
PERIOD_FILL = "rgba(40, 161, 151, 0.16)"  # #28A197, light
GRAPH_CONFIG = {"displayModeBar": False, "displaylogo": False, "responsive": True}


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def parse_id(raw) -> int | None:
    return parts.parse_id(raw)


def parse_view(query: Mapping, choices: ActionChoices) -> dict:
    """The tracker's filters from the address bar; anything unknown means "all"."""
    owners = {str(i) for i, _ in choices.owners}
    meetings = {str(i) for i, _ in choices.meetings}
    areas = {code for code, _ in parts.sorted_districts(choices.areas)}
    known = {
        "owner": owners,
        "meeting": meetings,
        "area": areas,
        "status": set(STATUS_LABELS),
        "rag": {value for value, _ in RAG_CHOICES},
    }
    view = {}
    for key in FILTER_KEYS:
        value = str(query.get(key) or "").strip()
        view[key] = value if value in known[key] else ANY
    view["view"] = VIEW_MINE if str(query.get("view") or "") == VIEW_MINE else VIEW_ALL
    return view


def view_from_controls(values: Mapping, choices: ActionChoices) -> dict:
    """The view from the filter controls (checked as the address bar's values are)."""
    return parse_view({key: values.get(key) for key in (*FILTER_KEYS, "view")}, choices)


def chosen(view: Mapping, key: str) -> bool:
    """Whether the view narrows `key` to one value (rather than "all")."""
    return view.get(key) not in (None, "", ANY)


def is_filtered(view: Mapping) -> bool:
    return any(chosen(view, key) for key in FILTER_KEYS) or view.get("view") == VIEW_MINE


def query_string(view: Mapping) -> str:
    """The view as a query string ("?owner=3&view=mine"): choices only, never records."""
    query = {key: view[key] for key in FILTER_KEYS if chosen(view, key)}
    if view.get("view") == VIEW_MINE:
        query["view"] = VIEW_MINE
    return "?" + urlencode(query) if query else ""


def action_filters(view: Mapping) -> ActionFilters:
    """The domain's filters for a (checked) view."""

    def one(key, cast=str) -> tuple:
        return (cast(view[key]),) if chosen(view, key) else ()

    return ActionFilters(
        owners=one("owner", int), meetings=one("meeting", int), areas=one("area"),
        statuses=one("status"), rags=one("rag"), mine=view.get("view") == VIEW_MINE,
    )


# --- words -----------------------------------------------------------------------------------------


def rag_text(action: ActionView) -> str:
    """The rating in words: "Overdue (12 days)", "Due soon", "Blocked", "On track", "Done", "Dropped"."""
    if action.rag == Rag.RED:
        days = max(int(action.days_overdue or 0), 1)
        return f"Overdue ({_plural(days, 'day')})"
    return action.rag_label


def rag_badge(action: ActionView, id_: str | None = None) -> html.Span:
    """The rating as a badge: a symbol and the words, on a colour that only repeats them."""
    symbol = RAG_SYMBOLS.get(action.rag_label, "")
    css = f"action-rag action-rag-{action.rag.value}"
    if action.rag == Rag.CLOSED:
        css += f" action-rag-{str(action.status).replace(' ', '-')}"
    props = {"id": id_} if id_ else {}
    return html.Span(
        [html.Span(symbol, className="action-rag-symbol", **{"aria-hidden": "true"}), rag_text(action)],
        className=css, **props,
    )


def summary_sentence(counts: Mapping) -> str:
    """'12 actions: 3 overdue, 2 due soon or blocked, 5 on track and 2 done or dropped.'"""
    by = {Rag(k): int(v) for k, v in counts.items()}
    total = sum(by.values())
    if not total:
        return "No actions match."
    parts_ = [
        f"{by.get(Rag.RED, 0):,} overdue",
        f"{by.get(Rag.AMBER, 0):,} due soon or blocked",
        f"{by.get(Rag.GREEN, 0):,} on track",
        f"{by.get(Rag.CLOSED, 0):,} done or dropped",
    ]
    return f"{_plural(total, 'action')}: {', '.join(parts_[:-1])} and {parts_[-1]}."


def count_text(shown: int, total: int) -> str:
    if not total:
        return ""
    if shown >= total:
        return f"Showing {'the' if total == 1 else 'all'} {_plural(total, 'action')}, overdue first."
    return (f"Showing the first {shown:,} of {_plural(total, 'action')}, overdue first. "
            "Choose filters to narrow the list.")


def districts_text(action: ActionView) -> str:
    return ", ".join(name for _code, name in action.areas) or "None linked"


# --- the tracker ------------------------------------------------------------------------------------


def not_a_partner(title: str = "Action tracker") -> html.Div:
    return html.Div(
        [
            html.H1(title),
            html.P(
                "Actions are shared by the partnership's member organisations. Your account or organisation "
                "is not an active member, so they are not shown. Ask your administrator."
            ),
        ]
    )


def _select(key: str, label: str, everything: str, choices: Sequence[tuple], value: str) -> html.Div:
    options = [{"label": everything, "value": ANY}] + [{"label": str(lab), "value": str(val)} for val, lab in choices]
    return html.Div(
        [
            dbc.Label(label, html_for=FILTER_IDS[key], className="fw-semibold mb-1"),
            dbc.Select(id=FILTER_IDS[key], options=options, value=value or ANY),
        ],
        className="actions-filter me-3 mb-2",
    )


def filters(view: Mapping, choices: ActionChoices) -> html.Section:
    return html.Section(
        [
            html.H2("Choose which actions to show", className="h6", id="actions-filters-heading"),
            html.Fieldset(
                [
                    html.Legend("Show", className="fs-6 fw-semibold mb-1"),
                    dbc.RadioItems(id=VIEW_ID, name=VIEW_ID, options=parts.choice_options(VIEW_ID, VIEW_CHOICES),
                                   value=view["view"], inline=True),
                ],
                className="mb-2",
            ),
            html.Div(
                [
                    _select("owner", "Owner organisation", "All organisations", choices.owners, view["owner"]),
                    _select("meeting", "Meeting", "All meetings", choices.meetings, view["meeting"]),
                    _select("area", "District", "All districts", parts.sorted_districts(choices.areas),
                            view["area"]),
                    _select("status", "Status", "All statuses", list(STATUS_LABELS.items()), view["status"]),
                    _select("rag", "Rating", "All ratings", RAG_CHOICES, view["rag"]),
                ],
                className="d-flex flex-wrap align-items-end",
            ),
            html.P(dcc.Link("Clear the filters", href="/actions", id="actions-clear"), className="mb-0 small"),
        ],
        className="card card-body mb-3 actions-filters",
        id="actions-filters",
        **{"aria-labelledby": "actions-filters-heading"},
    )


def tracker_table(actions: Sequence[ActionView], filtered: bool) -> html.Div:
    """The actions as a table (at most a few hundred rows), or what to do when none match."""
    if not actions:
        message = ("No actions match these filters. Choose other filters, or clear them to see every action."
                   if filtered else "No actions have been recorded yet. The chair records them after each meeting.")
        return html.P(message, id="actions-empty", className="notice")
    headers = ("Rating", "Action", "Owner organisation", "Lead", "Meeting", "Due date", "Status", "Progress",
               "Districts")
    rows = []
    for a in actions:
        rows.append(
            html.Tr(
                [
                    html.Td(rag_badge(a)),
                    html.Th(dcc.Link(a.description, href=f"/actions/{a.id}", className="actions-link"),
                            scope="row", className="fw-normal actions-description"),
                    html.Td(a.owner),
                    html.Td(a.lead or "Not named"),
                    html.Td([dcc.Link(a.meeting_title, href=f"/meetings/{a.meeting_id}"),
                             html.Div(parts.day_text(a.meeting_held_on), className="small")]),
                    html.Td(parts.day_text(a.due_on), className="text-nowrap"),
                    html.Td(a.status_label),
                    html.Td(f"{a.progress}%", className="text-end"),
                    html.Td(districts_text(a), className="small"),
                ],
                id=f"actions-row-{a.id}",
                className=f"actions-row-{a.rag.value}",
            )
        )
    return html.Div(
        html.Table(
            [
                html.Caption(f"{_plural(len(actions), 'action')}: overdue first, then by due date"),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in headers])),
                html.Tbody(rows),
            ],
            className="table table-sm align-middle actions-table",
            id="actions-tracker-table",
        ),
        className="table-responsive actions-table-wrap",
    )


def tracker_page(view: Mapping, choices: ActionChoices, actions: Sequence[ActionView], counts: Mapping,
                 *, may_add: bool, today: date) -> html.Div:
    total = sum(int(v) for v in counts.values())
    filtered = is_filtered(view)
    tools = [html.Button("Print this list", id="actions-print", type="button", n_clicks=0,
                         className="btn btn-outline-secondary")]
    if may_add:
        tools.insert(0, dcc.Link("Add an action", href="/actions/new", className="btn btn-primary",
                                 id="actions-add"))
    return html.Div(
        [
            dcc.Store(id="actions-query", data=query_string(view)),
            html.Div(id="actions-url-sink", hidden=True),
            html.Div(id="actions-print-sink", hidden=True),
            html.H1("Action tracker"),
            html.P(
                "The actions agreed at the partnership's meetings: who does what by when, and how it is going. "
                "Overdue actions come first. Members update their own organisation's actions; the chair "
                "records and changes them.",
                className="lead",
            ),
            html.Div(tools, className="d-flex gap-2 flex-wrap mb-3 actions-tools d-print-none"),
            filters(view, choices),
            html.Section(
                [
                    html.H2("Actions", className="h5", id="actions-results-heading"),
                    html.P(f"As of {parts.day_text(today)}.", className="small mb-1 actions-as-of"),
                    html.Div(
                        [
                            html.P(summary_sentence(counts), id="actions-summary", className="fw-semibold mb-1"),
                            html.P(count_text(len(actions), total), id="actions-count", className="small"),
                        ],
                        role="status", **{"aria-live": "polite", "aria-atomic": "true"},
                    ),
                    dcc.Loading(html.Div(tracker_table(actions, filtered), id="actions-table"), type="dot",
                                delay_show=300),
                ],
                className="actions-results",
                **{"aria-labelledby": "actions-results-heading"},
            ),
        ],
        className="actions-page actions-tracker",
        id="actions-tracker-page",
    )


# --- the action's page ---------------------------------------------------------------------------------


def not_available() -> html.Div:
    return parts.not_available("Action", "/actions", "Go to the action tracker")


def _summary_rows(a: ActionView) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [
        ("Rating", rag_badge(a, "action-rag")),
        ("Status", a.status_label),
        ("Progress", f"{a.progress}%"),
        ("Due date", parts.day_text(a.due_on)),
    ]
    if a.completed_on:
        rows.append(("Done on", parts.day_text(a.completed_on)))
    rows += [
        ("Owner organisation", a.owner),
        ("Lead", a.lead or "Not named"),
        ("Meeting", [dcc.Link(a.meeting_title, href=f"/meetings/{a.meeting_id}", id="action-meeting-link"),
                     f" ({parts.day_text(a.meeting_held_on)})"]),
        ("Last updated", parts.uk_time(a.updated_at)),
    ]
    return rows


def action_summary(a: ActionView) -> html.Dl:
    return parts.summary_list(_summary_rows(a), "action-summary")


def links_section(a: ActionView) -> html.Section:
    districts = (
        html.Ul([html.Li(dcc.Link([name, html.Span(" on the overview map", className="visually-hidden")],
                                  href=f"/?area={code}")) for code, name in a.areas], id="action-districts")
        if a.areas else html.P("No districts are linked.", id="action-districts")
    )
    triggers = (
        html.Ul([html.Li(f"{title} ({parts.day_text(day)})") for _id, title, day in a.triggers],
                id="action-triggers")
        if a.triggers else html.P("No trigger events are linked.", id="action-triggers")
    )
    incidents = (
        html.Ul(
            [html.Li([dcc.Link(f"#{i.id} {i.title}", href=f"/incidents/{i.id}"),
                      f" \u00b7 {parts.day_text(i.occurred_on)} \u00b7 ", parts.marking_cell(i.marking)])
             for i in a.incidents],
            id="action-incidents",
        )
        if a.incidents else html.P("No incidents that you may see are linked.", id="action-incidents")
    )
    return html.Section(
        [
            html.H2("What prompted it", className="h4", id="action-links-heading"),
            html.H3("Districts", className="h6"),
            districts,
            html.H3("Trigger events", className="h6"),
            triggers,
            html.P(dcc.Link("Open the trigger calendar", href="/calendar"), className="small")
            if a.triggers else None,
            html.H3("Incidents", className="h6"),
            incidents,
            html.P("Only incidents whose handling marking includes you are listed.", className="small"),
        ],
        className="mt-4",
        id="action-links",
        **{"aria-labelledby": "action-links-heading"},
    )


def update_form(a: ActionView) -> html.Section:
    """The progress form (status, progress, note) for viewers who may update the action."""
    fields = [
        parts.radio_field(UPDATE_FIELDS["status"], UPDATE_LABELS["status"], list(STATUS_LABELS.items()), a.status,
                          hint="A note is needed when the action is blocked or dropped."),
        parts.text_field(UPDATE_FIELDS["progress"], UPDATE_LABELS["progress"], str(a.progress),
                         hint="A whole number from 0 to 100. Done sets it to 100.", max_length=3,
                         inputMode="numeric", class_name="mb-3 action-progress-field"),
        parts.textarea_field(UPDATE_FIELDS["note"], UPDATE_LABELS["note"], "",
                             hint=f"What has been done, or what is in the way. Up to {NOTE_MAX:,} characters. "
                                  "Partners see it in the progress updates.", max_length=NOTE_MAX, rows=4),
    ]
    return html.Section(
        [
            dcc.Store(id="action-update-version", data=a.version),
            html.Div(id="action-focus-sink", hidden=True),
            html.H2("Record progress", className="h4", id="action-update-heading", tabIndex="-1"),
            parts.error_summary_box("action-update-errors"),
            html.Div(id="action-update-conflict", className="notice conflict-panel mb-3", hidden=True,
                     role="region", **{"aria-label": "The action as saved now"}),
            html.Div(
                [
                    *fields,
                    html.Div(html.Button("Save progress", id="action-update-save", type="button", n_clicks=0,
                                         className="btn btn-primary"), className="d-flex gap-2"),
                ],
                className="card card-body record-form",
            ),
        ],
        className="mt-4 d-print-none",
        id="action-update",
        **{"aria-labelledby": "action-update-heading"},
    )


def conflict_details(current: ActionView | None) -> list:
    """The action as saved now, after someone else's change."""
    if current is None:
        return [html.P("The action has been deleted, or is no longer shared with you.")]
    return [
        html.H3("The action as saved now", className="h6"),
        parts.summary_list(
            [("Status", current.status_label), ("Progress", f"{current.progress}%"),
             ("Rating", rag_text(current)), ("Last updated", parts.uk_time(current.updated_at))],
            "action-update-conflict-summary",
        ),
        html.P("Your entries are still in the form. Check the progress updates below; if your update still "
               "applies, choose \u201cSave progress\u201d again to add it.", className="mb-0"),
    ]


def updates_section(updates: Sequence[UpdateEntry]) -> html.Section:
    if updates:
        content = html.Div(
            html.Table(
                [
                    html.Caption(f"{_plural(len(updates), 'progress update')}, newest first"),
                    html.Thead(html.Tr([html.Th(h, scope="col") for h in
                                        ("When", "Who", "Organisation", "Status", "Progress", "Note")])),
                    html.Tbody([
                        html.Tr(
                            [
                                html.Th(parts.uk_time(u.at), scope="row", className="fw-normal text-nowrap"),
                                html.Td(u.who),
                                html.Td(u.organisation),
                                html.Td(u.status_label),
                                html.Td(f"{u.progress}%", className="text-end"),
                                html.Td(u.note or "No note", className="record-description"),
                            ],
                            id=f"action-updates-{n}",
                        )
                        for n, u in enumerate(updates)
                    ]),
                ],
                className="table table-sm align-middle",
                id="action-updates-table",
            ),
            className="table-responsive",
        )
    else:
        content = html.P("No progress has been recorded yet.", id="action-updates-empty")
    return html.Section(
        [html.H2("Progress updates", className="h4", id="action-updates-heading"), content],
        className="mt-4", id="action-updates", **{"aria-labelledby": "action-updates-heading"},
    )


def history_section(entries: Sequence) -> html.Section:
    return parts.history_section(entries, "action-history")


# --- the outcome chart ------------------------------------------------------------------------------


def level_name(level: int | None) -> str:
    if level is None:
        return "Not assessed"
    t = TENSION_LEVELS.get(level)
    return f"{level} {t.label}" if t else str(level)


def period_text(o: Outcome, a: ActionView | None = None) -> str:
    """'agreed 10 Jun 2026, done 2 Sep 2026' (or 'due', or 'still open on' today)."""
    completed = getattr(o, "completed", a is not None and a.completed_on is not None)
    due_on = getattr(o, "due_on", None) or (a.due_on if a is not None else None)
    if completed:
        end = f"done {parts.day_text(o.end)}"
    elif due_on is not None and due_on <= o.end:
        end = f"due {parts.day_text(o.end)}"
    else:
        end = f"still open on {parts.day_text(o.end)}"
    return f"agreed {parts.day_text(o.start)}, {end}"


def week_period(o: Outcome, week_start: date) -> str:
    if week_start + timedelta(days=6) < o.start:
        return "Before"
    if week_start > o.end:
        return "After"
    return "During"


def _whole_step(largest: int) -> int:
    """A tick step in whole incidents giving about five ticks (1, 2, 5, 10, 20, 50 ...)."""
    step = 1
    while step * 5 < largest:
        for factor in (2, 2.5, 2):
            step = int(step * factor)
            if step * 5 >= largest:
                break
    return step


def _moment(day: date, hours: int = 0) -> str:
    return datetime.combine(day, time(hours)).isoformat()


def outcome_figure(o: Outcome, a: ActionView | None = None) -> dict:
    """Weekly incidents as bars, the tension level as a step line on a second axis (1-5 with
    labels), and the action's period shaded and annotated. A plain dictionary (see trends)."""
    fig = empty_figure()
    fig["layout"]["height"] = 420
    weeks = list(o.weeks)
    labels = [f"Week starting {parts.day_text(w.week_start)}" for w in weeks]
    fig["data"].append({
        "type": "bar", "name": "Incidents a week",
        "x": [_moment(w.week_start + timedelta(days=3), 12) for w in weeks],
        "y": [w.incidents for w in weeks], "width": [6 * 86_400_000] * len(weeks),
        "marker": {"color": BARS}, "customdata": labels,
        "hovertemplate": "%{customdata}: %{y:,} incidents<extra></extra>",
    })
    if weeks:
        xs = [_moment(w.week_start) for w in weeks] + [_moment(weeks[-1].week_start + timedelta(days=7))]
        ys = [w.level for w in weeks] + [weeks[-1].level]
        names = [level_name(w.level) for w in weeks] + [level_name(weeks[-1].level)]
        fig["data"].append({
            "type": "scatter", "mode": "lines", "name": "Tension level (right axis)", "yaxis": "y2",
            "x": xs, "y": ys, "line": {"color": LEVEL_LINE, "width": 3, "shape": "hv"}, "connectgaps": False,
            "customdata": [*labels, labels[-1]], "text": names,
            "hovertemplate": "%{customdata}: tension %{text}<extra></extra>",
        })
    end = o.end + timedelta(days=1)
    fig["layout"]["shapes"] = [{
        "type": "rect", "xref": "x", "yref": "paper", "x0": _moment(o.start), "x1": _moment(end),
        "y0": 0, "y1": 1, "fillcolor": PERIOD_FILL, "line": {"color": PALETTE[1], "width": 1, "dash": "dot"},
        "layer": "below",
    }]
    fig["layout"]["annotations"] = [{
        "xref": "x", "yref": "paper", "x": _moment(o.start), "y": 1.0, "xanchor": "left", "yanchor": "bottom",
        "showarrow": False, "text": f"Action period: {period_text(o, a)}",
        "font": {"size": 12, "color": "#0B0C0C"}, "bgcolor": "rgba(255,255,255,0.85)",
    }]
    fig["layout"]["margin"] = {"l": 60, "r": 30, "t": 40, "b": 40}
    fig["layout"]["legend"] = LEGEND | {"y": -0.15}
    fig["layout"]["hovermode"] = "x unified"
    fig["layout"]["bargap"] = 0.1
    fig["layout"]["xaxis"].update(type="date", title={"text": "Week starting"})
    fig["layout"]["yaxis"].update(title={"text": "Incidents a week"}, rangemode="tozero", tickformat=",d",
                                  dtick=_whole_step(max((w.incidents for w in weeks), default=0)))
    fig["layout"]["yaxis2"] = {
        "overlaying": "y", "side": "right", "range": [0.5, 5.5], "tickvals": [1, 2, 3, 4, 5],
        "ticktext": [level_name(n) for n in range(1, 6)], "title": {"text": "Tension level"},
        "showgrid": False, "zeroline": False, "linecolor": "#3D3D3D", "automargin": True, "fixedrange": True,
    }
    fig["layout"]["xaxis"]["fixedrange"] = True
    fig["layout"]["yaxis"]["fixedrange"] = True
    return fig


def outcome_caption(o: Outcome, a: ActionView | None = None) -> str:
    return (
        f"Incidents each week in {o.area_name} that you may see (bars, left axis) and the latest assessed "
        f"tension level (line, right axis), from {OUTCOME_WEEKS} weeks before the action was agreed to up "
        f"to {OUTCOME_WEEKS} weeks after it ended. The shaded band is the action's period: {period_text(o, a)}."
    )


def outcome_table(o: Outcome) -> html.Table:
    return html.Table(
        [
            html.Caption(f"Incidents and tension level each week in {o.area_name}"),
            html.Thead(html.Tr([html.Th(h, scope="col") for h in
                                ("Week starting", "Incidents", "Tension level", "The action")])),
            html.Tbody([
                html.Tr([
                    html.Th(parts.day_text(w.week_start), scope="row", className="fw-normal"),
                    html.Td(f"{w.incidents:,}", className="text-end"),
                    html.Td(level_name(w.level)),
                    html.Td({"Before": "Before it was agreed", "During": "Under way",
                             "After": "After it ended"}[week_period(o, w.week_start)]),
                ])
                for w in o.weeks
            ]),
        ],
        className="table table-sm table-striped",
        id="action-outcome-data-table",
    )


def outcome_parts(o: Outcome | None, a: ActionView | None = None) -> dict:
    """What the outcome callback fills in: the figure, the sentence, the caption and the table."""
    if o is None:
        return {"figure": empty_figure(), "summary": "There is nothing to show for this district.",
                "caption": "", "table": html.P("No figures.")}
    return {"figure": outcome_figure(o, a), "summary": o.sentence(), "caption": outcome_caption(o, a),
            "table": outcome_table(o)}


def outcome_section(a: ActionView, o: Outcome | None, area_code: str) -> html.Section:
    shown = outcome_parts(o, a)
    chooser = []
    if len(a.areas) > 1:
        chooser = [html.Div(
            [
                dbc.Label("District", html_for="action-outcome-area", className="fw-semibold mb-1"),
                dbc.Select(id="action-outcome-area", value=area_code,
                           options=[{"label": name, "value": code} for code, name in a.areas]),
            ],
            className="mb-2 action-outcome-chooser",
        )]
    return html.Section(
        [
            html.H2("What happened in the district", className="h4", id="action-outcome-heading"),
            html.P("Incidents and tension in a district the action is linked to, before, during and after it. "
                   "This shows what happened around the action; it cannot show what the action caused.",
                   className="small"),
            *chooser,
            html.Figure(
                [
                    dcc.Graph(id="action-outcome-graph", figure=shown["figure"], config=GRAPH_CONFIG,
                              className="action-outcome-graph"),
                    html.Figcaption(
                        [
                            html.P(shown["summary"], id="action-outcome-summary", className="fw-semibold mb-1",
                                   **{"aria-live": "polite"}),
                            html.P(shown["caption"], id="action-outcome-caption", className="small mb-1"),
                        ]
                    ),
                ],
                className="mb-2",
            ),
            html.Button("Show as table", id="action-outcome-table-toggle", type="button", n_clicks=0,
                        className="btn btn-outline-secondary btn-sm align-self-start",
                        **{"aria-expanded": "false", "aria-controls": "action-outcome-table-collapse"}),
            dbc.Collapse(html.Div(shown["table"], id="action-outcome-table", className="mt-2 table-responsive"),
                         id="action-outcome-table-collapse", is_open=False),
        ],
        className="mt-4 card card-body",
        id="action-outcome",
        **{"aria-labelledby": "action-outcome-heading"},
    )


def record_page(a: ActionView, updates: Sequence[UpdateEntry], history: Sequence,
                outcome: Outcome | None = None, outcome_area: str = "", status: str = "") -> html.Div:
    """One action: its rating, fields, links, the progress form (if the viewer may), the outcome
    chart (if it is linked to districts), its progress updates and field history."""
    buttons = []
    if a.may_edit:
        buttons.append(dcc.Link("Edit action", href=f"/actions/{a.id}/edit", className="btn btn-primary",
                                id="action-edit-link"))
    buttons.append(dcc.Link("Back to the action tracker", href="/actions", className="btn btn-link"))
    children = [
        dcc.Store(id="action-record", data={"id": a.id, "version": a.version}),
        parts.status_region("action-status", status),
        html.P(f"Action #{a.id}", className="record-caption mb-0"),
        html.H1(a.description, id="action-title", className="action-title"),
        html.Div(buttons, className="d-flex gap-2 flex-wrap align-items-center mb-3"),
        html.Div(action_summary(a), id="action-summary-block"),
        links_section(a),
    ]
    if a.may_update:
        children.append(update_form(a))
    else:
        children.append(html.P("Only members of the owner organisation and the chair can record progress on "
                               "this action.", className="small mt-3", id="action-update-not-allowed"))
    if a.areas:
        children.append(outcome_section(a, outcome, outcome_area))
    children += [
        html.Div(updates_section(updates), id="action-updates-block"),
        html.Div(history_section(history), id="action-history-block"),
    ]
    return html.Div(children, className="record-page actions-page action-page")


def sort_key(a: ActionView) -> tuple:
    """The tracker's order (for checks): overdue first, then by due date, then id."""
    return RAG_ORDER[a.rag], a.due_on, a.id
