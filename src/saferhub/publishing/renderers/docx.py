"""Progress Updates as Word documents that partners can edit, using Word's own heading and list
styles so the navigation pane, accessibility checker and screen readers understand the structure."""
from io import BytesIO

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from saferhub.publishing.progress_report import Bullet, ProgressDocument

FONT = "Arial"
TEXT_COLOUR = RGBColor(0x0B, 0x0C, 0x0C)


def _set_language(style_element, lang: str) -> None:
    rpr = style_element.get_or_add_rPr()
    for old in rpr.findall(qn("w:lang")):
        rpr.remove(old)
    element = OxmlElement("w:lang")
    element.set(qn("w:val"), lang)
    element.set(qn("w:eastAsia"), lang)
    element.set(qn("w:bidi"), lang)
    rpr.append(element)


def _prepare(doc, document: ProgressDocument) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)

    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    _set_language(normal.element, document.lang)
    for name, size in [("Heading 1", 20), ("Heading 2", 15), ("Heading 3", 12)]:
        style = doc.styles[name]
        style.font.name = FONT
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = TEXT_COLOUR
        # Heading styles name their own theme fonts, which would override the font set above.
        rfonts = style.element.get_or_add_rPr().find(qn("w:rFonts"))
        if rfonts is not None:
            for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                rfonts.attrib.pop(qn(attr), None)

    props = doc.core_properties
    props.title = document.title
    props.subject = f"{document.strategy_title}: Progress Update, {document.period_label}"
    props.author = document.author or "Saferhub"
    props.last_modified_by = "Saferhub"
    props.language = document.lang
    props.keywords = f"{document.strategy_title}; Progress Update; {document.period_label}"
    props.comments = ""


def _bullets(doc, bullets: list[Bullet]) -> None:
    for bullet in bullets:
        doc.add_paragraph(bullet.text, style="List Bullet")
        for child in bullet.children:
            doc.add_paragraph(child, style="List Bullet 2")


def document_docx(document: ProgressDocument) -> bytes:
    doc = Document()
    _prepare(doc, document)
    doc.add_heading(document.title, level=1)

    if document.background:
        doc.add_heading(document.background_heading, level=2)
        for block in document.background:
            if block.kind == "heading":
                doc.add_heading(block.text, level=2)
            elif block.kind == "list":
                for text in block.items:
                    doc.add_paragraph(text, style="List Bullet")
            else:
                doc.add_paragraph(block.text)

    if document.progress:
        doc.add_heading(document.progress_heading, level=2)
        for section in document.progress:
            doc.add_heading(section.heading, level=3)
            for item_list in section.item_lists:
                doc.add_paragraph(item_list.intro)
                for text in item_list.items:
                    doc.add_paragraph(text, style="List Bullet")
            if section.actions_taken:
                doc.add_paragraph(section.actions_intro)
                _bullets(doc, section.actions_taken)

    if document.next_steps:
        doc.add_heading(document.next_steps_heading, level=2)
        for section in document.next_steps:
            doc.add_heading(section.heading, level=3)
            _bullets(doc, section.next_steps)

    buffer = BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
