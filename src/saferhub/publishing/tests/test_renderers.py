"""The HTML, PDF and DOCX a Progress Update is laid out in."""
import io
import re
import shutil
import subprocess
import zipfile

import docx
import pytest

from saferhub.publishing.progress_report import progress_document_build
from saferhub.publishing.renderers import (
    document_docx, document_fragment_html, document_pdf, document_standalone_html, fragment_from_standalone,
)
from saferhub.publishing.tests.text import docx_text, html_text, missing_in_order, pdf_inflated, pdf_text

PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture
def document(tracker):
    return progress_document_build(strategy=tracker.strategy, period=tracker.june)


@pytest.mark.django_db
def test_html_headings_are_in_order_and_lists_nest(document):
    html = document_standalone_html(document)
    assert '<html lang="en-GB">' in html
    assert f"<title>{document.title}</title>" in html
    levels = [int(n) for n in re.findall(r"<h([1-6])", html)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), "no heading level is skipped"
    assert re.search(r'<h3 class="govuk-heading-s" id="objective-1">Objective 1: Listen to everyone</h3>', html)
    nested = re.search(r"<li>Research was completed, including:\s*<ul[^>]*>\s*<li>Hubs in GP surgeries;</li>", html)
    assert nested, "sub-bullets are a list inside their bullet"
    # Nothing is loaded from anywhere: the file reads offline.
    assert not re.search(r'<(?:link|script|img)\b', html)


@pytest.mark.django_db
def test_html_contents_links_to_each_objective(document):
    html = document_standalone_html(document)
    nav = re.search(r"<nav .*?</nav>", html, re.S).group(0)
    assert "On this page" in nav
    for section in document.progress + document.next_steps:
        assert f'href="#{section.anchor}"' in nav
        assert f'id="{section.anchor}"' in html


@pytest.mark.django_db
def test_frozen_html_gives_back_the_body_shown_on_pages(document):
    fragment = fragment_from_standalone(document_standalone_html(document))
    assert fragment == document_fragment_html(document)
    with pytest.raises(ValueError):
        fragment_from_standalone("<html><body>something else</body></html>")


@pytest.mark.django_db
def test_text_is_escaped(tracker):
    tracker.strategy.background = "Fish & <chips>"
    document = progress_document_build(strategy=tracker.strategy, period=tracker.june)
    html = document_standalone_html(document)
    assert "Fish &amp; &lt;chips&gt;" in html and "<chips>" not in html


@pytest.mark.django_db
def test_docx_drops_control_characters_xml_cannot_hold(tracker):
    tracker.strategy.background = "Pasted\x0btext with a form feed\x0c."
    document = progress_document_build(strategy=tracker.strategy, period=tracker.june)
    assert "Pastedtext with a form feed." in docx_text(document_docx(document))


@pytest.mark.django_db
def test_pdf_is_tagged_a4_with_title_and_language(document):
    raw = document_pdf(document)
    assert raw.startswith(b"%PDF-1.7")
    pdf = pdf_inflated(raw)
    assert b"/StructTreeRoot" in pdf
    assert re.search(rb"/MarkInfo\s*<<\s*/Marked true", pdf)
    assert b"/Lang (en-GB)" in pdf
    assert b"/DisplayDocTitle true" in pdf
    assert b"pdfuaid" in pdf, "declares PDF/UA-1 in its metadata"
    # A4 is 595 x 842 points.
    assert re.search(rb"/MediaBox \[\s*0 0 595\.\d+ 841\.\d+", pdf)
    # Structure tags for headings and lists are present.
    for tag in (b"/H1", b"/H2", b"/H3", b"/L", b"/LI"):
        assert tag in pdf, tag


@pytest.mark.django_db
@pytest.mark.skipif(not PDFTOTEXT, reason="pdftotext (poppler-utils) is not installed")
def test_pdf_text_reads_in_document_order(document):
    text = pdf_text(document_pdf(document))
    order = [
        document.title, "On this page", "Background", "Strategic Delivery Plan – Progress to Date",
        "Objective 1: Listen to everyone", "Under Objective 1 there are two Outcomes which are:",
        "Research was completed, including:", "Hubs in GP surgeries;", "Objective 2: Prevent harm early",
        "Delivery Plan – Next Steps:", "Open a second centre.", "Evaluate the campaign.",
    ]
    assert missing_in_order(text, order) == []
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo:
        info = subprocess.run([pdfinfo, "-"], input=document_pdf(document), capture_output=True, check=True).stdout.decode()
        fields = dict(re.findall(r"^([\w ]+):\s+(.*)$", info, re.M))
        assert fields["Title"] == document.title
        assert fields["Tagged"] == "yes"
        assert "(A4)" in fields["Page size"]


@pytest.mark.django_db
def test_docx_uses_heading_and_list_styles(document):
    data = document_docx(document)
    word = docx.Document(io.BytesIO(data))
    styled = [(p.style.name, p.text) for p in word.paragraphs]
    assert styled[0] == ("Heading 1", document.title)
    assert ("Heading 2", "Background") in styled
    assert ("Heading 2", "Strategic Delivery Plan – Progress to Date") in styled
    assert ("Heading 3", "Objective 1: Listen to everyone") in styled
    assert ("List Bullet", "Research was completed, including:") in styled
    at = styled.index(("List Bullet", "Research was completed, including:"))
    assert styled[at + 1:at + 3] == [("List Bullet 2", "Hubs in GP surgeries;"), ("List Bullet 2", "Safe spaces in shops.")]
    assert word.core_properties.title == document.title
    assert word.core_properties.language == "en-GB"
    section = word.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert 'w:val="en-GB"' in archive.read("word/styles.xml").decode()


@pytest.mark.django_db
def test_all_three_formats_carry_the_same_text(document):
    html = html_text(document_standalone_html(document))
    word = docx_text(document_docx(document))
    for phrase in ["Objective 2: Prevent harm early", "To achieve this Outcome, we Aim to:",
                   "Safe spaces in shops.", "Map what schools teach."]:
        assert phrase in html and phrase in word
    if PDFTOTEXT:
        assert "Map what schools teach." in pdf_text(document_pdf(document))
