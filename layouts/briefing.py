"""The chair's briefing pack page: what the pack covers, then one click to open or download it."""

from __future__ import annotations

from dash import dcc, html

from dashboard.briefing import BriefingPack, PackOutline, day_text

PDF_BUTTON = "briefing-pdf-button"


def _period(outline: PackOutline) -> str:
    span = f"{day_text(outline.period_start)} to {day_text(outline.period_end)} ({outline.days:,} days)"
    if outline.last_meeting_on is None:
        return f"{span}: no meeting is on record yet, so the pack looks back {outline.days} days."
    return f"{span}, since the last meeting ({outline.last_meeting_title}, {day_text(outline.last_meeting_on)})."


def layout(outline: PackOutline) -> html.Div:
    next_meeting = (
        f"{outline.next_meeting_title}, {day_text(outline.next_meeting_on)}"
        if outline.next_meeting_on
        else "Not yet recorded: record it on the meetings page to put its date on the cover and "
        "list the actions due by then."
    )
    return html.Div(
        [
            html.H1("Briefing pack"),
            html.P(
                "One click builds the pack for the next meeting from the dashboard's own figures "
                "for the period since the last meeting, as a page to print and as a PDF.",
                className="lead",
            ),
            html.Section(
                [
                    html.H2("What the pack covers", className="h5"),
                    html.Dl(
                        [
                            html.Dt("Period"),
                            html.Dd(_period(outline), id="briefing-period"),
                            html.Dt("For"),
                            html.Dd(next_meeting, id="briefing-next-meeting"),
                            html.Dt("Contents"),
                            html.Dd(
                                "Headline figures; the tension map with the districts at level 3 or "
                                "higher; the biggest rises and new hotspots; surges now; tension level "
                                "changes; trigger events in the next 12 weeks; actions done since the "
                                "last meeting, overdue, and due by the next meeting."
                            ),
                        ],
                        className="mb-2",
                    ),
                    html.P(
                        "It counts only the records you may see, carries a banner with the most "
                        "restrictive marking of what it counts (as text, at the top and bottom of "
                        "every page) and lists the organisations whose records it includes. Each "
                        "build is recorded in the audit log.",
                        className="mb-0",
                    ),
                ],
                className="card card-body mb-4",
                id="briefing-covers",
            ),
            html.Div(
                [
                    html.A(
                        ["Open the printable pack", html.Span(" (opens in a new tab)")],
                        href="/briefing/pack",
                        target="_blank",
                        rel="noopener noreferrer",
                        className="btn btn-primary me-2 mb-2",
                        id="briefing-open",
                    ),
                    html.Button(
                        "Download the PDF",
                        id=PDF_BUTTON,
                        n_clicks=0,
                        type="button",
                        className="btn btn-outline-primary mb-2",
                    ),
                ],
            ),
            html.P("Building the PDF takes a few seconds.", className="small text-muted"),
            dcc.Loading(
                html.Div(
                    [
                        dcc.Download(id="briefing-pdf-download"),
                        html.Div(id="briefing-pdf-status", role="status", **{"aria-live": "polite"}),
                    ]
                ),
                type="circle",
            ),
        ]
    )


def done(pack: BriefingPack) -> html.P:
    """What the status line says once the PDF is on its way."""
    return html.P(
        [
            f"Downloaded {pack.pdf_filename}: marked ",
            html.Strong(pack.banner_marking),
            f", {pack.since.total:,} incidents since {day_text(pack.period_start)}, built at "
            f"{pack.built_at:%H:%M} UTC.",
        ],
        className="mt-2",
    )


def refused(message: str) -> html.P:
    return html.P(message, className="mt-2 text-danger")
