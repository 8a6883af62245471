"""The retention review page (admins): what the retention period is and what redaction removes
and keeps, how many records are due, a table of them a page at a time (with filters), and the two
decisions on the records ticked: redact (a dialog with the count, a warning that it cannot be
undone, and a required reason) or keep for another 12 or 24 months (a required reason)."""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.register import when_text
from dashboard.retention import (
    INCIDENT,
    KEEP_CHOICES,
    KEPT_FIELDS,
    KIND_PLURALS,
    NOT_ALLOWED,
    PAGE_SIZE,
    PERSONAL_FIELDS,
    REASON_MAX,
    DueRecord,
    QueuePage,
)

from . import record_parts as parts

PREFIX = "retention"
SELECT_TYPE = "retention-select"
ALL = "all"  # the filters' value for "no filter"
FILTER_IDS = {"kind": f"{PREFIX}-kind", "area": f"{PREFIX}-area", "organisation": f"{PREFIX}-organisation"}
# The two dialogs: their fields, and where each error's link goes.
REDACT = "retention-redact"
KEEP = "retention-keep"
DIALOG_FIELDS = {
    REDACT: {"reason": f"{REDACT}-reason"},
    KEEP: {"months": f"{KEEP}-months", "reason": f"{KEEP}-reason"},
}
LINK_TARGETS = {
    REDACT: {"reason": f"{REDACT}-reason"},
    KEEP: {"months": f"{KEEP}-months-0", "reason": f"{KEEP}-reason"},
}
PAGE_TARGETS = {"records": f"{PREFIX}-select-all"}


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def not_allowed() -> html.Div:
    return html.Div([html.H1("Retention review"), html.P(NOT_ALLOWED, id=f"{PREFIX}-not-allowed")])


# --- what the review is --------------------------------------------------------------------------------


def intro(months: int) -> list:
    return [
        html.P(
            f"Personal details in incidents and tension assessments are kept for {months} months from the "
            "record\u2019s date. After that each record comes up here for review: redact its personal details, "
            "or keep them for another 12 or 24 months if they are still needed. Both need a reason, and both "
            "are kept in the record\u2019s history and the audit log.",
            className="lead", id=f"{PREFIX}-intro",
        ),
        html.P(
            "Deleted records are included: their personal details are still held. You see every record that "
            "is due, whatever its marking, but its title only where the marking lets you read it, and never "
            "its description: the table says which personal details a record holds, not what they say.",
        ),
    ]


def what_redaction_does() -> html.Section:
    rows = [
        html.Tr([html.Td(kind), html.Th(field, scope="row", className="fw-normal"), html.Td(becomes)])
        for kind, field, becomes in PERSONAL_FIELDS
    ]
    return html.Section(
        [
            html.H2("What redaction removes and what it keeps", className="card-title h5",
                    id=f"{PREFIX}-fields-heading"),
            html.Table(
                [
                    html.Caption("Personal details that redaction removes"),
                    html.Thead(html.Tr([html.Th(h, scope="col") for h in ("Records", "Personal detail",
                                                                          "What redaction does")])),
                    html.Tbody(rows),
                ],
                className="table table-sm", id=f"{PREFIX}-personal-fields",
            ),
            html.P("Redaction keeps everything the figures are counted from, so every count, map, trend and "
                   "national summary stays the same:", className="mb-1"),
            html.Ul([html.Li(text) for text in KEPT_FIELDS], id=f"{PREFIX}-kept-fields"),
            html.P("A redacted incident still counts in its district; it is no longer drawn on the map\u2019s "
                   "incident-locations layer, because its exact point is gone. Redaction cannot be undone.",
                   className="mb-0"),
        ],
        className="card card-body mb-4",
        **{"aria-labelledby": f"{PREFIX}-fields-heading"},
    )


# --- the queue ------------------------------------------------------------------------------------------


def _select(key: str, label: str, everything: str, choices: Sequence[tuple], value) -> html.Div:
    options = [{"label": everything, "value": ALL}] + [{"label": str(lab), "value": str(val)} for val, lab in choices]
    return html.Div(
        [dbc.Label(label, html_for=FILTER_IDS[key], className="fw-semibold mb-1"),
         dbc.Select(id=FILTER_IDS[key], options=options, value=ALL if value in (None, "") else str(value))],
        className="me-3 mb-2",
    )


def filters(districts: Sequence[tuple[str, str]], organisations: Sequence[tuple[int, str]]) -> html.Div:
    kinds = [(kind, KIND_PLURALS[kind].capitalize()) for kind in KIND_PLURALS]
    return html.Div(
        [
            _select("kind", "Kind of record", "Incidents and tension assessments", kinds, None),
            _select("area", "District", "Every district", districts, None),
            _select("organisation", "Organisation", "Every organisation", organisations, None),
        ],
        className="d-flex flex-wrap align-items-end", id=f"{PREFIX}-filters", role="group",
        **{"aria-label": "Narrow the queue"},
    )


def count_text(page: QueuePage, due_in_all: int, filtered: bool) -> str:
    """'37,351 records are due for review, oldest first: showing 1 to 25.'"""
    if not page.total:
        if filtered:
            return f"None of the {plural(due_in_all, 'record')} due for review match these choices."
        return "No records are due for review."
    if filtered:
        text = (f"{page.total:,} of the {plural(due_in_all, 'record')} due for review "
                f"{'matches' if page.total == 1 else 'match'} these choices")
    else:
        text = f"{plural(page.total, 'record')} {'is' if page.total == 1 else 'are'} due for review"
    if page.pages == 1:
        return f"{text}, oldest first."
    return f"{text}, oldest first: showing {page.first:,} to {page.first + len(page.records) - 1:,}."


def _title(record: DueRecord):
    if record.title is None:
        return html.Em("Not shown: restricted by its marking")
    if record.deleted:
        return record.title
    href = f"/incidents/{record.id}" if record.kind == INCIDENT else f"/assessments/{record.id}"
    return dcc.Link(record.title, href=href)


BOX_STYLE = {"width": "1.5rem", "height": "1.5rem"}  # a 24 px target


def _checkbox(record: DueRecord) -> dbc.Checkbox:
    return dbc.Checkbox(
        id={"type": SELECT_TYPE, "index": record.key},
        label=html.Span(f"Select {record.reference.lower()}", className="visually-hidden"),
        value=False,
        input_style=BOX_STYLE,
        class_name="mb-0",
    )


def queue_table(page: QueuePage) -> html.Div | html.P:
    if not page.records:
        return html.P("There is nothing to review here.", id=f"{PREFIX}-empty")
    rows = []
    for r in page.records:
        reference = [r.reference] + ([html.Span(" (deleted)", className="fw-normal")] if r.deleted else [])
        rows.append(
            html.Tr(
                [
                    html.Td(_checkbox(r)),
                    html.Th(reference, scope="row"),
                    html.Td(when_text(r.day, r.date_precision)),
                    html.Td(parts.day_text(r.review_due)),
                    html.Td(r.area_name),
                    html.Td(r.organisation),
                    html.Td(parts.marking_cell(r.marking)),
                    html.Td(_title(r)),
                    html.Td(r.filled_text),
                ],
                id=f"{PREFIX}-row-{r.kind}-{r.id}",
            )
        )
    return html.Div(
        html.Table(
            [
                html.Caption(f"Records due for review, oldest first (page {page.page:,} of {page.pages:,})"),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in (
                    "Select", "Record", "Date", "Review due", "District", "Organisation", "Marking", "Title",
                    "Personal details held")])),
                html.Tbody(rows),
            ],
            className="table table-sm align-middle",
            id=f"{PREFIX}-table",
        ),
        # Scrolls sideways on narrow screens, so it can take focus to be scrolled by keyboard.
        className="table-responsive", tabIndex="0", role="region",
        **{"aria-label": "Records due for review (scrollable)"},
    )


def pager_text(page: QueuePage) -> str:
    return f"Page {page.page:,} of {page.pages:,}"


# --- the dialogs ----------------------------------------------------------------------------------------


def _reason_field(prefix: str, example: str) -> html.Div:
    return parts.textarea_field(
        f"{prefix}-reason", "Reason (required)", "", max_length=REASON_MAX, rows=3,
        hint=f"For example \u201c{example}\u201d. It is kept in each record\u2019s history and the audit log.",
    )


def _dialog(prefix: str, fields: list, confirm: str, confirm_class: str) -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("", id=f"{prefix}-title")),
            dbc.ModalBody(
                [
                    html.P(id=f"{prefix}-explanation"),
                    parts.error_summary_box(f"{prefix}-errors"),
                    *fields,
                ]
            ),
            dbc.ModalFooter(
                [
                    html.Button(confirm, id=f"{prefix}-confirm", type="button", n_clicks=0, className=confirm_class),
                    html.Button("Cancel", id=f"{prefix}-cancel", type="button", n_clicks=0,
                                className="btn btn-outline-secondary"),
                ]
            ),
        ],
        id=f"{prefix}-dialog",
        is_open=False,
        labelledby=f"{prefix}-title",
    )


def redact_dialog() -> dbc.Modal:
    return _dialog(REDACT, [_reason_field(REDACT, "Past the retention period; no open case or inquiry")],
                   "Redact them", "btn btn-danger")


def keep_dialog() -> dbc.Modal:
    return _dialog(
        KEEP,
        [
            parts.radio_field(DIALOG_FIELDS[KEEP]["months"], "How long to keep their personal details",
                              [(str(m), f"Another {m} months") for m in KEEP_CHOICES], None,
                              hint="They come up for review again on that day."),
            _reason_field(KEEP, "Needed for the trial listed next spring"),
        ],
        "Keep them", "btn btn-primary",
    )


def _ticked(count: int) -> str:
    return "the record you ticked" if count == 1 else f"the {count:,} records you ticked"


def redact_question(count: int) -> tuple[str, str]:
    """The redact dialog's title and explanation for `count` records."""
    return (
        f"Redact {plural(count, 'record')}?",
        f"This removes the personal details of {_ticked(count)}, and the same texts from "
        f"{'its' if count == 1 else 'their'} history. It cannot be undone. The figures stay: "
        f"{'it still counts' if count == 1 else 'they still count'} in every map, trend and summary.",
    )


def keep_question(count: int) -> tuple[str, str]:
    """The keep dialog's title and explanation for `count` records."""
    leaves, comes = ("leaves", "comes") if count == 1 else ("leave", "come")
    return (
        f"Keep the personal details of {plural(count, 'record')}?",
        f"{_ticked(count).capitalize()} {leaves} the queue until the day you choose, then {comes} up for review "
        "again.",
    )


def dialog_errors(prefix: str, errors: dict[str, str]) -> list:
    return parts.error_summary(errors, LINK_TARGETS[prefix], f"{prefix}-errors-title",
                               fallback=LINK_TARGETS[prefix]["reason"])


def page_errors(errors: dict[str, str] | None = None, problem: str | None = None) -> list:
    return parts.error_summary(errors or {}, PAGE_TARGETS, f"{PREFIX}-errors-title", problem,
                               fallback=f"{PREFIX}-list")


# --- the page -------------------------------------------------------------------------------------------


def layout(months: int, page: QueuePage, due_in_all: int, districts: Sequence[tuple[str, str]],
           organisations: Sequence[tuple[int, str]]) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=f"{PREFIX}-page", data=page.page),
            dcc.Store(id=f"{PREFIX}-changed", data=0),
            dcc.Store(id=f"{PREFIX}-selected", data=[]),
            html.Div(id=f"{PREFIX}-focus-sink", hidden=True),
            html.H1("Retention review"),
            *intro(months),
            what_redaction_does(),
            parts.status_region(f"{PREFIX}-status"),
            parts.error_summary_box(f"{PREFIX}-errors"),
            html.Section(
                [
                    html.H2("Records due for review", className="card-title h5", id=f"{PREFIX}-queue-heading"),
                    filters(districts, organisations),
                    html.P(count_text(page, due_in_all, False), id=f"{PREFIX}-count", role="status",
                           **{"aria-live": "polite"}),
                    html.Div(
                        [
                            dbc.Checkbox(id=f"{PREFIX}-select-all", label="Select all on this page", value=False,
                                         input_style=BOX_STYLE, label_class_name="ms-2 align-middle",
                                         class_name="mb-0"),
                            html.Button("Redact the selected records\u2026", id=f"{PREFIX}-redact", type="button",
                                        n_clicks=0, className="btn btn-outline-danger"),
                            html.Button("Keep the selected records for longer\u2026", id=f"{PREFIX}-keep",
                                        type="button", n_clicks=0, className="btn btn-outline-primary"),
                        ],
                        className="d-flex flex-wrap gap-3 align-items-center mb-2",
                    ),
                    html.Div(queue_table(page), id=f"{PREFIX}-list"),
                    html.Nav(
                        [
                            html.Button("Previous page", id=f"{PREFIX}-previous", type="button", n_clicks=0,
                                        className="btn btn-outline-primary", disabled=page.page <= 1),
                            html.Span(pager_text(page), id=f"{PREFIX}-page-text", className="align-self-center"),
                            html.Button("Next page", id=f"{PREFIX}-next", type="button", n_clicks=0,
                                        className="btn btn-outline-primary", disabled=page.page >= page.pages),
                        ],
                        className="d-flex gap-3 flex-wrap mt-3", id=f"{PREFIX}-pager",
                        **{"aria-label": f"Pages of the queue ({PAGE_SIZE} records a page)"},
                    ),
                ],
                className="card card-body mb-4",
                **{"aria-labelledby": f"{PREFIX}-queue-heading"},
            ),
            redact_dialog(),
            keep_dialog(),
        ]
    )
