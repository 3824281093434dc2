"""Lay out a built Progress Update as HTML, tagged PDF or DOCX."""
from saferhub.publishing.renderers.docx import document_docx
from saferhub.publishing.renderers.html import document_fragment_html, document_standalone_html, fragment_from_standalone
from saferhub.publishing.renderers.pdf import document_pdf

FORMATS = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def document_render(document, fmt: str) -> bytes:
    """The document in `fmt` (one of FORMATS) as bytes."""
    if fmt == "html":
        return document_standalone_html(document).encode("utf-8")
    if fmt == "pdf":
        return document_pdf(document)
    if fmt == "docx":
        return document_docx(document)
    raise ValueError(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


__all__ = [
    "FORMATS", "document_render", "document_docx", "document_fragment_html", "document_pdf",
    "document_standalone_html", "fragment_from_standalone",
]
