"""The page shown for an address that is not a page."""

from dash import dcc, html


def layout(**_query):
    return html.Div(
        [
            html.H1("Page not found"),
            html.P("If you typed the web address, check it is correct."),
            dcc.Link("Go to the overview", href="/"),
        ]
    )
