"""Plain text as the partnership writes it (paragraphs, lines starting "- " as bullet points)
turned into GOV.UK-styled HTML."""
import re

from markupsafe import Markup, escape

_BULLET = re.compile(r"^\s*[-•]\s+")


def paragraphs_html(text: str | None) -> Markup:
    """Blank lines separate paragraphs; runs of lines starting "- " become one bullet list; other
    line breaks are kept."""
    if not text:
        return Markup("")
    blocks: list[str] = []
    lines: list[str] = []
    bullets: list[str] = []

    def close_paragraph() -> None:
        if lines:
            blocks.append('<p class="govuk-body">' + "<br>".join(str(escape(line)) for line in lines) + "</p>")
            lines.clear()

    def close_list() -> None:
        if bullets:
            items = "".join(f"<li>{escape(b)}</li>" for b in bullets)
            blocks.append(f'<ul class="govuk-list govuk-list--bullet">{items}</ul>')
            bullets.clear()

    for raw in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        if not line.strip():
            close_paragraph()
            close_list()
        elif _BULLET.match(line):
            close_paragraph()
            bullets.append(_BULLET.sub("", line, count=1))
        else:
            close_list()
            lines.append(line.strip())
    close_paragraph()
    close_list()
    return Markup("\n".join(blocks))
