"""Incident pages: the form to log or edit an incident (with the duplicate check), the record with
its corroborating reports and history, and the deleted-records list for administrators."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from . import record_parts as parts

KIND = "incident"
CORROBORATE_TYPE = "incident-corroborate"

# Each form field (dashboard.incidents.FIELD_LABELS' names) -> its component id, and whether it
# is a group of radios or checkboxes.
FIELD_IDS = {
    "title": "incident-form-title",
    "occurred_on": "incident-form-occurred-on",
    "date_precision": "incident-form-date-precision",
    "area_code": "incident-form-area",
    "category_code": "incident-form-category",
    "strands": "incident-form-strands",
    "description": "incident-form-description",
    "latitude": "incident-form-latitude",
    "longitude": "incident-form-longitude",
    "location_precision": "incident-form-location-precision",
    "severity": "incident-form-severity",
    "verification": "incident-form-verification",
    "marking": "incident-form-marking",
    "recipients": "incident-form-recipients",
    "listed_organisations": "incident-form-listed",
}
GROUPS = {"date_precision", "strands", "location_precision", "severity", "verification", "marking",
          "recipients", "listed_organisations"}
# Fields drawn as one input, select or textarea: these get Bootstrap's invalid flag.
SINGLE = [name for name in FIELD_IDS if name not in GROUPS]
FIELD_TARGETS = {name: parts.link_target(i, name in GROUPS, [1]) for name, i in FIELD_IDS.items()}
FIELD_TARGETS["corroborates_id"] = "incident-corroborate-clear"  # the chosen link, with its "Don't link" button
ERROR_IDS = {name: parts.error_id(i) for name, i in FIELD_IDS.items()}

DEFAULT_LABELS = {
    "title": "Title",
    "occurred_on": "Date of the incident",
    "date_precision": "How exact is the date?",
    "area_code": "District",
    "category_code": "Category",
    "strands": "Hate-crime strands",
    "description": "Description",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "location_precision": "How exact is the point?",
    "severity": "Severity",
    "verification": "Verification",
    "marking": "Handling marking",
    "recipients": "TLP:RED recipients",
    "listed_organisations": "TLP:AMBER: organisations that may see it",
}


def _label(labels: Mapping[str, str], name: str) -> str:
    return labels.get(name) or DEFAULT_LABELS[name]


def _strs(values) -> list:
    return [str(v) for v in (values or [])]


# --- the form ----------------------------------------------------------------------------------------


def incident_form(choices, labels: Mapping[str, str], form=None, *, editing=None, own_org_id: int | None = None,
                  title_max: int = 200,
                  description_max: int | None = None) -> html.Div:
    """The incident form, empty (log) or filled in from `form` (edit)."""
    ids = FIELD_IDS
    can_change = editing is None or editing.can_change_marking
    districts = parts.sorted_districts(choices.districts)
    severities = [(str(v), label) for v, label in choices.severities]
    fields = [
        parts.text_field(ids["title"], _label(labels, "title"), parts.form_value(form, "title"),
                         hint=f"A short summary, for example \u201cLeaflets posted through doors on Park Road\u201d. "
                              f"Up to {title_max} characters.", max_length=title_max),
        dbc.Row(
            [
                dbc.Col(parts.text_field(ids["occurred_on"], _label(labels, "occurred_on"),
                                         str(parts.form_value(form, "occurred_on", "")),
                                         hint="If you know only the week or the month, give any day in it "
                                              "and say so below: it is kept as that week's Monday or "
                                              "that month's first day.", input_type="date"), md=6),
                dbc.Col(parts.radio_field(ids["date_precision"], _label(labels, "date_precision"),
                                          list(choices.date_precisions), parts.form_value(form, "date_precision", "day"),
                                          inline=True), md=6),
            ]
        ),
        dbc.Row(
            [
                dbc.Col(parts.select_field(ids["area_code"], _label(labels, "area_code"), districts,
                                           parts.form_value(form, "area_code"), "Choose a district",
                                           hint="Where it happened. Districts are listed by name."), md=6),
                dbc.Col(parts.select_field(ids["category_code"], _label(labels, "category_code"),
                                           list(choices.categories), parts.form_value(form, "category_code"),
                                           "Choose a category"), md=6),
            ]
        ),
        parts.checkbox_field(ids["strands"], _label(labels, "strands"), list(choices.strands),
                             _strs(parts.form_value(form, "strands", [])),
                             hint="Tick each strand the incident targeted, if any."),
        parts.textarea_field(ids["description"], _label(labels, "description"), parts.form_value(form, "description"),
                             hint="What happened, who was affected and what has been done. Do not name victims "
                                  "or witnesses.", max_length=description_max, rows=6),
        html.Fieldset(
            [
                html.Legend("Location (optional)", className="fs-6 fw-semibold mb-1"),
                html.Div(
                    "A point is optional: the district is enough. Give one only if it helps partners. Approximate "
                    "points are blurred on the map (pooled into cells of about 10 km), exact ones into cells of "
                    "about 1 km.",
                    className="form-text mt-0 mb-2", id="incident-form-location-hint",
                ),
                dbc.Row(
                    [
                        dbc.Col(parts.text_field(ids["latitude"], _label(labels, "latitude"),
                                                 str(parts.form_value(form, "latitude", "")), hint="For example 52.4862",
                                                 inputMode="decimal"), sm=6),
                        dbc.Col(parts.text_field(ids["longitude"], _label(labels, "longitude"),
                                                 str(parts.form_value(form, "longitude", "")), hint="For example -1.8904",
                                                 inputMode="decimal"), sm=6),
                    ]
                ),
                parts.radio_field(ids["location_precision"], _label(labels, "location_precision"),
                                  list(choices.location_precisions), parts.form_value(form, "location_precision", "area"),
                                  inline=True, class_name="mb-1"),
            ],
            className="mb-3 border rounded p-2",
        ),
        dbc.Row(
            [
                dbc.Col(parts.radio_field(ids["severity"], _label(labels, "severity"), severities,
                                          None if parts.form_value(form, "severity") is None else str(form.severity)), md=6),
                dbc.Col(parts.radio_field(ids["verification"], _label(labels, "verification"),
                                          list(choices.verifications), parts.form_value(form, "verification", "reported"),
                                          hint="Corroborated means another partner has reported it too."), md=6),
            ]
        ),
        *parts.marking_fields("incident-form", labels, choices, form, can_change, "incident",
                              editing.source_org_id if editing is not None else own_org_id),
    ]
    return html.Div(fields, id="incident-form-fields")


def _corroborate_note() -> html.Div:
    return html.Div(
        [
            html.Span(id="incident-corroborate-text"),
            " ",
            html.Button("Don't link", id="incident-corroborate-clear", type="button", n_clicks=0,
                        className="btn btn-link p-0 align-baseline"),
        ],
        id="incident-corroborate-note",
        className="notice",
        hidden=True,
    )


def form_page(choices, labels: Mapping[str, str], form=None, *, editing=None, own_org_id: int | None = None,
              status: str = "",
              title_max: int = 200, description_max: int | None = None) -> html.Div:
    """The page to log an incident (`editing` None) or to edit one."""
    if editing is None:
        heading = "Log an incident"
        intro = ("Tell the partnership about an incident. A title, the date, the district, the category and "
                 "the severity are needed; everything else helps partners understand it.")
        save_label, cancel_href, cancel_text = "Save incident", "/register", "Cancel and go to the register"
    else:
        heading = f"Edit incident #{editing.id}"
        intro = f"Change the incident \u201c{editing.title}\u201d and save. Every change is kept in its history."
        save_label, cancel_href, cancel_text = "Save changes", f"/incidents/{editing.id}", "Cancel and go back"
    return parts.form_page(
        "incident", "incident", editing, heading=heading, intro=intro, status=status,
        stores=[dcc.Store(id="incident-form-corroborates", data=getattr(form, "corroborates_id", None))],
        fields=[
            incident_form(choices, labels, form, editing=editing, own_org_id=own_org_id,
                          title_max=title_max, description_max=description_max),
            html.Div(id="incident-similar", className="mb-3", **{"aria-live": "polite"}),
            _corroborate_note(),
        ],
        save_label=save_label, cancel_href=cancel_href, cancel_text=cancel_text,
    )


# --- pieces the callbacks fill in ----------------------------------------------------------------------


def similar_panel(matches: Sequence) -> list:
    """Incidents that may be the same as the one being logged, each with a button to link to it."""
    if not matches:
        return []
    items = []
    for m in matches:
        facts = [parts.day_text(m.occurred_on), m.area_name, m.category_label, m.organisation]
        items.append(
            html.Li(
                [
                    html.Div([html.Span(f"#{m.id} ", className="fw-semibold"), html.Span(m.title)]),
                    html.Div(
                        [" \u00b7 ".join(f for f in facts if f), " \u00b7 ", parts.marking_cell(m.marking),
                         f" \u00b7 {parts.partners_text(m.corroborated_by).lower()}"],
                        className="small mb-1",
                    ),
                    html.Button(
                        f"Log mine as a corroborating report of #{m.id}",
                        id={"type": CORROBORATE_TYPE, "index": m.id},
                        type="button", n_clicks=0, className="btn btn-outline-primary btn-sm",
                    ),
                ],
                className="mb-3",
            )
        )
    return [
        html.Div(
            [
                html.H2("This may already be logged:", className="h5", id="incident-similar-heading"),
                html.P(
                    "Partners have logged incidents of the same category in the same district within a few days. "
                    "If yours is one of them, log it as a corroborating report: it keeps your own marking and "
                    "organisation, and the incident shows that another partner has corroborated it.",
                    className="small",
                ),
                html.Ul(items, className="list-unstyled mb-0", id="incident-similar-list"),
            ],
            className="notice",
        )
    ]


def corroborate_text(incident_id: int, title: str | None) -> str:
    named = f" (\u201c{title}\u201d)" if title else ""
    return f"Your report will be saved as corroborating incident #{incident_id}{named}."


# --- the record ----------------------------------------------------------------------------------------


def _report_item(link) -> html.Li:
    return html.Li(
        [
            html.A(f"#{link.id} {link.title}", href=f"/incidents/{link.id}"),
            html.Span(f" \u00b7 {link.organisation} \u00b7 {parts.day_text(link.occurred_on)} \u00b7 "),
            parts.marking_cell(link.marking),
        ]
    )


def corroboration_section(view) -> html.Section:
    children: list = [html.H2("Corroboration", className="h4", id="incident-corroboration-heading")]
    copy_of = getattr(view, "corroborates_id", None) or (view.corroborates.id if view.corroborates else None)
    if copy_of is not None:
        if view.corroborates is not None:
            children.append(html.P(["This is a corroborating report of incident ",
                                    html.A(f"#{view.corroborates.id} {view.corroborates.title}",
                                           href=f"/incidents/{view.corroborates.id}"),
                                    f" ({view.corroborates.organisation}, ",
                                    parts.marking_cell(view.corroborates.marking), ")."],
                                   id="incident-corroborates"))
        else:
            children.append(html.P("This is a corroborating report of another partner's incident, which is not "
                                   "shared with you.", id="incident-corroborates"))
        children.append(html.P("It keeps its own marking and organisation.", className="small"))
        return html.Section(children, className="mt-4", **{"aria-labelledby": "incident-corroboration-heading"})
    count = view.corroborated_by or 0
    children.append(html.P(parts.partners_text(count) + ".", id="incident-corroborated-by", className="fw-semibold"))
    if view.corroborating_reports:
        children.append(html.P("Corroborating reports you may see, each with its own marking and organisation:",
                               className="mb-1"))
        children.append(html.Ul([_report_item(r) for r in view.corroborating_reports],
                                id="incident-corroborating-reports"))
    if count and len(view.corroborating_reports) < count:
        children.append(html.P("Reports whose markings do not include you are not listed.", className="small"))
    return html.Section(children, className="mt-4", **{"aria-labelledby": "incident-corroboration-heading"})


def _summary_rows(view, labels: Mapping[str, str]) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [("Reference", f"#{view.id}")]
    for name in labels or DEFAULT_LABELS:
        if name in ("title", "latitude", "longitude", "location_precision"):
            continue  # the title is the heading; the location is one row below
        if not parts.shown_for_marking(name, view.marking):
            continue
        if name == "marking":
            value = parts.marking_text(view.marking)
        elif name == "description":
            value = html.Div(view.field_text(name), className="record-description")
        else:
            value = view.field_text(name)
        rows.append((_label(labels, name), value))
    if view.latitude is not None and view.longitude is not None:
        location = f"{view.field_text('latitude')}, {view.field_text('longitude')} ({view.field_text('location_precision')})"
    else:
        location = f"No point given: located to the district ({view.area_name})"
    rows.append(("Location", location))
    rows.append(("Reported by", f"{view.reporter_name} ({view.source_org_name})"))
    rows.extend(parts.record_times(view))
    return rows


def _delete_dialog(view) -> dbc.Modal:
    return parts.delete_dialog(
        "incident", question="Delete this incident?",
        explanation=(f"\u201c{view.title}\u201d will be hidden from the register, the maps and every figure. "
                     "It is kept, its history shows the deletion, and an administrator can restore it."),
        example="Logged twice", confirm="Delete incident",
    )


def record_page(view, history: Sequence, labels: Mapping[str, str], status: str = "") -> html.Div:
    """One incident: its marking, every field, corroboration, actions and history."""
    children = [
        *parts.record_head("incident", view, status),
        html.P(f"Incident #{view.id}", className="record-caption mb-0"),
        html.H1(view.title, id="incident-title", tabIndex="-1"),  # focus lands here once the reason is given
        parts.record_actions("incident", view, "incident", f"/incidents/{view.id}/edit", "/register",
                             "Back to the register"),
        parts.summary_list(_summary_rows(view, labels), "incident-summary"),
        corroboration_section(view),
        parts.history_section(history, "incident-history"),
    ]
    if view.can_delete:
        children.append(_delete_dialog(view))
    return html.Div(children, className="record-page")


def view_reason_page(view, request: Mapping, reasons: Sequence[tuple[str, str]], reason_max: int) -> html.Div:
    """A restricted incident before the viewer says why they open it: its reference and marking only."""
    return parts.view_reason_page("incident", "Incident", view.id, view.marking, request, reasons=reasons,
                                  reason_max=reason_max, back_href="/register", back_text="Back to the register")


def cannot_edit(view) -> html.Div:
    return parts.cannot_edit(
        f"Edit incident #{view.id}",
        "You cannot edit this incident: only members of the organisation that reported it, and the "
        "chair (to correct facts), can.", "incident-cannot-edit", "Back to the incident", f"/incidents/{view.id}",
    )


def not_available() -> html.Div:
    return parts.not_available("Incident", "/register", "Go to the incident register")


# --- deleted records (administrators) ----------------------------------------------------------------


def deleted_page(records: Sequence, status: str = "") -> html.Div:
    return html.Div(
        [
            html.H1("Deleted records"),
            html.P(
                "Incidents and tension assessments that partners have deleted, newest first. Restoring one puts "
                "it back where it was; both the deletion and the restoration stay in its history. Titles of "
                "records whose marking does not include you are not shown.",
                className="lead",
            ),
            parts.status_region("deleted-status", status),
            dcc.Loading(html.Div(parts.deleted_table(records, "deleted"), id="deleted-list"), type="dot",
                        delay_show=300),
        ],
        className="record-page",
    )
