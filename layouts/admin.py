"""Administration: one page that leads to every admin tool, so that the navigation has one link."""

from __future__ import annotations

from dataclasses import dataclass

from dash import dcc, html


@dataclass(frozen=True)
class Tool:
    key: str
    href: str
    name: str
    description: str


TOOLS = (
    Tool("users", "/admin/users", "Users",
         "Invite people, change their role or organisation, disable accounts, see and end their "
         "sessions, reset a lost second factor."),
    Tool("organisations", "/admin/organisations", "Organisations",
         "Add member organisations, set their sector and membership status."),
    Tool("retention", "/admin/retention", "Retention review",
         "Records whose personal details are due for review: redact them (the figures stay) or keep "
         "them for longer, with a reason."),
    Tool("audit", "/admin/audit", "Audit log",
         "Search every sign-in, change, view of a restricted record, export and API call; check the "
         "hash chain; export the log."),
    Tool("api-tokens", "/admin/api-tokens", "API tokens",
         "Issue and revoke the tokens that programs use to read the national summaries."),
    Tool("deleted", "/deleted", "Deleted records",
         "Incidents and assessments that were deleted, with who deleted them and why; restore them."),
)


def layout() -> html.Div:
    return html.Div(
        [
            html.H1("Administration"),
            html.P("The tools for running the partnership\u2019s dashboard. Everything done here is "
                   "recorded in the audit log.", className="lead"),
            html.Ul(
                [
                    html.Li(
                        [
                            html.H2(dcc.Link(tool.name, href=tool.href, id=f"admin-link-{tool.key}"),
                                    className="h5 mb-1"),
                            html.P(tool.description, className="mb-0"),
                        ],
                        className="list-group-item py-3",
                    )
                    for tool in TOOLS
                ],
                className="list-group mb-4",
                id="admin-tools",
            ),
        ]
    )
