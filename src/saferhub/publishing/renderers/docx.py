"""Progress Updates as Word documents that partners can edit, using Word's own heading and list
styles so the navigation pane, accessibility checker and screen readers understand the structure."""
import re
from io import BytesIO

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from saferhub.publishing.progress_report import Bullet, ProgressDocument

FONT = "Arial"
TEXT_COLOUR = RGBColor(0x0B, 0x0C, 0x0C)
# Control characters XML 1.0 does not allow (pasted text sometimes carries them).
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


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


class _Writer:
    """Appends paragraphs as XML. python-docx's own add_paragraph looks the style name up among
    every style and parses the text character by character, which makes a long update take
    seconds; here style ids are looked up once and each paragraph is built directly."""

    STYLES = ["Heading 1", "Heading 2", "Heading 3", "List Bullet", "List Bullet 2"]

    def __init__(self, doc):
        self.style_ids = {name: doc.styles[name].style_id for name in self.STYLES}
        self.end_of_body = doc.element.body.sectPr

    def add(self, text: str, style: str | None = None) -> None:
        paragraph = OxmlElement("w:p")
        if style:
            properties, style_ref = OxmlElement("w:pPr"), OxmlElement("w:pStyle")
            style_ref.set(qn("w:val"), self.style_ids[style])
            properties.append(style_ref)
            paragraph.append(properties)
        run, text_element = OxmlElement("w:r"), OxmlElement("w:t")
        text_element.set(qn("xml:space"), "preserve")
        text_element.text = XML_ILLEGAL.sub("", text)
        run.append(text_element)
        paragraph.append(run)
        self.end_of_body.addprevious(paragraph)

    def heading(self, text: str, level: int) -> None:
        self.add(text, f"Heading {level}")

    def bullets(self, bullets: list[Bullet]) -> None:
        for bullet in bullets:
            self.add(bullet.text, "List Bullet")
            for child in bullet.children:
                self.add(child, "List Bullet 2")


def document_docx(document: ProgressDocument) -> bytes:
    doc = Document()
    _prepare(doc, document)
    out = _Writer(doc)
    out.heading(document.title, 1)

    if document.background:
        out.heading(document.background_heading, 2)
        for block in document.background:
            if block.kind == "heading":
                out.heading(block.text, 2)
            elif block.kind == "list":
                for text in block.items:
                    out.add(text, "List Bullet")
            else:
                out.add(block.text)

    if document.progress:
        out.heading(document.progress_heading, 2)
        for section in document.progress:
            out.heading(section.heading, 3)
            for item_list in section.item_lists:
                out.add(item_list.intro)
                for text in item_list.items:
                    out.add(text, "List Bullet")
            if section.actions_taken:
                out.add(section.actions_intro)
                out.bullets(section.actions_taken)

    if document.next_steps:
        out.heading(document.next_steps_heading, 2)
        for section in document.next_steps:
            out.heading(section.heading, 3)
            out.bullets(section.next_steps)

    buffer = BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
