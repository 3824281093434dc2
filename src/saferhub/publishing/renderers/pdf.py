"""Progress Updates as tagged PDF (PDF/UA-1), so screen readers get headings, lists and reading order."""
from weasyprint import HTML, URLFetcher

from saferhub.publishing.progress_report import ProgressDocument
from saferhub.publishing.renderers.html import document_standalone_html


def document_pdf(document: ProgressDocument) -> bytes:
    html = document_standalone_html(document)
    # The document is self-contained: a URL in it can only come from typed text, and is never fetched.
    fetcher = URLFetcher(allowed_protocols=())
    return HTML(string=html, url_fetcher=fetcher).write_pdf(pdf_variant="pdf/ua-1")
