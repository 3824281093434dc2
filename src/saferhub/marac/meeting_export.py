"""The minutes of a MARAC meeting as a Word document. Cases are named by reference only."""
from __future__ import annotations

from docx import Document

from saferhub.core.formatting import datetime_uk
from saferhub.marac.meeting_selectors import Minutes


def _names(organisations) -> str:
    return ", ".join(o.name for o in organisations) or "None"


def minutes_docx(minutes: Minutes) -> Document:
    meeting = minutes.meeting
    document = Document()
    kind = " (emergency)" if meeting.kind == "emergency" else ""
    document.add_heading(f"{meeting.area.name} MARAC{kind}: minutes", level=0)
    document.add_paragraph("Confidential: shared for safeguarding under the MARAC information sharing arrangements.")
    facts = document.add_table(rows=0, cols=2)
    facts.style = "Table Grid"
    for label, value in (("Date and time", datetime_uk(meeting.starts_at)), ("Venue", meeting.venue or "Not recorded"),
                         ("Chair", meeting.chair or "Not recorded"), ("Status", meeting.get_status_display()),
                         ("Agencies present", _names(minutes.agencies_present)),
                         ("Apologies", _names(minutes.apologies)),
                         ("Information sent", _names(minutes.information_sent))):
        row = facts.add_row().cells
        row[0].text, row[1].text = label, value

    document.add_heading("Attendance and confidentiality statement", level=1)
    table = document.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Attendee", "Agency", "Role", "Confidentiality signed",
                                                 "Left after the children's cases")):
        cell.text = text
    for attendance in minutes.attendance:
        row = table.add_row().cells
        row[0].text = attendance.user.display_name if attendance.user_id else "Agency representative"
        row[1].text = attendance.organisation.name
        row[2].text = attendance.role or ""
        row[3].text = "Y" if attendance.confidentiality_signed_at else "N"
        row[4].text = "Yes" if attendance.left_after_children_cases else "No"

    document.add_heading("Incomplete actions from the last meeting", level=1)
    for label, items in minutes.incomplete:
        document.add_heading(label, level=2)
        if not items:
            document.add_paragraph("None")
        for item in items:
            action = item.action
            overdue = " (overdue)" if item.note == "Overdue" else ""
            document.add_paragraph(f"{action.referral.case.reference}: {action.organisation.name}, "
                                   f"due {action.deadline:%d/%m/%Y}{overdue}", style="List Bullet")

    document.add_heading("Cases", level=1)
    if not minutes.cases:
        document.add_paragraph("No cases were heard.")
    for item in minutes.cases:
        document.add_heading(f"{item.referral.case.reference} ({item.get_section_display()})", level=2)
        document.add_paragraph(item.minutes_note or "No note recorded.")

    if minutes.other_business:
        document.add_heading("Any other business", level=1)
        for item in minutes.other_business:
            document.add_paragraph(item.note, style="List Bullet")
    if meeting.minutes:
        document.add_heading("General minutes", level=1)
        document.add_paragraph(meeting.minutes)
    return document
