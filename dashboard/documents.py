"""Printable documents made on the server (the briefing pack, the one-page national summary):
their Jinja2 templates and their PDFs, laid out by WeasyPrint with nothing fetched."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"


def template_environment(filters: Mapping[str, Callable]):
    """A Jinja2 environment over dashboard/templates that escapes everything it is given (record
    text is shown as typed, never run) and fails on a missing value, with these filters."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(filters)
    return env


def _no_fetch(url: str, *args, **kwargs):
    """WeasyPrint's URL fetcher: every document is self-contained, so nothing may be fetched."""
    raise ValueError(f"A document made by the dashboard fetches nothing ({url!r} refused).")


def laid_out(html: str):
    """The HTML document laid out as A4 pages by WeasyPrint (`.pages`, `.write_pdf()`), offline."""
    from weasyprint import HTML

    return HTML(string=html, base_url=None, url_fetcher=_no_fetch).render()
