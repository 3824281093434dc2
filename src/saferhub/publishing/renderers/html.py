"""Progress Updates as HTML: the body shown inside web pages, and the self-contained file."""
from functools import lru_cache
from pathlib import Path

from django.template.loader import render_to_string
from markupsafe import Markup

from saferhub.publishing.progress_report import ProgressDocument

STATIC = Path(__file__).resolve().parent.parent / "static" / "publishing"
PAGE_STYLESHEET = STATIC / "page.css"
PRINT_STYLESHEET = STATIC / "print.css"
START_MARKER = "<!-- saferhub:document -->"
END_MARKER = "<!-- /saferhub:document -->"


@lru_cache(maxsize=1)
def print_stylesheet() -> str:
    return page_stylesheet() + PRINT_STYLESHEET.read_text(encoding="utf-8")


def page_stylesheet() -> str:
    """The page set-up and fonts every printed document shares (Progress Updates, performance reports)."""
    return PAGE_STYLESHEET.read_text(encoding="utf-8")


def document_fragment_html(document: ProgressDocument) -> Markup:
    """Everything below the title, for a page that gives the title its own h1."""
    return Markup(render_to_string("publishing/fragment.html", {"document": document}).strip())


def document_standalone_html(document: ProgressDocument) -> str:
    """A complete page with its own styles, readable offline and printable (also the PDF's source)."""
    return render_to_string(
        "publishing/standalone.html", {"document": document, "stylesheet": Markup(print_stylesheet())}
    )


def fragment_from_standalone(html: str) -> Markup:
    """The body of a frozen standalone file, so a published update's page shows exactly what was
    published. The markers are written by standalone.html."""
    start, end = html.find(START_MARKER), html.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError("This HTML was not made by the Progress Update renderer")
    return Markup(html[start + len(START_MARKER):end].strip())
