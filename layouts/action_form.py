"""The chair's action form: add an action agreed at a meeting, or change one: the meeting, what
is to be done, by whom and when, its status and progress, and the districts, trigger events and
incidents that prompted it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dash_bootstrap_components as dbc
from dash import html

from dashboard.actions import FIELD_LABELS

from . import record_parts as parts

KIND = "action"
PREFIX = "action-form"  # parts.form_page's ids: action-form-redirect, action-form-form-errors, ...
AREAS_TYPE = "action-form-areas"
ERRORS_ID = "action-form-form-errors"

# Each form field (dashboard.actions.FIELD_LABELS' names) -> its component id. The districts are
# one checklist per police force area ({"type": AREAS_TYPE, "index": n}); "action-form-areas"
# names their group (its error and fieldset).
FIELD_IDS = {
    "meeting": "action-form-meeting",
    "description": "action-form-description",
    "owner": "action-form-owner",
    "lead": "action-form-lead",
    "due_on": "action-form-due-on",
    "status": "action-form-status",
    "progress": "action-form-progress",
    "areas": "action-form-areas",
    "triggers": "action-form-triggers",
    "incidents": "action-form-incidents",
    "note": "action-form-note",
}
GROUPS = {"status", "areas", "triggers"}
# Fields whose value is one component's `value` (the districts are several checklists).
VALUE_FIELDS = {name: i for name, i in FIELD_IDS.items() if name != "areas"}
SINGLE = [name for name in FIELD_IDS if name not in GROUPS]
FIELD_TARGETS = {name: parts.link_target(i, name in GROUPS, [1]) for name, i in FIELD_IDS.items()}
FIELD_TARGETS["areas"] = f"{FIELD_IDS['areas']}-0-0"  # the first district of the first force

# The fields' labels when the page passes none: the domain's (in the form's order).
DEFAULT_LABELS = FIELD_LABELS


def _label(labels: Mapping[str, str], name: str) -> str:
    return labels.get(name) or DEFAULT_LABELS[name]


def refused(heading: str) -> html.Div:
    return parts.cannot_edit(
        heading,
        "Only the chair adds actions and changes what an action is, who owns it and when it is due. "
        "Members of the owner organisation can update an action's progress from its page.",
        "action-form-only-chair", "Go to the action tracker", "/actions",
    )


def no_meetings() -> html.Div:
    return parts.cannot_edit(
        "Add an action",
        "Actions are agreed at meetings, and no meeting has been recorded yet: record the meeting first, "
        "then add its actions from the meeting's page.",
        "action-form-no-meetings", "Record a meeting", "/meetings/new",
    )


def not_available() -> html.Div:
    return parts.not_available("Action", "/actions", "Go to the action tracker")


# --- pieces ---------------------------------------------------------------------------------------------


def _districts(groups: Sequence[tuple[str, Sequence[tuple[str, str]]]], chosen: set[str],
               label: str) -> html.Fieldset:
    """Every district as a checkbox, one group per police force area."""
    fieldset_id = f"{FIELD_IDS['areas']}-fieldset"
    return html.Fieldset(
        [
            *parts.legend(label, parts.error_id(FIELD_IDS["areas"]),
                          "Tick the districts the action is for, if any, grouped by police force area."),
            html.Div(
                [
                    html.Fieldset(
                        [
                            html.Legend(force, className="fs-6 fw-semibold action-form-force"),
                            dbc.Checklist(
                                id={"type": AREAS_TYPE, "index": n},
                                options=parts.choice_options(f"{FIELD_IDS['areas']}-{n}", list(districts)),
                                value=[code for code, _name in districts if code in chosen],
                            ),
                        ],
                        className="mb-2",
                    )
                    for n, (force, districts) in enumerate(groups)
                ],
                className="record-choice-scroll border rounded p-2",
            ),
        ],
        id=fieldset_id,
        className="mb-3",
    )


def incidents_found(found: Sequence[tuple[int, object]]) -> list:
    """The incidents a chair has typed, each with its title if they may see it."""
    if not found:
        return []
    items = []
    for number, view in found:
        if view is None:
            items.append(html.Li(f"#{number}: not found, or not shared with you.", className="text-body-secondary"))
        else:
            items.append(html.Li([
                html.A(f"#{view.id} {view.title}", href=f"/incidents/{view.id}"),
                html.Span(f" \u00b7 {parts.day_text(view.occurred_on)} \u00b7 "),
                parts.marking_cell(view.marking),
            ]))
    return [html.P("The incidents given above:", className="small fw-semibold mb-1"),
            html.Ul(items, className="small mb-0", id="action-form-incidents-list")]


def _with(choices: Sequence[tuple], extra: Sequence[tuple]) -> list[tuple]:
    """The choices, plus any of `extra` not among them (an older meeting or trigger already linked)."""
    have = {value for value, _label in choices}
    return list(choices) + [(value, label) for value, label in extra if value not in have]


# --- the form -------------------------------------------------------------------------------------------


def action_form(choices, labels: Mapping[str, str], status_labels: Mapping[str, str], form=None, *,
                editing=None, found: Sequence[tuple[int, object]] = (), description_max: int | None = None,
                lead_max: int | None = None, note_max: int | None = None) -> html.Div:
    """The action form, empty (add) or filled in from `form` (edit)."""
    ids = FIELD_IDS
    meetings = list(choices.meetings)
    triggers = list(choices.triggers)
    if editing is not None:
        meetings = _with(meetings, [(editing.meeting_id,
                                     f"{editing.meeting_title} ({parts.day_text(editing.meeting_held_on)})")])
        triggers = _with(triggers, [(i, f"{title} ({parts.day_text(day)})") for i, title, day in editing.triggers])
    fields = [
        parts.select_field(ids["meeting"], _label(labels, "meeting"), meetings, parts.form_value(form, "meeting"),
                           "Choose the meeting", hint="The meeting at which the action was agreed."),
        parts.textarea_field(ids["description"], _label(labels, "description"), parts.form_value(form, "description"),
                             hint="What is to be done, in a sentence or two.", max_length=description_max, rows=3),
        dbc.Row(
            [
                dbc.Col(parts.select_field(ids["owner"], _label(labels, "owner"), list(choices.owners),
                                           parts.form_value(form, "owner"), "Choose the organisation",
                                           hint="The organisation that does it; its members update its progress."),
                        md=6),
                dbc.Col(parts.text_field(ids["lead"], _label(labels, "lead"), parts.form_value(form, "lead"),
                                         hint="The person or team leading it, for example \u201cCommunity "
                                              "cohesion team\u201d.", max_length=lead_max), md=6),
            ]
        ),
        dbc.Row(
            [
                dbc.Col(parts.text_field(ids["due_on"], _label(labels, "due_on"),
                                         str(parts.form_value(form, "due_on", "")),
                                         hint="The day it should be done by.", input_type="date"), md=4),
                dbc.Col(parts.text_field(ids["progress"], _label(labels, "progress"),
                                         str(parts.form_value(form, "progress", "0")),
                                         hint="A whole number from 0 to 100. \u201cDone\u201d makes it 100.",
                                         inputMode="numeric"), md=3),
            ]
        ),
        parts.radio_field(ids["status"], _label(labels, "status"), list(status_labels.items()),
                          parts.form_value(form, "status", "not started"), inline=True),
        parts.textarea_field(ids["note"], _label(labels, "note"), parts.form_value(form, "note"),
                             hint="Optional: kept with the action's updates. Needed when the status becomes "
                                  "Blocked or Dropped, to say why.", max_length=note_max, rows=2),
        _districts(choices.areas, set(parts.form_value(form, "areas", []) or []), _label(labels, "areas")),
        parts.checkbox_field(ids["triggers"], _label(labels, "triggers"), triggers,
                             [int(v) for v in parts.form_value(form, "triggers", []) or []],
                             hint="Tick the trigger events (elections, marches, trials...) that prompted it, if any.",
                             scroll=True, empty="There are no recent or upcoming trigger events to choose from."),
        html.Div(
            [
                parts.text_field(ids["incidents"], _label(labels, "incidents"),
                                 parts.form_value(form, "incidents", ""),
                                 hint="The numbers of the incidents that prompted it, separated by commas, for "
                                      "example \u201c1234, 5678\u201d. Links to incidents not shared with you are "
                                      "kept and not shown.", class_name="mb-2", inputMode="numeric",
                                 debounce=True),
                html.Div(incidents_found(found), id="action-form-incidents-found", **{"aria-live": "polite"}),
            ],
            className="mb-3",
        ),
    ]
    return html.Div(fields, id="action-form-fields")


def form_page(choices, labels: Mapping[str, str], status_labels: Mapping[str, str], form=None, *, editing=None,
              found: Sequence[tuple[int, object]] = (), status: str = "", **limits) -> html.Div:
    """The page to add an action (`editing` None) or to change one."""
    if editing is None:
        heading = "Add an action"
        intro = ("Record an action agreed at a meeting: the meeting, what is to be done, the owner organisation "
                 "and the due date are needed.")
        meeting = parts.form_value(form, "meeting")
        back = f"/meetings/{meeting}" if meeting else "/actions"
        save_label, cancel_href = "Save action", back
        cancel_text = "Cancel and go back to the meeting" if meeting else "Cancel and go to the action tracker"
    else:
        heading = f"Edit action #{editing.id}"
        intro = "Change the action and save. Every change is kept in its history."
        save_label, cancel_href, cancel_text = "Save changes", f"/actions/{editing.id}", "Cancel and go back"
    return parts.form_page(
        PREFIX, KIND, editing, heading=heading, intro=intro, status=status,
        fields=[action_form(choices, labels, status_labels, form, editing=editing, found=found, **limits)],
        save_label=save_label, cancel_href=cancel_href, cancel_text=cancel_text,
    )
