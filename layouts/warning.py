"""The early-warning panel (bands and surges) shared by the trends and since-last-meeting pages."""

from __future__ import annotations

from dash import html

from dashboard.surges import RULE_TEXT, Band, EarlyWarning

# Words first; the symbol repeats the band for people scanning the table (never colour alone).
BAND_MARKS = {Band.SHARP_RISE: "▲▲", Band.RISE: "▲", Band.STABLE: "–", Band.FALL: "▼"}


def band_label(band: Band) -> html.Span:
    css = band.name.lower().replace("_", "-")
    return html.Span([html.Span(BAND_MARKS[band], **{"aria-hidden": "true"}), f" {band.value}"],
                     className=f"band band-{css}")


def warning_panel(warning: EarlyWarning, chosen: set[str] | None = None) -> html.Div:
    """The sentence, the areas that are not stable (chosen areas always listed), the surges by
    category, and how they are found."""
    chosen = chosen or set()
    listed = [a for a in warning.areas if a.band is not Band.STABLE or a.code in chosen]
    order = {Band.SHARP_RISE: 0, Band.RISE: 1, Band.FALL: 2, Band.STABLE: 3}
    listed.sort(key=lambda a: (order[a.band], a.assessment.p_high if a.band is not Band.FALL else a.assessment.p_low, a.name))
    children = [html.P(warning.sentence(), id="warning-sentence")]
    if listed:
        children.append(
            html.Table(
                [
                    html.Caption(
                        f"Areas that are not stable: the 7 days to {warning.window_end:%-d %b %Y} against "
                        f"the 12 weeks from {warning.baseline_start:%-d %b %Y}"
                    ),
                    html.Thead(html.Tr([html.Th(h, scope="col") for h in
                                        ("Area", "Band", "Last 7 days", "A usual week")])),
                    html.Tbody([
                        html.Tr([
                            html.Th(a.name, scope="row"),
                            html.Td(band_label(a.band)),
                            html.Td(f"{a.assessment.observed:,}", className="text-end"),
                            html.Td(f"{a.assessment.expected:,.1f}", className="text-end"),
                        ])
                        for a in listed[:25]
                    ]),
                ],
                className="table table-sm",
                id="warning-areas",
            )
        )
    by_category = [f for f in warning.flags if f.category_code is not None]
    children.append(html.H3("Surges by district and category", className="h6 mt-2"))
    if by_category:
        children.append(html.Ul([html.Li(f.describe()) for f in by_category[:15]], id="warning-flags"))
    else:
        children.append(html.P("No district shows a surge in any one category."))
    children.append(
        html.Details([html.Summary("How rises and surges are found"), html.P(RULE_TEXT, className="small")],
                     className="mt-2")
    )
    return html.Div(children)
