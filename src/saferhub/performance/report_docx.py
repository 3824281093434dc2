"""The quarterly performance report as a Word document: Word's own heading styles, tables with a
caption and a repeating header row, and charts as pictures carrying their text alternative."""
from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from saferhub.performance.tables import Table

FONT = "Arial"
TEXT_COLOUR = RGBColor(0x0B, 0x0C, 0x0C)
CHART_WIDTH = Mm(150)


def _prepare(doc, report) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    rpr = normal.element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), report.lang)
    rpr.append(lang)
    for name, size in [("Heading 1", 20), ("Heading 2", 15), ("Heading 3", 13), ("Heading 4", 11)]:
        style = doc.styles[name]
        style.font.name = FONT
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = TEXT_COLOUR
        # Heading styles name theme fonts, which would override the font set above.
        rfonts = style.element.get_or_add_rPr().find(qn("w:rFonts"))
        if rfonts is not None:
            for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                rfonts.attrib.pop(qn(attr), None)
    props = doc.core_properties
    props.title = report.title
    props.subject = f"Performance of commissioned services, {report.quarter.label}"
    props.author = "Saferhub"
    props.language = report.lang
    props.keywords = f"performance; {report.quarter.label}"


def _table(doc, table: Table) -> None:
    doc.add_paragraph(table.caption, style="Caption")
    rows = table.text_rows()
    grid = doc.add_table(rows=1 + len(rows), cols=len(table.columns))
    grid.style = "Table Grid"
    tbl_pr = grid._tbl.tblPr
    caption = OxmlElement("w:tblCaption")
    caption.set(qn("w:val"), table.caption)
    tbl_pr.append(caption)
    header = grid.rows[0]
    # The header row repeats on each page and tells assistive technology it holds the headings.
    header_flag = OxmlElement("w:tblHeader")
    header_flag.set(qn("w:val"), "true")
    header._tr.get_or_add_trPr().append(header_flag)
    for cell, column in zip(header.cells, table.columns):
        cell.text = ""
        run = cell.paragraphs[0].add_run(column.heading)
        run.bold = True
        if column.numeric:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row, texts in zip(grid.rows[1:], rows):
        for n, (cell, text, column) in enumerate(zip(row.cells, texts, table.columns)):
            cell.text = ""
            run = cell.paragraphs[0].add_run(text)
            if n == 0:
                run.bold = True
            elif column.numeric:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph()


def _chart(doc, chart) -> None:
    paragraph = doc.add_paragraph()
    shape = paragraph.add_run().add_picture(BytesIO(chart.png()), width=CHART_WIDTH)
    doc_pr = shape._inline.docPr
    doc_pr.set("descr", chart.alt)
    doc_pr.set("title", chart.title)


def document_docx(report) -> bytes:
    doc = Document()
    _prepare(doc, report)
    doc.add_heading(report.title, level=1)
    doc.add_paragraph(f"Figures reported for {report.period_text} by the services the partnership commissions and funds.")
    if not report.published:
        doc.add_paragraph("Internal version: exact figures, not for publication.").runs[0].bold = True
    for group in report.groups:
        doc.add_heading(group.heading, level=2)
        for section in group.sections:
            doc.add_heading(section.heading, level=3)
            for block in section.blocks:
                if block.kind == "paragraph":
                    doc.add_paragraph(block.text)
                elif block.kind == "list":
                    doc.add_heading(block.text, level=4)
                    for item in block.items:
                        doc.add_paragraph(item, style="List Bullet")
                elif block.kind == "table":
                    if block.chart is not None:
                        _chart(doc, block.chart)
                    _table(doc, block.table)
    doc.add_heading("Notes", level=2)
    for note in report.notes:
        doc.add_paragraph(note, style="List Bullet")
    if not report.published:
        doc.add_heading("Appendix: validation findings (internal)", level=2)
        if report.appendix:
            _table(doc, report.appendix_table)
        else:
            doc.add_paragraph("The approved returns break no validation rule.")
    buffer = BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
