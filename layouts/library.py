"""The good practice library's pages: the search (text, kind, topic, district) with its results,
one resource with its link, and the form to add or change a resource.

Everything typed into a resource is shown as text (Dash writes text, never HTML); a resource's link
is an external link only when it is a web address, and opens with rel="noopener noreferrer"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.library import (
    FIELD_LABELS,
    KIND_HINTS,
    LINK_MAX,
    PAGE_SIZE,
    SUMMARY_MAX,
    TITLE_MAX,
    TOPIC_MAX,
    LibraryChoices,
    LibraryQuery,
    ResourceChoices,
    ResourceView,
    safe_link,
)

from . import record_parts as parts

KIND = "resource"
PREFIX = "resource"  # parts.form_page's ids: resource-redirect, resource-form-errors, ...
ANY = "any"  # a search select's "any" choice (not blank: a blank value would show the placeholder)
STATEMENT_PAGE = "/statement"
LIST_SUMMARY_MAX = 300  # characters of a summary shown in the results
LIST_DISTRICTS_MAX = 4

# The search's controls.
SEARCH_IDS = {
    "text": "library-search-text",
    "kind": "library-kind",
    "topic": "library-topic",
    "area": "library-area",
}
SEARCH_BUTTON = "library-search-button"

# Each form field (dashboard.library.FIELD_LABELS' names) -> its component id.
FIELD_IDS = {
    "kind": "resource-form-kind",
    "title": "resource-form-title",
    "summary": "resource-form-summary",
    "topic": "resource-form-topic",
    "link": "resource-form-link",
    "published_on": "resource-form-published-on",
    "areas": "resource-form-areas",
}
GROUPS = {"kind", "areas"}
SINGLE = [name for name in FIELD_IDS if name not in GROUPS]
FIELD_TARGETS = {name: parts.link_target(i, name in GROUPS, [1]) for name, i in FIELD_IDS.items()}
TOPICS_LIST = "resource-form-topics"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def districts_text(view: ResourceView, limit: int | None = None) -> str:
    """'All districts (the whole region)', or the districts' names."""
    if view.region_wide:
        return "All districts (the whole region)"
    names = [name for _code, name in view.areas]
    if limit is not None and len(names) > limit:
        rest = len(names) - limit
        return f"{', '.join(names[:limit])} and {plural(rest, 'other')}"
    return ", ".join(names)


def published_text(view: ResourceView) -> str:
    return parts.day_text(view.published_on) if view.published_on else "Not dated"


def short_summary(text: str, limit: int = LIST_SUMMARY_MAX) -> str:
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "\u2026"


def resource_href(view: ResourceView, is_partner: bool) -> str:
    """Where a result's title goes: the statement's own page for partners, else the resource's."""
    return STATEMENT_PAGE if view.is_statement and is_partner else f"/library/{view.id}"


def not_available() -> html.Div:
    return parts.not_available("Resource", "/library", "Go to the library")


def not_a_partner(title: str) -> html.Div:
    return parts.cannot_edit(
        title,
        "Resources are added by the partnership's member organisations. Your account or organisation is not an "
        "active member, so you can search and read the library but not add to it.",
        "resource-not-a-partner", "Go to the library", "/library",
    )


def cannot_change(view: ResourceView) -> html.Div:
    if view.is_statement:
        explanation = ("The joint party statement is not changed in the library. Which districts adopted it is "
                       "recorded on the statement's own page.")
        return parts.cannot_edit(f"Edit: {view.title}", explanation, "resource-cannot-change",
                                 "Go to the joint party statement", STATEMENT_PAGE)
    explanation = (f"Only {view.organisation or 'the organisation that added it'}, chairs and administrators can "
                   "change this resource. Ask them if something needs correcting.")
    return parts.cannot_edit(f"Edit: {view.title}", explanation, "resource-cannot-change",
                             "Go back to the resource", f"/library/{view.id}")


# --- the search ---------------------------------------------------------------------------------------------


def _select(key: str, label: str, everything: str, choices: Sequence[tuple[str, str]], value: str,
            hint: str | None = None) -> html.Div:
    options = [{"label": everything, "value": ANY}] + [{"label": str(lab), "value": str(val)} for val, lab in choices]
    # The hint is part of the label, so that it is read out with the control.
    text: list = [label] + ([html.Span(hint, className="form-text d-block mt-0 fw-normal")] if hint else [])
    return html.Div(
        [dbc.Label(text, html_for=SEARCH_IDS[key], className="fw-semibold mb-1"),
         dbc.Select(id=SEARCH_IDS[key], options=options, value=value or ANY)],
        className="library-filter me-3 mb-2",
    )


def search_form(query: LibraryQuery, choices: LibraryChoices) -> html.Section:
    return html.Section(
        [
            html.H2("Search the library", className="h5", id="library-search-heading"),
            html.Div(
                [
                    dbc.Label(["Words to find in titles, summaries and topics",
                               html.Span("For example \u201cleaflets\u201d or \u201casylum myths\u201d. Every word "
                                         "must appear.", className="form-text d-block mt-0 fw-normal")],
                              html_for=SEARCH_IDS["text"], className="fw-semibold mb-1"),
                    html.Div(
                        [
                            dbc.Input(id=SEARCH_IDS["text"], type="search", value=query.text, autoComplete="off",
                                      maxLength=200, n_submit=0, className="library-search-input"),
                            html.Button("Search", id=SEARCH_BUTTON, type="button", n_clicks=0,
                                        className="btn btn-primary"),
                        ],
                        className="d-flex gap-2 flex-wrap align-items-start",
                    ),
                ],
                className="mb-3",
            ),
            html.Div(
                [
                    _select("kind", "Kind of resource", "Any kind", choices.kinds, query.kind),
                    _select("topic", "Topic", "Any topic", [(t, t) for t in choices.topics], query.topic),
                    _select("area", "District", "Any district", choices.districts, query.area,
                            hint="Shows resources for that district and those for the whole region."),
                ],
                className="d-flex flex-wrap align-items-end",
            ),
            html.P(dcc.Link("Clear the search", href="/library", id="library-clear"), className="mb-0 small"),
        ],
        className="card card-body mb-3 library-search",
        id="library-search",
        **{"aria-labelledby": "library-search-heading"},
    )


def count_text(query: LibraryQuery, shown: int, total: int) -> str:
    if not total:
        return "No resources match your search." if query.is_filtered else "The library has no resources yet."
    first = (query.page - 1) * PAGE_SIZE + 1
    noun = plural(total, "resource")
    matched = f"{noun} {'matches' if total == 1 else 'match'} your search" if query.is_filtered else \
        f"{noun} in the library"
    if total <= PAGE_SIZE and query.page == 1:
        return f"{matched}, newest first."
    return f"{matched}, newest first: showing {first:,} to {first + shown - 1:,}."


def _meta(view: ResourceView) -> html.Dl:
    rows = [
        ("Kind", view.kind_label),
        ("Topic", view.topic or "None given"),
        ("Districts", districts_text(view, LIST_DISTRICTS_MAX)),
        ("Added by", view.organisation or "Not recorded"),
        ("Published", published_text(view)),
    ]
    return html.Dl([html.Div([html.Dt(label), html.Dd(value)], className="library-meta-item")
                    for label, value in rows], className="library-meta")


def result_item(view: ResourceView, is_partner: bool) -> html.Li:
    title = dcc.Link(view.title, href=resource_href(view, is_partner), id=f"library-link-{view.id}")
    children: list = [html.H3(title, className="h5 mb-1"), _meta(view)]
    if view.is_statement and is_partner:
        children.append(html.P("Read-only here: which districts adopted it is on the statement's page.",
                               className="small mb-1"))
    if view.summary:
        children.append(html.P(short_summary(view.summary), className="library-summary mb-0"))
    return html.Li(children, className="library-result", id=f"library-row-{view.id}")


def pager(query: LibraryQuery, total: int) -> html.Nav | None:
    pages = max(1, -(-total // PAGE_SIZE))
    if pages <= 1:
        return None
    links = []
    if query.page > 1:
        links.append(dcc.Link("Previous page", href=f"/library{query.query_string(query.page - 1)}",
                              className="btn btn-outline-primary", id="library-previous"))
    links.append(html.Span(f"Page {query.page:,} of {pages:,}", className="align-self-center"))
    if query.page < pages:
        links.append(dcc.Link("Next page", href=f"/library{query.query_string(query.page + 1)}",
                              className="btn btn-outline-primary", id="library-next"))
    return html.Nav(links, className="d-flex gap-3 flex-wrap mt-3", id="library-pager",
                    **{"aria-label": "Pages of results"})


def results(query: LibraryQuery, rows: Sequence[ResourceView], total: int, is_partner: bool) -> list:
    """The matching resources as a list (with pages of PAGE_SIZE), or what to do when none match."""
    if not rows:
        if query.is_filtered:
            message = "No resources match. Try fewer or other words, another district, or clear the search."
        else:
            message = "The library has no resources yet." + (" Add the first one." if is_partner else "")
        return [html.P(message, id="library-empty", className="notice")]
    out: list = [html.Ol([result_item(v, is_partner) for v in rows], className="library-results",
                         id="library-list", start=(query.page - 1) * PAGE_SIZE + 1)]
    nav = pager(query, total)
    if nav is not None:
        out.append(nav)
    return out


def list_page(query: LibraryQuery, choices: LibraryChoices, rows: Sequence[ResourceView], total: int, *,
              may_add: bool, is_partner: bool, status: str = "") -> html.Div:
    """The library: what it holds, the add button for partners, the search and its results."""
    intro = ("Good practice guides, myth-rebuttal fact sheets and publications shared by the partnership's "
             "members. Search by words, kind, topic or district.")
    children: list = [
        dcc.Store(id="library-query", data=query.query_string()),
        html.Div(id="library-url-sink", hidden=True),
        html.H1("Good practice library"),
        html.P(intro, className="lead"),
        parts.status_region("library-status", status),
    ]
    if may_add:
        children.append(html.P(dcc.Link("Add a resource", href="/library/new", className="btn btn-primary",
                                        id="library-add")))
    children += [
        search_form(query, choices),
        html.Section(
            [
                html.H2("Resources", className="h5", id="library-results-heading"),
                html.P(count_text(query, len(rows), total), id="library-count", role="status",
                       className="fw-semibold", **{"aria-live": "polite", "aria-atomic": "true"}),
                dcc.Loading(html.Div(results(query, rows, total, is_partner), id="library-results"),
                            type="dot", delay_show=300),
            ],
            className="library-results-section",
            **{"aria-labelledby": "library-results-heading"},
        ),
    ]
    return html.Div(children, className="record-page library-page")


# --- one resource ------------------------------------------------------------------------------------------


def link_value(link: str | None) -> object:
    """The resource's link as an external link showing its address, or the text when it is not a
    web address (never a javascript: or data: link)."""
    if not link:
        return "None given"
    safe = safe_link(link)
    if safe is None:
        return html.Span([link, " (not a web address, so not shown as a link)"], id="resource-link-text")
    return html.A([safe, html.Span(" (opens in a new tab)", className="visually-hidden")], href=safe,
                  rel="noopener noreferrer", target="_blank", className="library-link", id="resource-link")


def _buttons(view: ResourceView) -> html.Div:
    buttons: list = []
    if view.can_change:
        buttons += [
            dcc.Link(["Edit", html.Span(" this resource", className="visually-hidden")],
                     href=f"/library/{view.id}/edit", className="btn btn-primary", id="resource-edit-link"),
            html.Button(["Delete", html.Span(" this resource", className="visually-hidden")], id="resource-delete",
                        type="button", n_clicks=0, className="btn btn-outline-danger"),
        ]
    buttons.append(dcc.Link("Back to the library", href="/library", className="btn btn-link"))
    return html.Div(buttons, className="d-flex gap-2 flex-wrap align-items-center mb-3")


def _delete_dialog(view: ResourceView) -> dbc.Modal:
    return parts.delete_dialog(
        PREFIX, question="Delete this resource?",
        explanation=(f"\u201c{view.title}\u201d will be taken out of the library for everyone. It is kept, with "
                     "the reason, in the audit log."),
        example="Replaced by a newer version", confirm="Delete resource",
    )


def record_page(view: ResourceView, *, is_partner: bool, status: str = "") -> html.Div:
    """One resource: its kind, topic, districts, organisation, date, link and summary."""
    rows = [
        (FIELD_LABELS["kind"], view.kind_label),
        (FIELD_LABELS["topic"], view.topic or "None given"),
        (FIELD_LABELS["areas"], districts_text(view)),
        ("Added by", view.organisation or "Not recorded"),
        (FIELD_LABELS["published_on"], published_text(view)),
        (FIELD_LABELS["link"], link_value(view.link)),
        ("Added to the library", parts.uk_time(view.created_at)),
    ]
    if view.updated_at:
        rows.append(("Last changed", parts.uk_time(view.updated_at)))
    children: list = [
        dcc.Location(id=f"{PREFIX}-redirect", refresh="callback-nav"),
        dcc.Store(id=f"{PREFIX}-record", data={"id": view.id, "version": view.version}),
        parts.status_region(f"{PREFIX}-status", status),
        html.P(view.kind_label, className="record-caption mb-0"),
        html.H1(view.title, id="resource-title"),
        _buttons(view),
    ]
    if view.is_statement and is_partner:
        children.append(html.P(["The joint party statement is read-only here. ",
                                dcc.Link("See which districts have adopted it", href=STATEMENT_PAGE,
                                         id="resource-statement-link"), "."], className="notice"))
    children += [
        parts.summary_list(rows, "resource-summary"),
        html.Section(
            [
                html.H2(FIELD_LABELS["summary"], className="h4", id="resource-summary-heading"),
                html.Pre(view.summary, id="resource-summary-text", className="library-text")
                if view.summary.strip() else html.P("No summary given.", id="resource-summary-text"),
            ],
            className="mt-4", **{"aria-labelledby": "resource-summary-heading"},
        ),
    ]
    if view.can_change:
        children.append(_delete_dialog(view))
    return html.Div(children, className="record-page library-page")


# --- the form -----------------------------------------------------------------------------------------------


def _value(form, name: str, default=""):
    value = parts.form_value(form, name, default)
    if isinstance(value, date):
        return value.isoformat()
    return value


def resource_form(choices: ResourceChoices, form=None, today: date | None = None) -> html.Div:
    """The resource form, empty (add) or filled in from `form` (edit)."""
    ids = FIELD_IDS
    date_props = {"max": today.isoformat()} if today else {}
    fields = [
        parts.radio_field(ids["kind"], FIELD_LABELS["kind"], list(choices.kinds), _value(form, "kind", None),
                          hints=KIND_HINTS),
        parts.text_field(ids["title"], FIELD_LABELS["title"], _value(form, "title"),
                         hint=f"What people will look for, for example \u201cAsylum accommodation: common myths "
                              f"answered\u201d. Up to {TITLE_MAX} characters.", max_length=TITLE_MAX),
        parts.textarea_field(ids["summary"], FIELD_LABELS["summary"], _value(form, "summary"),
                             hint=f"Optional. What it covers and who it is for, in plain words. Up to "
                                  f"{SUMMARY_MAX:,} characters. Do not name victims or witnesses.",
                             max_length=SUMMARY_MAX, rows=6),
        parts.text_field(ids["topic"], FIELD_LABELS["topic"], _value(form, "topic"),
                         hint="Optional. A few words people will search by, for example \u201casylum and "
                              "migration\u201d or \u201celections\u201d. Reuse a topic already in the library "
                              f"where one fits. Up to {TOPIC_MAX} characters.",
                         max_length=TOPIC_MAX, list=TOPICS_LIST),
        html.Datalist([html.Option(value=t) for t in choices.topics], id=TOPICS_LIST),
        parts.text_field(ids["link"], FIELD_LABELS["link"], _value(form, "link"),
                         hint="Optional. The full web address where it can be read, starting with https:// (or "
                              "http://), for example https://www.example.org/guide.pdf.",
                         max_length=LINK_MAX, inputMode="url"),
        parts.text_field(ids["published_on"], FIELD_LABELS["published_on"], _value(form, "published_on"),
                         hint="Optional. When it was published, for example 3/11/2026. Not in the future.",
                         input_type="date", **date_props),
        parts.checkbox_field(ids["areas"], FIELD_LABELS["areas"], parts.sorted_districts(choices.districts),
                             list(_value(form, "areas", []) or []),
                             hint="Tick the districts it is about. Leave them all unticked if it is for the whole "
                                  "region: it then shows in every district's search.", scroll=True,
                             empty="There are no districts to choose from."),
    ]
    return html.Div(fields, id="resource-form-fields")


def form_page(choices: ResourceChoices, form=None, *, editing: ResourceView | None = None, status: str = "",
              today: date | None = None) -> html.Div:
    """The page to add a resource (`editing` None) or to change one."""
    if editing is None:
        heading = "Add a resource"
        intro = ("Share a guide, a myth-rebuttal fact sheet or a publication with the partnership and the national "
                 "policy team. Everyone with an account can read the library, so add only what may be shared "
                 "that widely. The kind and title are needed; the rest helps people find it.")
        save_label, cancel_href, cancel_text = "Add to the library", "/library", "Cancel and go to the library"
    else:
        heading = f"Edit: {editing.title}"
        intro = "Change the resource and save. Everyone with an account sees the change."
        save_label, cancel_href, cancel_text = "Save changes", f"/library/{editing.id}", "Cancel and go back"
    return parts.form_page(
        PREFIX, KIND, editing, heading=heading, intro=intro, status=status,
        fields=[resource_form(choices, form, today)],
        save_label=save_label, cancel_href=cancel_href, cancel_text=cancel_text,
    )
