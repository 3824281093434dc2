"""Plain text of rendered Progress Updates, with whitespace normalised, for tests to search."""
import io
import re
import shutil
import subprocess
import zlib
from html.parser import HTMLParser

import docx

BLOCK_TAGS = {"p", "li", "ul", "ol", "h1", "h2", "h3", "h4", "div", "nav", "title", "br", "td", "th", "tr"}


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "head"):
            self._skip += 1
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "head"):
            self._skip -= 1
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _TextParser()
    parser.feed(html)
    return normalise("".join(parser.parts))


def docx_text(data: bytes) -> str:
    return normalise("\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs))


def pdf_text(data: bytes) -> str:
    """Text of a PDF by pdftotext (poppler-utils); callers skip when it is not installed."""
    result = subprocess.run([shutil.which("pdftotext"), "-enc", "UTF-8", "-", "-"], input=data,
                            capture_output=True, check=True)
    return normalise(result.stdout.decode("utf-8"))


def pdf_inflated(data: bytes) -> bytes:
    """The PDF with every compressed stream (object streams included) inflated after it, so tests
    can look for dictionary keys such as /StructTreeRoot."""
    parts = [data]
    for match in re.finditer(rb"stream\r?\n", data):
        start = match.end()
        end = data.find(b"endstream", start)
        try:
            parts.append(zlib.decompressobj().decompress(data[start:end]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def missing_in_order(text: str, phrases: list[str]) -> list[str]:
    """The phrases not found in `text` one after another (each after the one before). Empty when
    every phrase is there in that order."""
    missing, at = [], 0
    for phrase in phrases:
        found = text.find(phrase, at)
        if found < 0:
            missing.append(phrase)
        else:
            at = found + len(phrase)
    return missing
