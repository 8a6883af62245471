"""Meeting pages: the list of meetings, one meeting (attendance, agenda, minutes, the actions
agreed at it and its history) and the chair's form to record or change a meeting.

Agenda and minutes are shown as plain text with their line breaks kept: Dash writes text, never
HTML, so nothing typed into a meeting can run as script or markup."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.meetings import FIELD_LABELS

from . import record_parts as parts

KIND = "meeting"
ANY = "any"  # the list filter's "all kinds"

# Each form field (dashboard.meetings.FIELD_LABELS' names) -> its component id.
FIELD_IDS = {
    "held_on": "meeting-form-held-on",
    "kind": "meeting-form-kind",
    "title": "meeting-form-title",
    "attendees": "meeting-form-attendees",
    "agenda": "meeting-form-agenda",
    "minutes": "meeting-form-minutes",
}
GROUPS = {"kind", "attendees"}
SINGLE = [name for name in FIELD_IDS if name not in GROUPS]
FIELD_TARGETS = {name: parts.link_target(i, name in GROUPS, [1]) for name, i in FIELD_IDS.items()}

# The fields' labels when the page passes none: the domain's (in the form's order).
DEFAULT_LABELS = FIELD_LABELS

# The rating's words get a class that repeats them in colour (never colour alone).
RAG_CLASSES = {"red": "meeting-rag-red", "amber": "meeting-rag-amber", "green": "meeting-rag-green",
               "closed": "meeting-rag-closed"}


def _label(labels: Mapping[str, str], name: str) -> str:
    return labels.get(name) or DEFAULT_LABELS[name]


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def long_day(day: date | None) -> str:
    """'Thursday 7 May 2026'."""
    return f"{day:%A} {parts.day_text(day)}" if day else ""


def actions_text(view) -> str:
    """'4 actions: 3 open, 1 overdue', or 'No actions'."""
    if not view.action_count:
        return "No actions"
    return (f"{plural(view.action_count, 'action')}: {view.open_action_count} open, "
            f"{view.overdue_action_count} overdue")


def plain_text(text: str, id_: str, empty: str) -> html.Pre | html.P:
    """Text as typed, line breaks kept; Dash renders it as text, so markup stays visible as markup."""
    if not (text or "").strip():
        return html.P(empty, id=id_, className="text-body-secondary")
    return html.Pre(text, id=id_, className="meeting-text")


def rag_label(rating: str, label: str) -> html.Span:
    """An action's rating as words, with a coloured edge that only repeats them."""
    return html.Span(label, className=f"meeting-rag {RAG_CLASSES.get(str(rating), '')}")


def only_chair(heading: str, id_: str = "meeting-only-chair") -> html.Div:
    return parts.cannot_edit(
        heading,
        "Only the chair records meetings. You can read every meeting and the actions agreed at it; "
        "ask the chair if something needs to be added or corrected.",
        id_, "Go to the meetings", "/meetings",
    )


def not_available() -> html.Div:
    return parts.not_available("Meeting", "/meetings", "Go to the meetings")


# --- the list -------------------------------------------------------------------------------------------


def _attendance_cell(view) -> object:
    if not view.attendees:
        return "None recorded"
    count = plural(len(view.attendees), "organisation")
    return html.Details(
        [html.Summary(count),
         html.Ul([html.Li(name) for _id, name in view.attendees], className="mb-0 small")],
        className="meeting-attendance",
    )


def _actions_cell(view) -> object:
    if not view.action_count:
        return "No actions"
    overdue = view.overdue_action_count
    return html.Span(
        [
            f"{plural(view.action_count, 'action')}: {view.open_action_count} open, ",
            html.Strong(f"{overdue} overdue") if overdue else "0 overdue",
        ]
    )


def list_table(meetings: Sequence, filtered: bool = False) -> html.Div:
    """Every meeting (newest first): date, kind, title (a link), attendance and actions."""
    if not meetings:
        message = ("No meetings of this kind have been recorded." if filtered
                   else "No meetings have been recorded yet.")
        return html.P(message, id="meeting-list-empty")
    body = [
        html.Tr(
            [
                html.Td(parts.day_text(m.held_on), className="text-nowrap"),
                html.Td(m.kind_label),
                html.Th(dcc.Link(m.title, href=f"/meetings/{m.id}"), scope="row", className="fw-normal"),
                html.Td(_attendance_cell(m)),
                html.Td(_actions_cell(m)),
            ],
            id=f"meeting-list-row-{m.id}",
        )
        for m in meetings
    ]
    return html.Div(
        html.Table(
            [
                html.Caption(f"{plural(len(meetings), 'meeting')}, newest first"),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in (
                    "Date", "Kind", "Meeting", "Organisations attending", "Actions")])),
                html.Tbody(body),
            ],
            className="table table-sm align-middle",
            id="meeting-list-table",
        ),
        className="table-responsive",
    )


def list_page(meetings: Sequence, kind_labels: Mapping[str, str], *, kind: str = ANY, may_record: bool = False,
              status: str = "") -> html.Div:
    """The meetings page: the chair's button, the kind filter and the table."""
    children: list = [
        html.H1("Meetings"),
        html.P("The partnership's quarterly and extraordinary meetings and community briefings, newest first, "
               "with who attended and the actions agreed at each.", className="lead"),
        parts.status_region("meeting-list-status", status),
    ]
    if may_record:
        children.append(html.P(dcc.Link("Record a meeting", href="/meetings/new", className="btn btn-primary",
                                        id="meeting-new-link")))
    children += [
        html.Section(
            [
                dbc.Label("Kind of meeting", html_for="meeting-list-kind", className="fw-semibold"),
                dbc.Select(id="meeting-list-kind",
                           options=[{"label": "All kinds", "value": ANY}]
                           + [{"label": label, "value": value} for value, label in kind_labels.items()],
                           value=kind if kind in kind_labels else ANY),
            ],
            className="mb-3 meeting-filter",
            **{"aria-label": "Filter the meetings"},
        ),
        dcc.Loading(html.Div(list_table(meetings, filtered=kind in kind_labels), id="meeting-list"),
                    type="dot", delay_show=300),
    ]
    return html.Div(children, className="record-page meeting-page")


# --- one meeting ---------------------------------------------------------------------------------------


def actions_summary(actions: Sequence) -> str:
    """One sentence on the meeting's actions, e.g. '3 actions: 1 overdue, 1 open, 1 done or dropped.'"""
    if not actions:
        return "No actions have been recorded for this meeting."
    overdue = sum(1 for a in actions if str(a.rag) == "red")
    closed = sum(1 for a in actions if str(a.rag) == "closed")
    still_open = len(actions) - overdue - closed
    return (f"{plural(len(actions), 'action')}: {overdue} overdue, {still_open} open and not overdue, "
            f"{closed} done or dropped.")


def actions_table(actions: Sequence) -> html.Div:
    """The actions agreed at a meeting, each linking to its page, overdue first."""
    if not actions:
        return html.P("No actions have been recorded for this meeting.", id="meeting-actions-empty")
    body = [
        html.Tr(
            [
                html.Th(dcc.Link(a.description, href=f"/actions/{a.id}"), scope="row",
                        className="fw-normal meeting-action-description"),
                html.Td(a.owner),
                html.Td(a.lead or "Not given"),
                html.Td(parts.day_text(a.due_on), className="text-nowrap"),
                html.Td(a.status_label),
                html.Td(rag_label(a.rag, a.rag_label)),
                html.Td(f"{a.progress}%", className="text-end"),
            ],
            id=f"meeting-action-{a.id}",
        )
        for a in actions
    ]
    return html.Div(
        html.Table(
            [
                html.Caption(f"{plural(len(actions), 'action')} agreed at this meeting, overdue first, "
                             "then by due date"),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in (
                    "Action", "Owner", "Lead", "Due", "Status", "Rating", "Progress")])),
                html.Tbody(body),
            ],
            className="table table-sm align-middle",
            id="meeting-actions-table",
        ),
        className="table-responsive",
    )


def _attendance(view) -> object:
    if not view.attendees:
        return "None recorded"
    return html.Ul([html.Li(name) for _id, name in view.attendees], className="mb-0 ps-3",
                   id="meeting-attendees")


def _buttons(view) -> html.Div:
    buttons = []
    if view.may_edit:
        buttons += [
            dcc.Link("Edit meeting", href=f"/meetings/{view.id}/edit", className="btn btn-primary",
                     id="meeting-edit-link"),
            dcc.Link("Add an action", href=f"/actions/new?meeting={view.id}", className="btn btn-outline-primary",
                     id="meeting-add-action"),
            html.Button("Delete meeting", id="meeting-delete", type="button", n_clicks=0,
                        className="btn btn-outline-danger"),
        ]
    buttons.append(dcc.Link("Back to meetings", href="/meetings", className="btn btn-link"))
    return html.Div(buttons, className="d-flex gap-2 flex-wrap align-items-center mb-3")


def _delete_dialog(view) -> dbc.Modal:
    return parts.delete_dialog(
        "meeting", question="Delete this meeting?",
        explanation=(f"\u201c{view.title}\u201d and the actions agreed at it will be hidden from every list, "
                     "the action tracker and the briefing pack. They are kept, and the meeting's history "
                     "shows the deletion."),
        example="Recorded twice", confirm="Delete meeting",
    )


def _section(title: str, id_: str, *children) -> html.Section:
    return html.Section([html.H2(title, className="h4", id=f"{id_}-heading"), *children],
                        id=id_, className="mt-4", **{"aria-labelledby": f"{id_}-heading"})


def record_page(view, actions: Sequence, history: Sequence, labels: Mapping[str, str] | None = None,
                status: str = "") -> html.Div:
    """One meeting: date, kind, attendance, agenda, minutes, its actions and its history."""
    labels = labels or {}
    children = [
        dcc.Location(id="meeting-redirect", refresh="callback-nav"),
        dcc.Store(id="meeting-record", data={"id": view.id, "version": view.version}),
        parts.status_region("meeting-status", status),
        html.P(f"{view.kind_label}, {parts.day_text(view.held_on)}", className="record-caption mb-0"),
        html.H1(view.title, id="meeting-title"),
        _buttons(view),
        parts.summary_list(
            [
                (_label(labels, "held_on"), long_day(view.held_on)),
                (_label(labels, "kind"), view.kind_label),
                (_label(labels, "attendees"), _attendance(view)),
            ],
            "meeting-summary",
        ),
        _section(_label(labels, "agenda"), "meeting-agenda-section",
                 plain_text(view.agenda, "meeting-agenda", "No agenda recorded.")),
        _section(_label(labels, "minutes"), "meeting-minutes-section",
                 plain_text(view.minutes, "meeting-minutes", "No minutes recorded yet.")),
        _section("Actions agreed at this meeting", "meeting-actions",
                 html.P(actions_summary(actions), id="meeting-actions-summary"),
                 actions_table(actions)),
        parts.history_section(history, "meeting-history"),
    ]
    if view.may_edit:
        children.append(_delete_dialog(view))
    return html.Div(children, className="record-page meeting-page")


# --- the form ------------------------------------------------------------------------------------------


def meeting_form(organisations: Sequence[tuple[int, str]], kind_labels: Mapping[str, str],
                 labels: Mapping[str, str], form=None, *, title_max: int = 200,
                 text_max: int | None = None) -> html.Div:
    """The meeting form, empty (record) or filled in from `form` (edit)."""
    ids = FIELD_IDS
    fields = [
        dbc.Row(
            [
                dbc.Col(parts.text_field(ids["held_on"], _label(labels, "held_on"),
                                         str(parts.form_value(form, "held_on", "")),
                                         hint="The day the meeting was (or will be) held, for example 10/06/2026.",
                                         input_type="date"), md=5),
                dbc.Col(parts.radio_field(ids["kind"], _label(labels, "kind"), list(kind_labels.items()),
                                          parts.form_value(form, "kind", "quarterly")), md=7),
            ]
        ),
        parts.text_field(ids["title"], _label(labels, "title"), parts.form_value(form, "title"),
                         hint=f"For example \u201cQuarterly meeting, June 2026\u201d. Up to {title_max} characters.",
                         max_length=title_max),
        parts.checkbox_field(ids["attendees"], _label(labels, "attendees"), list(organisations),
                             [int(v) for v in parts.form_value(form, "attendees", [])],
                             hint="Tick each member organisation that attended.", scroll=True,
                             empty="There are no member organisations to choose from."),
        parts.textarea_field(ids["agenda"], _label(labels, "agenda"), parts.form_value(form, "agenda"),
                             hint="Plain text: line breaks are kept, nothing else is formatted.",
                             max_length=text_max, rows=6),
        parts.textarea_field(ids["minutes"], _label(labels, "minutes"), parts.form_value(form, "minutes"),
                             hint="Plain text: line breaks are kept. Do not name victims or witnesses. "
                                  "Record actions separately with \u201cAdd an action\u201d on the meeting's page.",
                             max_length=text_max, rows=12),
    ]
    return html.Div(fields, id="meeting-form-fields")


def form_page(organisations: Sequence[tuple[int, str]], kind_labels: Mapping[str, str], labels: Mapping[str, str],
              form=None, *, editing=None, status: str = "", title_max: int = 200,
              text_max: int | None = None) -> html.Div:
    """The page to record a meeting (`editing` None) or to change one."""
    if editing is None:
        heading = "Record a meeting"
        intro = ("Record a meeting of the partnership: its date, kind and title are needed; who attended, the "
                 "agenda and the minutes can be added now or later. Add the actions agreed at it from the "
                 "meeting's page.")
        save_label, cancel_href, cancel_text = "Save meeting", "/meetings", "Cancel and go to the meetings"
    else:
        heading = f"Edit meeting: {editing.title}"
        intro = "Change the meeting and save. Every change is kept in its history."
        save_label, cancel_href, cancel_text = "Save changes", f"/meetings/{editing.id}", "Cancel and go back"
    return parts.form_page(
        "meeting", "meeting", editing, heading=heading, intro=intro, status=status,
        fields=[meeting_form(organisations, kind_labels, labels, form, title_max=title_max, text_max=text_max)],
        save_label=save_label, cancel_href=cancel_href, cancel_text=cancel_text,
    )
