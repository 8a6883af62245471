"""Tension-assessment pages: the list with its filters, the form to record or edit an assessment
(level, trend, confidence, rationale, up to five indicators with their evidence type, review date,
marking), and the record with its history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.reference import TENSION_LEVELS

from . import record_parts as parts

KIND = "tension assessment"
INDICATOR_ROWS = 5
ANY = "any"  # the list's "all districts"
NOT_USED = "-"  # an indicator row's evidence type, cleared

FIELD_IDS = {
    "area_code": "assessment-form-area",
    "assessed_on": "assessment-form-assessed-on",
    "level": "assessment-form-level",
    "trend": "assessment-form-trend",
    "confidence": "assessment-form-confidence",
    "rationale": "assessment-form-rationale",
    "review_on": "assessment-form-review-on",
    "marking": "assessment-form-marking",
    "recipients": "assessment-form-recipients",
    "listed_organisations": "assessment-form-listed",
}
GROUPS = {"level", "trend", "confidence", "marking", "recipients", "listed_organisations"}
SINGLE = [name for name in FIELD_IDS if name not in GROUPS]
INDICATORS_ID = "assessment-form-indicators"
INDICATOR_IDS = [f"assessment-form-indicator-{n}" for n in range(1, INDICATOR_ROWS + 1)]
EVIDENCE_IDS = [f"{i}-type" for i in INDICATOR_IDS]
FIELD_TARGETS = {name: parts.link_target(i, name in GROUPS, [1]) for name, i in FIELD_IDS.items()}
FIELD_TARGETS["indicators"] = INDICATOR_IDS[0]
ERROR_IDS = {name: parts.error_id(i) for name, i in FIELD_IDS.items()} | {"indicators": parts.error_id(INDICATORS_ID)}

DEFAULT_LABELS = {
    "area_code": "District",
    "assessed_on": "Date of the assessment",
    "level": "Tension level",
    "trend": "Trend",
    "confidence": "Confidence",
    "rationale": "Rationale",
    "indicators": "Indicators",
    "review_on": "Review date",
    "marking": "Handling marking",
    "recipients": "TLP:RED recipients",
    "listed_organisations": "TLP:AMBER: organisations that may see it",
}


def _label(labels: Mapping[str, str], name: str) -> str:
    return labels.get(name) or DEFAULT_LABELS[name]


def level_text(level: int, label: str | None = None) -> str:
    """'4 - High'."""
    if label and label[:1].isdigit():
        return label
    name = label or (TENSION_LEVELS[level].label if level in TENSION_LEVELS else "")
    return f"{level} - {name}"


def level_badge(level: int, label: str | None = None) -> html.Span:
    """The level as text on its colour (the colour only repeats what the text says)."""
    t = TENSION_LEVELS.get(level)
    style = {"backgroundColor": t.colour, "color": t.text_colour} if t else {}
    return html.Span(f"Level {level_text(level, label)}", className="tension-badge", style=style)


def _level_choices(levels: Sequence[tuple]) -> list[tuple]:
    out = []
    for value, label in levels:
        t = TENSION_LEVELS.get(int(value))
        swatch = html.Span(className="level-swatch", style={"backgroundColor": t.colour}, **{"aria-hidden": "true"}) \
            if t else None
        out.append((str(value), html.Span([swatch, level_text(int(value), label)])))
    return out


# --- the form ------------------------------------------------------------------------------------------


def _indicator_rows(choices, form) -> html.Fieldset:
    given = list(parts.form_value(form, "indicators", []) or [])
    evidence = [(str(v), str(label)) for v, label in choices.evidence_types]
    rows = []
    for n, (text_id, type_id) in enumerate(zip(INDICATOR_IDS, EVIDENCE_IDS, strict=True)):
        description, kind = given[n] if n < len(given) else ("", "")
        rows.append(
            dbc.Row(
                [
                    dbc.Col(
                        [dbc.Label(f"Indicator {n + 1}", html_for=text_id, className="mb-1"),
                         dbc.Input(id=text_id, type="text", value=description or "", maxLength=500,
                                   autoComplete="off")],
                        md=8, className="mb-2",
                    ),
                    dbc.Col(
                        [dbc.Label(f"Evidence type of indicator {n + 1}", html_for=type_id, className="mb-1"),
                         dbc.Select(id=type_id, placeholder="Choose",
                                    options=[{"label": label, "value": v} for v, label in evidence]
                                    + [{"label": "Not used (clear this row)", "value": NOT_USED}],
                                    value=kind or "")],
                        md=4, className="mb-2",
                    ),
                ],
                className="assessment-indicator",
            )
        )
    return html.Fieldset(
        [
            *parts.legend(
                "Indicators", ERROR_IDS["indicators"],
                "Up to five signs behind the level, each with its evidence type: evidenced (recorded facts), "
                "experienced (what communities and staff report) or potential (upcoming triggers). "
                "Leave unused rows blank.",
            ),
            *rows,
        ],
        id=INDICATORS_ID,
        className="mb-3 border rounded p-2",
    )


def assessment_form(choices, labels: Mapping[str, str], form=None, *, editing=None,
                    own_org_id: int | None = None) -> html.Div:
    ids = FIELD_IDS
    can_change = editing is None or editing.can_change_marking
    value = parts.form_value
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(parts.select_field(ids["area_code"], _label(labels, "area_code"),
                                               parts.sorted_districts(choices.districts), value(form, "area_code"),
                                               "Choose a district", hint="Districts are listed by name."), md=6),
                    dbc.Col(parts.text_field(ids["assessed_on"], _label(labels, "assessed_on"),
                                             str(value(form, "assessed_on", "")), input_type="date",
                                             hint="The day the assessment was made."), md=6),
                ]
            ),
            parts.radio_field(ids["level"], _label(labels, "level"), _level_choices(choices.levels),
                              None if value(form, "level") is None else str(form.level),
                              hint="1 is low, 5 is critical."),
            dbc.Row(
                [
                    dbc.Col(parts.radio_field(ids["trend"], _label(labels, "trend"), list(choices.trends),
                                              value(form, "trend"), inline=True), md=6),
                    dbc.Col(parts.radio_field(ids["confidence"], _label(labels, "confidence"),
                                              list(choices.confidences), value(form, "confidence"), inline=True),
                            md=6),
                ]
            ),
            parts.textarea_field(ids["rationale"], _label(labels, "rationale"), value(form, "rationale"),
                                 hint="Why this level: what has happened, what communities report, what is coming.",
                                 rows=5),
            _indicator_rows(choices, form),
            parts.text_field(ids["review_on"], _label(labels, "review_on"), str(value(form, "review_on", "") or ""),
                             input_type="date", hint="When it should be looked at again (optional)."),
            *parts.marking_fields("assessment-form", labels, choices, form, can_change, "assessment",
                                  editing.source_org_id if editing is not None else own_org_id),
        ],
        id="assessment-form-fields",
    )


def form_page(choices, labels: Mapping[str, str], form=None, *, editing=None, own_org_id: int | None = None,
              status: str = "") -> html.Div:
    if editing is None:
        heading = "Record a tension assessment"
        intro = ("Assess community tension in a district. The district, the date, the level, the trend and the "
                 "confidence are needed.")
        save_label, cancel_href, cancel_text = "Save assessment", "/assessments", "Cancel and go to the list"
    else:
        heading = f"Edit tension assessment #{editing.id}"
        intro = (f"Change the assessment of {editing.area_name} on {parts.day_text(editing.assessed_on)} and save. "
                 "Every change is kept in its history.")
        save_label, cancel_href, cancel_text = "Save changes", f"/assessments/{editing.id}", "Cancel and go back"
    return parts.form_page(
        "assessment", "assessment", editing, heading=heading, intro=intro, status=status,
        fields=[assessment_form(choices, labels, form, editing=editing, own_org_id=own_org_id)],
        save_label=save_label, cancel_href=cancel_href, cancel_text=cancel_text,
    )


# --- the record -------------------------------------------------------------------------------------------


def _indicators(view) -> html.Div | str:
    if not view.indicators:
        return "None given"
    return html.Ul([html.Li([description, html.Span(f" ({kind})", className="text-body-secondary")])
                    for description, kind in view.indicators], className="mb-0", id="assessment-indicators")


def _summary_rows(view, labels: Mapping[str, str]) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [("Reference", f"#{view.id}")]
    for name in labels or DEFAULT_LABELS:
        if not parts.shown_for_marking(name, view.marking):
            continue
        if name == "marking":
            value = parts.marking_text(view.marking)
        elif name == "level":
            value = level_badge(view.level, view.level_label)
        elif name == "indicators":
            value = _indicators(view)
        elif name == "rationale":
            value = html.Div(view.field_text(name), className="record-description")
        else:
            value = view.field_text(name)
        rows.append((_label(labels, name), value))
    rows.append(("Assessed by", f"{view.reporter_name} ({view.source_org_name})"))
    rows.extend(parts.record_times(view))
    return rows


def _delete_dialog(view) -> dbc.Modal:
    return parts.delete_dialog(
        "assessment", question="Delete this tension assessment?",
        explanation=(f"The assessment of {view.area_name} on {parts.day_text(view.assessed_on)} will be hidden "
                     "from the lists, the maps and the latest levels. It is kept, its history shows the "
                     "deletion, and an administrator can restore it."),
        example="Recorded twice", confirm="Delete assessment",
    )


def record_page(view, history: Sequence, labels: Mapping[str, str], status: str = "") -> html.Div:
    children = [
        *parts.record_head("assessment", view, status),
        html.P(f"Tension assessment #{view.id}", className="record-caption mb-0"),
        html.H1(f"{view.area_name}, {parts.day_text(view.assessed_on)}", id="assessment-title",
                tabIndex="-1"),  # focus lands here once the reason is given
        html.P(level_badge(view.level, view.level_label), className="mb-3"),
        parts.record_actions("assessment", view, "assessment", f"/assessments/{view.id}/edit", "/assessments",
                             "Back to the assessments"),
        parts.summary_list(_summary_rows(view, labels), "assessment-summary"),
        parts.history_section(history, "assessment-history"),
    ]
    if view.can_delete:
        children.append(_delete_dialog(view))
    return html.Div(children, className="record-page")


def view_reason_page(view, request: Mapping, reasons: Sequence[tuple[str, str]], reason_max: int) -> html.Div:
    """A restricted assessment before the viewer says why they open it: its reference and marking only."""
    return parts.view_reason_page("assessment", "Tension assessment", view.id, view.marking, request,
                                  reasons=reasons, reason_max=reason_max, back_href="/assessments",
                                  back_text="Back to the assessments")


def cannot_edit(view) -> html.Div:
    return parts.cannot_edit(
        f"Edit tension assessment #{view.id}",
        "You cannot edit this assessment: only members of the organisation that made it, and the "
        "chair (to correct facts), can.", "assessment-cannot-edit", "Back to the assessment",
        f"/assessments/{view.id}",
    )


def not_available() -> html.Div:
    return parts.not_available("Tension assessment", "/assessments", "Go to the tension assessments")


# --- the list ----------------------------------------------------------------------------------------------


def list_table(rows: Sequence, more: bool) -> html.Div:
    if not rows:
        return html.P("No tension assessments that you may see match these filters.", id="assessment-list-empty")
    body = [
        html.Tr(
            [
                html.Td(parts.day_text(r.assessed_on)),
                html.Th(html.A(r.area_name, href=f"/assessments/{r.id}"), scope="row", className="fw-normal"),
                html.Td(level_badge(r.level, r.level_label)),
                html.Td(str(r.trend).capitalize()),
                html.Td(str(r.confidence).capitalize()),
                html.Td(r.organisation),
                html.Td(parts.marking_cell(r.marking)),
            ]
        )
        for r in rows
    ]
    children = [
        html.Table(
            [
                html.Caption(f"{len(rows)} tension assessment{'' if len(rows) == 1 else 's'}, latest first"),
                html.Thead(html.Tr([html.Th(h, scope="col") for h in (
                    "Date", "District", "Level", "Trend", "Confidence", "Assessed by", "Marking")])),
                html.Tbody(body),
            ],
            className="table table-sm align-middle",
            id="assessment-list-table",
        )
    ]
    if more:
        children.append(html.P("More assessments match: choose a district or dates to narrow the list.",
                               className="small"))
    return html.Div(children, className="table-responsive")


def list_page(districts: Sequence[tuple[str, str]], rows: Sequence, more: bool, status: str = "") -> html.Div:
    return html.Div(
        [
            html.H1("Tension assessments"),
            html.P("Assessments of community tension by district that you may see, latest first. Levels run from "
                   "1 (low) to 5 (critical).", className="lead"),
            parts.status_region("assessment-list-status", status),
            html.P(dcc.Link("Record a tension assessment", href="/assessments/new", className="btn btn-primary",
                            id="assessment-new-link")),
            html.Section(
                [
                    html.H2("Filters", className="h5"),
                    html.Div(
                        [
                            html.Div(
                                [dbc.Label("District", html_for="assessment-list-area"),
                                 dbc.Select(id="assessment-list-area",
                                            options=[{"label": "All districts", "value": ANY}]
                                            + [{"label": name, "value": code} for code, name in districts],
                                            value=ANY)],
                                className="me-3 mb-2",
                            ),
                            html.Div(
                                [dbc.Label("From", html_for="assessment-list-start"),
                                 html.Span(id="assessment-list-start-error", className="field-error d-block"),
                                 dbc.Input(id="assessment-list-start", type="date", value="", debounce=True)],
                                className="me-3 mb-2",
                            ),
                            html.Div(
                                [dbc.Label("To", html_for="assessment-list-end"),
                                 html.Span(id="assessment-list-end-error", className="field-error d-block"),
                                 dbc.Input(id="assessment-list-end", type="date", value="", debounce=True)],
                                className="me-3 mb-2",
                            ),
                        ],
                        className="d-flex flex-wrap align-items-start",
                    ),
                ],
                className="mb-3",
                **{"aria-label": "Filters"},
            ),
            dcc.Loading(html.Div(list_table(rows, more), id="assessment-list"), type="dot", delay_show=300),
        ],
        className="record-page",
    )
