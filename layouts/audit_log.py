"""The audit log page (administrators): filters, the entries found (newest first, 50 a page,
times in UK time), a pager, the check of the hash chain, and the CSV export with a reason."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from dash import dcc, html

from dashboard.audit_log import NOT_ALLOWED, PAGE_SIZE, TEXT_MAX, AuditRow, detail_text, pages
from dashboard.exports import REASON_MAX_LENGTH, REASON_MIN_LENGTH

from . import record_parts as parts

PREFIX = "audit"
ALL = "all"  # the selects' value for "no filter"
FIELD_TARGETS = {
    "text": f"{PREFIX}-text", "action": f"{PREFIX}-action", "user": f"{PREFIX}-user",
    "start": f"{PREFIX}-start", "end": f"{PREFIX}-end",
}
REASON_ID = f"{PREFIX}-export-reason"
DETAIL_LIMIT = 300


def not_allowed() -> html.Div:
    return html.Div([html.H1("Audit log"), html.P(NOT_ALLOWED, id=f"{PREFIX}-not-allowed")])


def when(row: AuditRow) -> str:
    """The entry's time in UK time, to the second, with its zone: '24 Nov 2026 10:00:05 GMT'."""
    local = row.at.astimezone(UTC).astimezone(parts.UK)
    return f"{local.day} {local:%b %Y %H:%M:%S %Z}"


def _filters(actions: Sequence[str], users: Sequence[tuple[int, str]]) -> html.Section:
    return html.Section(
        [
            html.H2("Find entries", className="h5", id=f"{PREFIX}-filters-heading"),
            parts.error_summary_box(f"{PREFIX}-filter-errors"),
            html.Div(
                [
                    parts.text_field(FIELD_TARGETS["text"], "Words", "", max_length=TEXT_MAX,
                                     hint="Each word must appear in the action, who, the record or the reason.",
                                     class_name="col-md-6 mb-3"),
                    parts.select_field(FIELD_TARGETS["action"], "Action",
                                       [(ALL, "All actions"), *((a, a) for a in actions)], ALL, "All actions",
                                       class_name="col-md-3 mb-3"),
                    parts.select_field(FIELD_TARGETS["user"], "Person",
                                       [(ALL, "Everyone"), *users], ALL, "Everyone",
                                       class_name="col-md-3 mb-3"),
                    parts.text_field(FIELD_TARGETS["start"], "From (UK date)", "", input_type="date",
                                     class_name="col-md-3 mb-3"),
                    parts.text_field(FIELD_TARGETS["end"], "To (UK date, included)", "", input_type="date",
                                     class_name="col-md-3 mb-3"),
                ],
                className="row",
            ),
            html.Button("Search", id=f"{PREFIX}-search", type="button", n_clicks=0, className="btn btn-primary"),
        ],
        className="card card-body mb-4",
        id=f"{PREFIX}-filters",
        **{"aria-labelledby": f"{PREFIX}-filters-heading"},
    )


def results_status(total: int, page: int) -> str:
    if total == 0:
        return "No entries match this search."
    first = (page - 1) * PAGE_SIZE + 1
    last = min(total, page * PAGE_SIZE)
    return (f"Showing entries {first:,} to {last:,} of {total:,}, newest first "
            f"(page {page:,} of {pages(total):,}).")


def results_table(rows: Sequence[AuditRow]) -> html.Div:
    if not rows:
        return html.Div(html.P("No entries to show."), id=f"{PREFIX}-table")
    head = html.Thead(html.Tr([html.Th(h, scope="col") for h in
                               ("Entry", "Time (UK)", "Who", "Action", "Record", "Address", "Reason", "Details")]))
    body = html.Tbody([
        html.Tr([
            html.Th(str(row.id), scope="row"),
            html.Td(when(row), className="text-nowrap"),
            html.Td(row.who),
            html.Td(row.action),
            html.Td(row.record),
            html.Td(row.ip_address or ""),
            html.Td(row.reason or ""),
            html.Td(detail_text(row.detail, DETAIL_LIMIT), className="small text-break"),
        ])
        for row in rows
    ])
    return html.Div(
        html.Table([html.Caption("Audit log entries, newest first", className="visually-hidden"), head, body],
                   className="table table-sm table-striped align-top"),
        className="table-responsive", id=f"{PREFIX}-table", tabIndex="0", role="region",
        **{"aria-label": "Audit log entries"},
    )


def pager(total: int, page: int) -> list:
    last = pages(total)
    return [
        html.Button("Previous page", id=f"{PREFIX}-prev", type="button", n_clicks=0,
                    className="btn btn-outline-secondary", disabled=page <= 1),
        html.Button("Next page", id=f"{PREFIX}-next", type="button", n_clicks=0,
                    className="btn btn-outline-secondary", disabled=page >= last),
    ]


def _chain() -> html.Section:
    return html.Section(
        [
            html.H2("Check the log has not been changed", className="h5", id=f"{PREFIX}-chain-heading"),
            html.P("Each entry holds a fingerprint (hash) of itself and of the entry before it. The check "
                   "recomputes every fingerprint and reports the first entry that was changed, removed or "
                   "put in out of turn.", className="small"),
            html.Button("Check the chain", id=f"{PREFIX}-verify", type="button", n_clicks=0,
                        className="btn btn-outline-primary mb-2"),
            parts.status_region(f"{PREFIX}-verify-status"),
        ],
        className="card card-body mb-4",
        **{"aria-labelledby": f"{PREFIX}-chain-heading"},
    )


def _export() -> html.Section:
    return html.Section(
        [
            html.H2("Export as CSV", className="h5", id=f"{PREFIX}-export-heading"),
            html.P("The export holds every entry the current search matches (up to 100,000). It is "
                   "itself recorded in the audit log with your reason.", className="small"),
            parts.error_summary_box(f"{PREFIX}-export-errors"),
            parts.textarea_field(REASON_ID, "Why you need this export", "", max_length=REASON_MAX_LENGTH,
                                 hint=f"At least {REASON_MIN_LENGTH} characters; it is kept in the audit log.",
                                 rows=2),
            html.Button("Export as CSV", id=f"{PREFIX}-export", type="button", n_clicks=0,
                        className="btn btn-primary mb-2"),
            parts.status_region(f"{PREFIX}-export-status"),
            dcc.Download(id=f"{PREFIX}-download"),
        ],
        className="card card-body mb-4",
        **{"aria-labelledby": f"{PREFIX}-export-heading"},
    )


def layout(rows: Sequence[AuditRow], total: int, actions: Sequence[str],
           users: Sequence[tuple[int, str]], query: dict) -> html.Div:
    return html.Div(
        [
            html.H1("Audit log"),
            html.P("Who did what, when, to which record or export, from where and why. Entries cannot be "
                   "changed or removed. Times are UK time."),
            _filters(actions, users),
            html.Section(
                [
                    html.H2("Entries", className="h5", id=f"{PREFIX}-results-heading"),
                    parts.status_region(f"{PREFIX}-results-status", results_status(total, 1)),
                    html.Div(results_table(rows), id=f"{PREFIX}-results"),
                    html.Nav(pager(total, 1), id=f"{PREFIX}-pager", className="d-flex gap-2 mb-4",
                             **{"aria-label": "Audit log pages"}),
                ],
                **{"aria-labelledby": f"{PREFIX}-results-heading"},
            ),
            _chain(),
            _export(),
            # The search shown (filters and page only, never entries), for the pager and export.
            dcc.Store(id=f"{PREFIX}-query", data=query),
        ],
        id=f"{PREFIX}-page",
    )
