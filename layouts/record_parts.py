"""Pieces shared by the incident and tension-assessment pages: the marking banner, the summary
list, the error summary, field labels, the history, the version-conflict comparison and its
panel, the form page's frame, the record page's head and actions, the delete dialog, and the
deleted-records table. `prefix` is the page's id prefix ("incident", "assessment")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.reference import MARKING_DESCRIPTIONS, Marking

from .components import marking_label

UK = ZoneInfo("Europe/London")
RESTORE_TYPE = "deleted-restore"
RECORD_WORDS = {"incident": "Incident", "tension_assessment": "Tension assessment"}
BLANK = "(blank)"


# --- words ------------------------------------------------------------------------------------------


def uk_time(moment: datetime | None) -> str:
    """A moment in UK local time, with its zone: '3 Nov 2026 at 14:05 GMT'."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # stored times are UTC
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(UK)
    return f"{local.day} {local:%b %Y} at {local:%H:%M %Z}"


def day_text(day: date | None) -> str:
    return f"{day.day} {day:%b %Y}" if day else ""


def marking_text(marking: str) -> str:
    """'TLP:AMBER — The originating organisation and organisations listed on the record'."""
    try:
        m = Marking(marking)
    except ValueError:
        return str(marking)
    return f"{m.value} \u2014 {MARKING_DESCRIPTIONS[m]}"


def marking_cell(marking: str) -> html.Span | str:
    """A marking as its label (text); an unknown value as plain text."""
    try:
        return marking_label(marking)
    except ValueError:
        return str(marking)


def partners_text(count: int) -> str:
    if not count:
        return "Not yet corroborated by another partner"
    return f"Corroborated by {count} partner{'' if count == 1 else 's'}"


def parse_id(raw) -> int | None:
    """A record id from the address bar, or None when it is not a positive whole number."""
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 12:
        return None
    value = int(text)
    return value if value > 0 else None


# --- page pieces ----------------------------------------------------------------------------------


def marking_banner(marking: str, id_: str) -> html.Div:
    """The record's handling marking at the top of the page, in words as well as its label."""
    try:
        description = MARKING_DESCRIPTIONS[Marking(marking)]
    except ValueError:
        description = ""
    return html.Div(
        [
            html.Span("Handling: ", className="visually-hidden"),
            marking_cell(marking),
            html.Span(f" \u2014 {description}" if description else "", className="ms-1"),
        ],
        className="record-marking-banner",
        id=id_,
        role="note",
        **{"aria-label": "Handling marking"},
    )


def status_region(id_: str, message: str = "") -> html.Div:
    return html.Div(message, id=id_, role="status", className="record-status mb-3",
                    **{"aria-live": "polite", "aria-atomic": "true"})


def summary_list(rows: Iterable[tuple[str, object]], id_: str) -> html.Dl:
    """A GOV.UK-style summary list (a description list): one row per label and value."""
    children = []
    for label, value in rows:
        children.append(html.Div([html.Dt(label), html.Dd(value if value not in (None, "") else "Not given")],
                                 className="record-summary-row"))
    return html.Dl(children, className="record-summary", id=id_)


def not_available(kind: str, back_href: str, back_text: str) -> html.Div:
    """The same answer for a record that does not exist and one the viewer may not see."""
    return html.Div(
        [
            html.H1(f"{kind} not found"),
            html.P(
                f"This {kind.lower()} was not found or is not available to you. It may have been deleted, "
                "or its handling marking may not include you.",
                id="record-not-available",
            ),
            html.P(html.A(back_text, href=back_href)),
        ]
    )


def not_a_partner(title: str) -> html.Div:
    return html.Div(
        [
            html.H1(title),
            html.P(
                "Records are shared by the partnership's member organisations. Your account or organisation "
                "is not an active member, so they are not shown. Ask your administrator."
            ),
        ]
    )


# --- forms ------------------------------------------------------------------------------------------


def field_label(text: str, target: str, error_id: str, hint: str | None = None, error: str | None = None) -> list:
    """A label for `target`, the field's error (read out with the label; `error` when the page
    is drawn with one) and an optional hint."""
    children: list = [
        dbc.Label([text, html.Span(field_error(error), id=error_id, className="field-error d-block")],
                  html_for=target, className="fw-semibold mb-1")
    ]
    if hint:
        children.append(html.Div(hint, className="form-text mt-0 mb-1", id=f"{target}-hint"))
    return children


def legend(text: str, error_id: str, hint: str | None = None) -> list:
    """A fieldset's legend with the group's error, and an optional hint."""
    children: list = [
        html.Legend([text, html.Span(id=error_id, className="field-error d-block fs-6")],
                    className="fs-6 fw-semibold mb-1")
    ]
    if hint:
        children.append(html.Div(hint, className="form-text mt-0 mb-1"))
    return children


def choice_options(id_prefix: str, choices: Sequence[tuple], disabled: bool = False,
                   hints: Mapping | None = None) -> list[dict]:
    """Radio or checkbox options, each input with its own id (the error summary links to the first)."""
    options = []
    for n, (value, label) in enumerate(choices):
        shown = label
        if hints and value in hints:
            shown = html.Span([html.Span(label, className="fw-semibold"),
                               html.Span(hints[value], className="form-text d-block mt-0")])
        options.append({"label": shown, "value": value, "input_id": f"{id_prefix}-{n}", "disabled": disabled})
    return options


def error_summary(errors: Mapping[str, str], targets: Mapping[str, str], title_id: str,
                  problem: str | None = None, fallback: str = "") -> list:
    """The error summary's content: one problem in words and/or each wrong field as a link to it."""
    children: list = [html.H2("There is a problem", className="h5", id=title_id)]
    if problem:
        children.append(html.P(problem, className="mb-2"))
    if errors:
        children.append(
            html.Ul(
                [html.Li(html.A(message, href=f"#{targets.get(name, fallback)}")) for name, message in errors.items()],
                className="mb-0",
            )
        )
    return children


def error_summary_box(id_: str) -> html.Div:
    return html.Div(id=id_, className="error-summary", role="alert", tabIndex="-1", hidden=True,
                    **{"aria-labelledby": f"{id_}-title"})


# --- history ------------------------------------------------------------------------------------------


def _change_table(entry, n: int, id_prefix: str) -> html.Table:
    return html.Table(
        [
            html.Caption(f"What changed ({entry.action})", className="visually-hidden"),
            html.Thead(html.Tr([html.Th("Field", scope="col"), html.Th("Before", scope="col"),
                                html.Th("After", scope="col")])),
            html.Tbody([
                html.Tr([html.Th(c.field, scope="row", className="fw-normal"),
                         html.Td(c.before or BLANK), html.Td(c.after or BLANK)])
                for c in entry.changes
            ]),
        ],
        className="table table-sm record-history-table mb-0",
        id=f"{id_prefix}-{n}-changes",
    )


def history_section(entries: Sequence, id_: str) -> html.Section:
    """The record's history, oldest first: when (UK time), who, their organisation, what they did,
    and a table of what changed."""
    items = []
    for n, entry in enumerate(entries):
        body = [
            html.P([html.Span(entry.summary, className="fw-semibold"), html.Span(f", {uk_time(entry.at)}")],
                   className="mb-1"),
        ]
        if entry.note:
            body.append(html.P(entry.note, className="mb-1 small"))
        if entry.changes:
            body.append(_change_table(entry, n, id_))
        items.append(html.Li(body, className="record-history-entry", id=f"{id_}-{n}"))
    content = html.Ol(items, className="record-history") if items else html.P("No history recorded.")
    return html.Section(
        [html.H2("History", className="h4", id=f"{id_}-heading"), content],
        id=id_, className="mt-4", **{"aria-labelledby": f"{id_}-heading"},
    )


# --- version conflicts -------------------------------------------------------------------------------


def conflict_problem(kind: str, changed_by: str, changed_at: datetime | None) -> str:
    who = f" (by {changed_by} at {uk_time(changed_at)})" if changed_by else ""
    return f"Someone else changed this {kind} while you were editing it{who}. Nothing was saved."


def conflict_table(rows: Sequence, id_: str) -> html.Div:
    """Field / your version / their version (as saved), each differing row marked in words."""
    body = []
    for row in rows:
        body.append(
            html.Tr(
                [
                    html.Th(row.label, scope="row", className="fw-normal"),
                    html.Td(row.yours or BLANK),
                    html.Td(row.theirs or BLANK),
                    html.Td(html.Strong("Differs") if row.differs else "Same"),
                ],
                className="conflict-differs" if row.differs else None,
            )
        )
    differing = sum(1 for r in rows if r.differs)
    return html.Div(
        html.Table(
            [
                html.Caption(f"Your version and theirs: {differing} field{'' if differing == 1 else 's'} differ"),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in
                                    ("Field", "Your version", "Their version (as saved)", "Compared")])),
                html.Tbody(body),
            ],
            className="table table-sm align-middle conflict-table",
            id=f"{id_}-table",
        ),
        className="table-responsive",
    )


# --- deleted records ------------------------------------------------------------------------------------


def deleted_table(records: Sequence, id_: str) -> html.Div:
    """Deleted incidents and assessments, newest first, each with a Restore button. A record the
    admin may not read shows no title."""
    if not records:
        return html.P("There are no deleted records.", id=f"{id_}-empty")
    rows = []
    for r in records:
        kind = RECORD_WORDS.get(r.record_type, r.record_type)
        title = r.title if r.title is not None else html.Em("Not shown: restricted by its marking")
        name = f"{kind.lower()} #{r.id}"
        rows.append(
            html.Tr(
                [
                    html.Td(kind),
                    html.Th(f"#{r.id}", scope="row"),
                    html.Td(marking_cell(r.marking)),
                    html.Td(r.organisation),
                    html.Td(r.deleted_by or "Unknown"),
                    html.Td(uk_time(r.deleted_at)),
                    html.Td(title),
                    html.Td(
                        html.Button(
                            ["Restore", html.Span(f" {name}", className="visually-hidden")],
                            id={"type": RESTORE_TYPE, "record": r.record_type, "index": r.id},
                            type="button", n_clicks=0, className="btn btn-outline-primary btn-sm",
                        )
                    ),
                ],
                id=f"{id_}-row-{r.record_type}-{r.id}",
            )
        )
    return html.Div(
        html.Table(
            [
                html.Caption(f"{len(records)} deleted record{'' if len(records) == 1 else 's'}, newest first"),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in (
                    "Type", "Ref", "Marking", "Organisation", "Deleted by", "When", "Title", "Restore")])),
                html.Tbody(rows),
            ],
            className="table table-sm align-middle",
            id=f"{id_}-table",
        ),
        className="table-responsive",
    )


# --- form fields ---------------------------------------------------------------------------------------
# Each field has one component id. The error summary links to the field itself, or to the first
# input of a group of radios or checkboxes; the field's own error is shown in its label or legend.


def link_target(id_: str, group: bool, options: Sequence | None = None) -> str:
    """Where the error summary's link for a field goes."""
    if not group:
        return id_
    return f"{id_}-0" if options else f"{id_}-fieldset"


def error_id(id_: str) -> str:
    return f"{id_}-error"


def field_error(message: str | None) -> list | str:
    """A field's error message as its error element shows it: the GOV.UK pattern's visually
    hidden "Error:" first, so a screen reader says it is an error and not a hint; nothing when
    there is no error (the element then takes no space)."""
    if not message:
        return ""
    return [html.Span("Error: ", className="visually-hidden"), message]


def text_field(id_: str, label: str, value, hint: str | None = None, max_length: int | None = None,
               input_type: str = "text", class_name: str = "mb-3", **props) -> html.Div:
    extra = {"maxLength": max_length} if max_length else {}
    return html.Div(
        [
            *field_label(label, id_, error_id(id_), hint),
            dbc.Input(id=id_, type=input_type, value=value or "", autoComplete="off", **extra, **props),
        ],
        className=class_name,
    )


def textarea_field(id_: str, label: str, value, hint: str | None = None, max_length: int | None = None,
                   rows: int = 5) -> html.Div:
    extra = {"maxLength": max_length} if max_length else {}
    return html.Div(
        [*field_label(label, id_, error_id(id_), hint), dbc.Textarea(id=id_, value=value or "", rows=rows, **extra)],
        className="mb-3",
    )


def select_field(id_: str, label: str, choices: Sequence[tuple], value, placeholder: str,
                 hint: str | None = None, class_name: str = "mb-3") -> html.Div:
    options = [{"label": str(lab), "value": str(val)} for val, lab in choices]
    return html.Div(
        [*field_label(label, id_, error_id(id_), hint),
         dbc.Select(id=id_, options=options, value="" if value in (None, "") else str(value),
                    placeholder=placeholder)],
        className=class_name,
    )


def radio_field(id_: str, legend_text: str, choices: Sequence[tuple], value, hint: str | None = None,
                hints: Mapping | None = None, inline: bool = False, disabled: bool = False,
                class_name: str = "mb-3") -> html.Fieldset:
    return html.Fieldset(
        [
            *legend(legend_text, error_id(id_), hint),
            dbc.RadioItems(id=id_, name=id_, options=choice_options(id_, choices, disabled, hints),
                           value=None if value in (None, "") else value, inline=inline),
        ],
        id=f"{id_}-fieldset",
        className=class_name,
    )


def checkbox_field(id_: str, legend_text: str, choices: Sequence[tuple], value, hint: str | None = None,
                   disabled: bool = False, scroll: bool = False, class_name: str = "mb-3",
                   empty: str = "There is nothing to choose from.") -> html.Fieldset:
    if choices:
        control = dbc.Checklist(id=id_, options=choice_options(id_, choices, disabled), value=list(value or []))
    else:
        control = html.Div([html.P(empty, className="small mb-0"), dbc.Checklist(id=id_, options=[], value=[])])
    return html.Fieldset(
        [
            *legend(legend_text, error_id(id_), hint),
            html.Div(control, className="record-choice-scroll border rounded p-2" if scroll else None),
        ],
        id=f"{id_}-fieldset",
        className=class_name,
    )


def sorted_districts(groups: Sequence[tuple]) -> list[tuple[str, str]]:
    """(code, name) of every district in the police-force groups, sorted by name."""
    flat = []
    for group in groups:
        districts = group.districts if hasattr(group, "districts") else group[-1]
        flat.extend((code, name) for code, name in districts)
    return sorted(flat, key=lambda d: d[1])


def form_value(form, name: str, default=None):
    """A field of a form dataclass (or None) as prefilled, with a default for a blank."""
    value = getattr(form, name, None) if form is not None else None
    return default if value is None else value


def marking_fields(prefix: str, labels: Mapping[str, str], choices, form, can_change: bool,
                   record_word: str, own_org_id: int | None = None) -> list:
    """The marking (each with its meaning as a hint) and the lists it needs: recipients for
    TLP:RED, listed organisations for TLP:AMBER (shown for the marking chosen)."""
    marking = form_value(form, "marking", Marking.GREEN.value)
    locked = None if can_change else (
        "Only the organisation that reported this record can change its marking and who it is shared with."
    )
    hints = dict(choices.markings)
    marking_id, recipients_id, listed_id = (f"{prefix}-marking", f"{prefix}-recipients", f"{prefix}-listed")
    return [
        radio_field(
            marking_id, labels.get("marking") or "Handling marking",
            [(value, value) for value, _description in choices.markings], marking,
            hint=locked or f"Who may see this {record_word} (FIRST TLP 2.0).", hints=hints, disabled=not can_change,
        ),
        html.Div(
            checkbox_field(
                recipients_id, labels.get("recipients") or "TLP:RED recipients",
                [(int(i), name) for i, name in choices.people], [int(v) for v in form_value(form, "recipients", [])],
                hint=f"TLP:RED: only the people ticked here and whoever reported this {record_word} will see it. "
                     "Choose at least one.",
                disabled=not can_change, scroll=True, empty="There are no partner users to choose from.",
            ),
            id=f"{prefix}-recipients-block",
            hidden=marking != Marking.RED.value,
        ),
        html.Div(
            checkbox_field(
                listed_id, labels.get("listed_organisations") or "Organisations that may see it",
                [(int(i), name) for i, name in choices.organisations if int(i) != own_org_id],
                [int(v) for v in form_value(form, "listed_organisations", [])],
                hint=f"TLP:AMBER: the organisation that reported this {record_word} and the organisations ticked "
                     "here will see it.",
                disabled=not can_change, scroll=True, empty="There are no member organisations to choose from.",
            ),
            id=f"{prefix}-listed-block",
            hidden=marking != Marking.AMBER.value,
        ),
    ]


# --- the form page, the record page and their dialogs -----------------------------------------------------


def conflict_panel(prefix: str, noun: str) -> html.Section:
    """Where a version conflict is shown, with the choice to save over it or discard one's changes."""
    return html.Section(
        [
            html.H2("Your version and theirs", className="h5", id=f"{prefix}-conflict-heading"),
            html.P("Compare the two versions. Keep yours to save it over theirs, or discard your changes to "
                   f"start again from the {noun} as it is now saved."),
            html.Div(id=f"{prefix}-conflict-table"),
            html.Div(
                [
                    html.Button("Save my version over theirs", id=f"{prefix}-conflict-overwrite", type="button",
                                n_clicks=0, className="btn btn-warning"),
                    html.Button("Discard my changes", id=f"{prefix}-conflict-discard", type="button", n_clicks=0,
                                className="btn btn-outline-secondary"),
                ],
                className="d-flex gap-2 flex-wrap",
            ),
        ],
        id=f"{prefix}-conflict",
        className="card card-body mb-4 conflict-panel",
        hidden=True,
        **{"aria-labelledby": f"{prefix}-conflict-heading"},
    )


def form_page(prefix: str, noun: str, editing, *, heading: str, intro: str, status: str, fields: list,
              save_label: str, cancel_href: str, cancel_text: str, stores: Sequence = ()) -> html.Div:
    """A record's form page: its stores (record id, version, conflict version, then `stores`),
    heading, status, error summary, conflict panel, then `fields` and the save and cancel buttons."""
    return html.Div(
        [
            dcc.Location(id=f"{prefix}-redirect", refresh="callback-nav"),
            dcc.Store(id=f"{prefix}-form-record", data=None if editing is None else editing.id),
            dcc.Store(id=f"{prefix}-form-version", data=None if editing is None else editing.version),
            dcc.Store(id=f"{prefix}-conflict-version", data=None),
            *stores,
            html.Div(id=f"{prefix}-focus-sink", hidden=True),
            html.H1(heading, id=f"{prefix}-form-heading", tabIndex="-1"),
            html.P(intro, className="lead"),
            status_region(f"{prefix}-status", status),
            error_summary_box(f"{prefix}-form-errors"),
            conflict_panel(prefix, noun),
            html.Div(
                [
                    *fields,
                    html.Div(
                        [
                            html.Button(save_label, id=f"{prefix}-form-save", type="button", n_clicks=0,
                                        className="btn btn-primary"),
                            html.A(cancel_text, href=cancel_href, className="btn btn-link"),
                        ],
                        className="d-flex gap-2 align-items-center",
                    ),
                ],
                className="card card-body record-form",
            ),
        ],
        className="record-page",
    )


def record_actions(prefix: str, view, noun: str, edit_href: str, back_href: str, back_text: str) -> html.Div:
    """The record's buttons: edit and delete (when the viewer may), and back to its list."""
    actions = []
    if view.can_edit:
        actions.append(dcc.Link(["Edit", html.Span(f" this {noun}", className="visually-hidden")],
                                href=edit_href, className="btn btn-primary", id=f"{prefix}-edit-link"))
    if view.can_delete:
        actions.append(html.Button(["Delete", html.Span(f" this {noun}", className="visually-hidden")],
                                   id=f"{prefix}-delete", type="button", n_clicks=0,
                                   className="btn btn-outline-danger"))
    actions.append(dcc.Link(back_text, href=back_href, className="btn btn-link"))
    return html.Div(actions, className="d-flex gap-2 flex-wrap align-items-center mb-3")


def record_head(prefix: str, view, status: str) -> list:
    """The record page's redirect, its id and version for the callbacks, marking banner and status."""
    return [
        dcc.Location(id=f"{prefix}-redirect", refresh="callback-nav"),
        dcc.Store(id=f"{prefix}-record", data={"id": view.id, "version": view.version}),
        marking_banner(view.marking, f"{prefix}-marking"),
        status_region(f"{prefix}-status", status),
        *_redacted_notice(prefix, getattr(view, "redacted_at", None)),
    ]


def _redacted_notice(prefix: str, redacted_at: datetime | None) -> list:
    """A record whose personal details a retention review removed says so (its figures stay)."""
    if redacted_at is None:
        return []
    return [html.P(f"Personal details were redacted on {uk_time(redacted_at)} after a retention review; "
                   "the record still counts in every figure.", id=f"{prefix}-redacted", className="alert alert-info")]


def shown_for_marking(name: str, marking: str) -> bool:
    """Whether a summary row is shown: recipients only for TLP:RED, listed organisations only for
    TLP:AMBER."""
    if name == "recipients":
        return marking == Marking.RED.value
    if name == "listed_organisations":
        return marking == Marking.AMBER.value
    return True


def record_times(view) -> list[tuple[str, str]]:
    return [("Created", uk_time(view.created_at)), ("Last updated", uk_time(view.updated_at))]


def delete_dialog(prefix: str, *, question: str, explanation: str, example: str, confirm: str) -> dbc.Modal:
    """The dialog confirming a delete, with an optional reason kept in the history."""
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(question, id=f"{prefix}-delete-title")),
            dbc.ModalBody(
                [
                    html.P(explanation),
                    html.Div(id=f"{prefix}-delete-error", className="field-error mb-2", role="alert"),
                    dbc.Label("Reason (optional)", html_for=f"{prefix}-delete-reason", className="fw-semibold"),
                    html.Div(f"For example \u201c{example}\u201d. It is kept in the history.",
                             className="form-text mt-0 mb-1"),
                    dbc.Textarea(id=f"{prefix}-delete-reason", value="", rows=3, maxLength=1000),
                ]
            ),
            dbc.ModalFooter(
                [
                    html.Button(confirm, id=f"{prefix}-delete-confirm", type="button", n_clicks=0,
                                className="btn btn-danger"),
                    html.Button("Cancel", id=f"{prefix}-delete-cancel", type="button", n_clicks=0,
                                className="btn btn-outline-secondary"),
                ]
            ),
        ],
        id=f"{prefix}-delete-dialog",
        is_open=False,
        labelledby=f"{prefix}-delete-title",
    )


def cannot_edit(heading: str, explanation: str, id_: str, back_text: str, back_href: str) -> html.Div:
    return html.Div(
        [
            html.H1(heading),
            html.P(explanation, id=id_),
            html.P(dcc.Link(back_text, href=back_href)),
        ]
    )


# --- asking why a restricted record is opened ------------------------------------------------------------


def view_reason_page(prefix: str, noun: str, record_id: int, marking: str, request: Mapping, *,
                     reasons: Sequence[tuple[str, str]], reason_max: int, back_href: str,
                     back_text: str) -> html.Div:
    """What a page shows of a restricted record before the viewer says why they open it: its
    reference and marking (nothing of its content), the question and the "Open the record" button.

    Ids (`prefix` "incident" -> "incident-view-..."): `-view-request` (what to open: `request`),
    `-view-errors` (the error summary), `-view-ask` (the question, emptied once answered),
    `-view-reason` (the radios), `-view-other` (the text box for another reason, in `-view-other-block`),
    `-view-open` (the button), `-view-record` and `-view-edit` (where the record or its edit form
    is then shown) and `-view-focus-sink`. These stay on the page while the record is shown."""
    ask = f"{prefix}-view"
    return html.Div(
        [
            dcc.Store(id=f"{ask}-request", data=dict(request)),
            html.Div(id=f"{ask}-focus-sink", hidden=True),
            error_summary_box(f"{ask}-errors"),
            html.Div(
                [
                    html.H1(f"{noun} #{record_id}", id=f"{ask}-heading"),
                    marking_banner(marking, f"{ask}-marking"),
                    html.P(
                        [f"This {noun.lower()} is marked {marking}, so partners say why they open it. "
                         "Your reason is kept in the audit log with your name and the time. You will not be "
                         "asked again for this record until you next sign in."],
                        id=f"{ask}-explanation",
                    ),
                    html.Div(
                        [
                            radio_field(f"{ask}-reason", "Why are you opening this record?", list(reasons), None),
                            html.Div(
                                text_field(f"{ask}-other", "Your reason", "", max_length=reason_max,
                                           hint=f"Say briefly why you need this record. Up to {reason_max} "
                                                "characters."),
                                id=f"{ask}-other-block",
                                hidden=True,
                                className="ms-4",
                            ),
                            html.Div(
                                [
                                    html.Button("Open the record", id=f"{ask}-open", type="button", n_clicks=0,
                                                className="btn btn-primary"),
                                    dcc.Link(back_text, href=back_href, className="btn btn-link"),
                                ],
                                className="d-flex gap-2 align-items-center",
                            ),
                        ],
                        className="card card-body record-form",
                    ),
                ],
                id=f"{ask}-ask",
            ),
            html.Div(id=f"{ask}-record"),
            html.Div(id=f"{ask}-edit"),
        ],
        className="record-page",
        id=ask,
    )
